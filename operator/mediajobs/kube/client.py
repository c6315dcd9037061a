"""A small async Kubernetes client over one aiohttp session.

kopf watches; this client writes (create, patch status, delete, post Events)
and lists at start-up. It never blocks the event loop, retries what is
temporary (429, 5xx, connection errors) a bounded number of times, treats a 409
on create as "it exists" (names are deterministic) and a 404 on delete as done.
Credentials come from kopf's login (a kubeconfig or the pod's service account).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import uuid4

import aiohttp
import kopf
import orjson

from mediajobs.api.common import GROUP, VERSION

Body = dict[str, Any]

RETRIES = 5
RETRY_BASE_SECONDS = 0.2


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    @property
    def temporary(self) -> bool:
        return self.status == 429 or self.status >= 500 or self.status == 0


def _message(raw: bytes) -> str:
    """An error answer's message: a Status object's, or the text (a proxy's, a plain 404)."""
    try:
        status = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode(errors="replace").strip()[:500]
    return str(status.get("message", status)) if isinstance(status, dict) else str(status)


def mediajobs_path(namespace: str | None = None, name: str | None = None) -> str:
    base = f"/apis/{GROUP}/{VERSION}"
    path = f"{base}/namespaces/{namespace}/mediajobs" if namespace else f"{base}/mediajobs"
    return f"{path}/{name}" if name else path


def jobs_path(namespace: str | None = None, name: str | None = None) -> str:
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs" if namespace else "/apis/batch/v1/jobs"
    return f"{path}/{name}" if name else path


def _ssl_context(info: kopf.ConnectionInfo) -> ssl.SSLContext | bool:
    if info.insecure:
        return False
    ctx = ssl.create_default_context(
        cafile=info.ca_path,
        cadata=base64.b64decode(info.ca_data).decode() if info.ca_data else None,
    )
    if info.certificate_path and info.private_key_path:
        ctx.load_cert_chain(info.certificate_path, info.private_key_path)
    return ctx


class Kube:
    """Async API access; use as ``async with Kube(info) as kube``."""

    def __init__(self, info: kopf.ConnectionInfo, *, connections: int = 64) -> None:
        self.info = info
        self.server = info.server.rstrip("/")
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None
        self.writes = 0  # API writes issued (the write budget is measured, not guessed)

    async def __aenter__(self) -> Self:
        headers = {"Accept": "application/json"}
        if self.info.token:
            headers["Authorization"] = f"Bearer {self.info.token}"
        auth = (
            aiohttp.BasicAuth(self.info.username, self.info.password or "")
            if self.info.username
            else None
        )
        self._session = aiohttp.ClientSession(
            headers=headers,
            auth=auth,
            connector=aiohttp.TCPConnector(ssl=_ssl_context(self.info), limit=self._connections),
            timeout=aiohttp.ClientTimeout(total=60),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Body | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Body:
        if self._session is None:
            raise RuntimeError("use Kube as an async context manager")
        if method != "GET":
            self.writes += 1
        data = orjson.dumps(body) if body is not None else None
        for attempt in range(RETRIES):
            try:
                async with self._session.request(
                    method,
                    self.server + path,
                    data=data,
                    params=params,
                    headers={"Content-Type": content_type},
                ) as resp:
                    raw = await resp.read()
                    if resp.status < 400:
                        return orjson.loads(raw) if raw else {}
                    error = ApiError(resp.status, _message(raw))
            except (aiohttp.ClientError, TimeoutError) as err:
                error = ApiError(0, f"{type(err).__name__}: {err}")
            if not error.temporary or attempt == RETRIES - 1:
                raise error
            await asyncio.sleep(RETRY_BASE_SECONDS * 2**attempt)
        raise AssertionError("unreachable")

    async def create(self, path: str, body: Body) -> tuple[Body | None, bool]:
        """(the created object, True), or (None, False) when it already exists."""
        try:
            return await self.request("POST", path, body=body), True
        except ApiError as err:
            if err.status == 409:
                return None, False
            raise

    async def merge_patch(self, path: str, patch: Body) -> Body:
        return await self.request(
            "PATCH", path, body=patch, content_type="application/merge-patch+json"
        )

    async def delete(self, path: str, *, propagation: str = "Background") -> bool:
        """True when deleted now, False when it was already gone."""
        try:
            await self.request(
                "DELETE",
                path,
                body={
                    "kind": "DeleteOptions",
                    "apiVersion": "v1",
                    "propagationPolicy": propagation,
                },
            )
        except ApiError as err:
            if err.status == 404:
                return False
            raise
        return True

    async def get(self, path: str) -> Body | None:
        try:
            return await self.request("GET", path)
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    async def list_all(self, path: str, *, label_selector: str | None = None) -> list[Body]:
        items, _ = await self.list_versioned(path, label_selector=label_selector)
        return items

    async def list_versioned(
        self, path: str, *, label_selector: str | None = None
    ) -> tuple[list[Body], str]:
        """Every object under PATH, and the list's resourceVersion (a watch starts there)."""
        items: list[Body] = []
        params = {"limit": "500"}
        if label_selector:
            params["labelSelector"] = label_selector
        while True:
            page = await self.request("GET", path, params=params)
            items.extend(page.get("items", []))
            meta = page.get("metadata", {})
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion", ""))
            params["continue"] = meta["continue"]

    @contextlib.asynccontextmanager
    async def stream(
        self, path: str, params: Mapping[str, str], *, read_timeout: float
    ) -> AsyncIterator[aiohttp.StreamReader]:
        """A long GET (a watch): its body as it arrives; no total timeout, READ_TIMEOUT
        seconds of silence at most (a watch can die silently behind a proxy)."""
        if self._session is None:
            raise RuntimeError("use Kube as an async context manager")
        try:
            async with self._session.get(
                self.server + path,
                params=params,
                timeout=aiohttp.ClientTimeout(total=None, sock_read=read_timeout),
            ) as resp:
                if resp.status >= 400:
                    raise ApiError(resp.status, _message(await resp.read()))
                yield resp.content
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ApiError(0, f"{type(err).__name__}: {err}") from err

    async def post_event(
        self,
        involved: Mapping[str, Any],
        *,
        type_: str,
        reason: str,
        message: str,
        now: datetime,
        component: str = "mediajobs",
    ) -> None:
        """A core/v1 Event about INVOLVED (an object reference with uid)."""
        namespace = involved["namespace"]
        stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{involved['name']}.{uuid4().hex[:12]}", "namespace": namespace},
            "involvedObject": dict(involved),
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": component,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        await self.request("POST", f"/api/v1/namespaces/{namespace}/events", body=event)
