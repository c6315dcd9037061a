"""The only code that talks to the Kubernetes API (async, one aiohttp session)."""

from mediajobs.kube.client import ApiError, Kube

__all__ = ["ApiError", "Kube"]
