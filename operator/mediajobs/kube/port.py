"""The operator's port to the Kubernetes API: the one protocol the controller talks through.

kube/client.py's ``Kube`` implements it over HTTP; the unit tests drive the
whole orchestration through an in-memory fake of it (tests/fakes/api.py). It
holds what the reconciler and the informers really use, and nothing else.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from mediajobs.api.common import GROUP, VERSION
from mediajobs.kube.errors import ApiError

__all__ = [
    "EVERYTHING",
    "Api",
    "ApiError",
    "Body",
    "LeaseApi",
    "Selection",
    "jobs_path",
    "leases_path",
    "mediajobs_path",
    "namespaces_path",
    "pods_path",
    "quotas_path",
]

Body = dict[str, Any]


def mediajobs_path(namespace: str | None = None, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}"
    path = f"{base}/namespaces/{namespace}/mediajobs" if namespace else f"{base}/mediajobs"
    return f"{path}/{name}" if name else path


def hitlsessions_path(namespace: str | None = None, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}"
    path = f"{base}/namespaces/{namespace}/hitlsessions" if namespace else f"{base}/hitlsessions"
    return f"{path}/{name}" if name else path


def mediajobschedules_path(namespace: str | None = None, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}"
    path = (
        f"{base}/namespaces/{namespace}/mediajobschedules"
        if namespace
        else f"{base}/mediajobschedules"
    )
    return f"{path}/{name}" if name else path


def secrets_path(namespace: str, name: str) -> str:
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


def jobs_path(namespace: str | None = None, name: str | None = None) -> str:
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs" if namespace else "/apis/batch/v1/jobs"
    return f"{path}/{name}" if name else path


def pods_path(namespace: str | None = None) -> str:
    return f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"


def quotas_path(namespace: str | None = None) -> str:
    return (
        f"/api/v1/namespaces/{namespace}/resourcequotas" if namespace else "/api/v1/resourcequotas"
    )


def namespaces_path(name: str | None = None) -> str:
    return f"/api/v1/namespaces/{name}" if name else "/api/v1/namespaces"


def leases_path(namespace: str, name: str | None = None) -> str:
    path = f"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
    return f"{path}/{name}" if name else path


@dataclass(frozen=True)
class Selection:
    """Which objects a list or a watch returns, and how much of each: LABELS and FIELDS
    are selectors; METADATA_ONLY asks for PartialObjectMetadata, the metadata alone
    (where labels are all that is read: a tenth of the bytes)."""

    labels: str | None = None
    fields: str | None = None
    metadata_only: bool = False

    @property
    def params(self) -> dict[str, str]:
        """The selectors as query parameters."""
        given = {"labelSelector": self.labels, "fieldSelector": self.fields}
        return {k: v for k, v in given.items() if v}


EVERYTHING = Selection()


class Api(Protocol):
    """Kubernetes, as the operator uses it. Temporary failures (429, 5xx, a lost
    connection) are retried inside; what is raised is an ``ApiError`` (kube/errors.py:
    a ``fatal`` one means retrying cannot help, and the operator stops)."""

    writes: int  # API writes issued (the write budget is measured, not guessed)

    @property
    def reads(self) -> int:
        """Gets, list pages and watches issued (a viewer of the web view adds none)."""
        ...

    async def create(self, path: str, body: Body) -> tuple[Body | None, bool]:
        """(the created object, True), or (None, False) when it already exists (a 409)."""
        ...

    async def merge_patch(self, path: str, patch: Body) -> Body: ...

    async def delete(self, path: str, *, propagation: str = "Background") -> bool:
        """True when deleted now, False when it was already gone (a 404)."""
        ...

    async def get(self, path: str, *, forbidden_stops: bool = True) -> Body | None:
        """The object, or None when there is none (a 404). FORBIDDEN_STOPS False: an RBAC
        refusal (``Forbidden``) is the caller's to handle, and does not stop the operator
        (Secrets, which the chart lets it read only where a namespace asks)."""
        ...

    async def list_versioned(
        self, path: str, selection: Selection = EVERYTHING, *, forbidden_stops: bool = True
    ) -> tuple[list[Body], str]:
        """The SELECTION of objects under PATH, and the list's resourceVersion (a watch
        starts there). FORBIDDEN_STOPS as get's (an informer of something optional)."""
        ...

    def watch(
        self,
        path: str,
        selection: Selection,
        *,
        version: str,
        timeout_seconds: int,
        read_timeout: float,
    ) -> AsyncGenerator[Body, None]:
        """The watch events of SELECTION under PATH after VERSION ({"type", "object"}),
        until the server ends the watch (after about TIMEOUT_SECONDS) or READ_TIMEOUT
        seconds pass in silence. An object that comes into a selection is ADDED, one
        that leaves it DELETED (the API server's rule)."""
        ...

    async def post_event(
        self,
        involved: Mapping[str, Any],
        *,
        type_: str,
        reason: str,
        message: str,
        now: datetime,
    ) -> None:
        """A core/v1 Event about INVOLVED (an object reference with uid)."""
        ...


class LeaseApi(Protocol):
    """What the leader election (controller/election.py) uses: read, create, and replace
    under optimistic concurrency."""

    async def get(self, path: str) -> Body | None: ...

    async def create(self, path: str, body: Body) -> tuple[Body | None, bool]: ...

    async def replace(self, path: str, body: Body) -> Body:
        """PUT BODY, whose metadata.resourceVersion must still be the object's: a 409
        (``ApiError``) when someone else changed it first."""
        ...
