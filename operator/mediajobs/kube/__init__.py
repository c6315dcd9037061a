"""The only code that talks to the Kubernetes API (async, one aiohttp session)."""

from mediajobs.kube.client import Kube
from mediajobs.kube.errors import ApiError
from mediajobs.kube.login import Login, LoginError

__all__ = ["ApiError", "Kube", "Login", "LoginError"]
