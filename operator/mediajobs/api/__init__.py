"""The API: pydantic models that are the CRD contract (group mediajobs.dev)."""

from mediajobs.api.common import GROUP, VERSION, Category, Operation
from mediajobs.api.hitl import HitlSession, HitlSessionSpec, HitlSessionStatus
from mediajobs.api.mediajob import MediaJob, MediaJobSpec, MediaJobStatus

__all__ = [
    "GROUP",
    "VERSION",
    "Category",
    "HitlSession",
    "HitlSessionSpec",
    "HitlSessionStatus",
    "MediaJob",
    "MediaJobSpec",
    "MediaJobStatus",
    "Operation",
]
