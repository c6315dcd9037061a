"""The only code that talks to the Kubernetes API: the port (``Api``) and its HTTP client."""

from mediajobs.kube.client import Kube
from mediajobs.kube.errors import ApiError
from mediajobs.kube.login import Login, LoginError
from mediajobs.kube.port import Api

__all__ = ["Api", "ApiError", "Kube", "Login", "LoginError"]
