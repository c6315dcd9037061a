"""A small async Kubernetes client over one aiohttp session, logged in like kubectl:
the real ``Api`` of kube/port.py.

The operator's informers (kube/watch.py: ``watch`` decodes the stream) and its
writes (create, patch status, delete, post Events) and start-up lists all go
through it. It never blocks the event loop and keeps aiohttp with orjson (the
admission path's cost: `make bench`).

Credentials come from kube/login.py: any kubeconfig (client certificates inline or
in files, tokens, token files, basic auth, exec plugins, `proxy-url`,
`insecure-skip-tls-verify`, a `--context`) or the pod's service account, loaded
again when due (a plugin's expiry, a token file's minute). Each request sends the
current ones.

What an answer means is decided once (kube/errors.py): 429, 5xx and no answer are
retried a bounded number of times, except a create the server could have done
whose body names no object; a 401 logs in again and retries once; a 403 from RBAC
and credentials that stay refused are fatal: the one-line error goes to `on_fatal`
(the operator stops) and is raised, never retried. A 409 on create means it
exists (names are deterministic, Events' too), a 404 on delete that it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
import orjson

from mediajobs.kube.credentials import Credentials, Tls
from mediajobs.kube.errors import (
    ApiError,
    Forbidden,
    Unauthorized,
    classify,
    message_of,
    resendable,
)
from mediajobs.kube.errors import refused as refused_error
from mediajobs.kube.login import Login, LoginError
from mediajobs.kube.port import EVERYTHING, Body, Selection

__all__ = ["ApiError", "Body", "Kube"]

RETRIES = 5
RETRY_BASE_SECONDS = 0.2
EVENT_NAME_MAX = 253
PARTIAL_METADATA = "application/json;as=PartialObjectMetadata{};g=meta.k8s.io;v=v1"


def event_name(involved: Mapping[str, Any], type_: str, reason: str, message: str) -> str:
    """An Event's name from what it says about whom: a create sent again is a 409, not a
    second Event (kubectl's recorder names by time, which a retry does not repeat)."""
    said = "\0".join((str(involved["uid"]), type_, reason, message))
    digest = hashlib.sha256(said.encode()).hexdigest()[:16]
    return f"{str(involved['name'])[: EVENT_NAME_MAX - 17]}.{digest}"


def _accept(metadata_only: bool, *, listing: bool) -> str:
    """The media type of a list or watch: PartialObjectMetadata is the objects' metadata
    alone (a watch of labels reads a tenth of the bytes); a list asks for its List."""
    if not metadata_only:
        return "application/json"
    return PARTIAL_METADATA.format("List" if listing else "")


class Kube:
    """Async API access; use as ``async with Kube(login) as kube``."""

    def __init__(
        self,
        login: Login,
        *,
        connections: int = 64,
        on_fatal: Callable[[ApiError], None] | None = None,
    ) -> None:
        self.login = login
        self._connections = connections
        self._on_fatal = on_fatal
        self._session: aiohttp.ClientSession | None = None
        self._tls: tuple[Tls, ssl.SSLContext] | None = None
        self.writes = 0  # API writes issued (the write budget is measured, not guessed)
        self.reads = 0  # gets, list pages and watches issued

    async def __aenter__(self) -> Self:
        await self.login.current()  # a broken kubeconfig fails here, not on the first write
        self._session = aiohttp.ClientSession(
            headers={"Accept": "application/json"},
            connector=aiohttp.TCPConnector(limit=self._connections),
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

    def _ssl(self, credentials: Credentials) -> ssl.SSLContext:
        """The SSL context of CREDENTIALS, built again only when its files change (a new
        context opens new connections)."""
        if self._tls is None or self._tls[0] != credentials.tls:
            self._tls = (credentials.tls, credentials.tls.context())
        return self._tls[1]

    def _fail(self, error: ApiError, *, forbidden_stops: bool = True) -> ApiError:
        if isinstance(error, Forbidden) and not forbidden_stops:
            return error  # the caller's to handle (get's forbidden_stops)
        if error.fatal and self._on_fatal is not None:
            self._on_fatal(error)
        return error

    @contextlib.asynccontextmanager
    async def _open(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        timeout: aiohttp.ClientTimeout | None = None,
        forbidden_stops: bool = True,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """One request with the current credentials (logged in again once on a 401): the
        response of a success, or the classified error raised."""
        if self._session is None:
            raise RuntimeError("use Kube as an async context manager")
        try:
            credentials = await self.login.current()
        except LoginError as err:  # a plugin that fails when run again, a token file gone
            raise self._fail(Unauthorized(401, f"unauthorized: {err}")) from err
        refused = False
        try:
            while True:
                resp = await self._session.request(
                    method,
                    credentials.server + path,
                    data=data,
                    params=params,
                    headers={
                        "Content-Type": content_type,
                        "Accept": accept,
                        **credentials.headers(),
                    },
                    ssl=self._ssl(credentials),
                    proxy=credentials.proxy,
                    server_hostname=credentials.tls_server_name,
                    timeout=timeout or self._session.timeout,
                )
                if resp.status != 401 or refused:
                    break
                resp.release()
                refused = True
                error = refused_error(method, path, params, who=credentials.who)
                try:
                    credentials = await self.login.refused(credentials, error)
                except Unauthorized as dead:
                    raise self._fail(dead) from None
            async with resp:
                if resp.status >= 400:
                    message = message_of(await resp.read())
                    raise self._fail(
                        classify(resp.status, message, method, path, params, who=credentials.who),
                        forbidden_stops=forbidden_stops,
                    )
                yield resp
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ApiError(0, f"{type(err).__name__}: {err}") from err

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Body | None = None,
        params: Mapping[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        forbidden_stops: bool = True,
    ) -> Body:
        if method == "GET":
            self.reads += 1
        else:
            self.writes += 1
        data = orjson.dumps(body) if body is not None else None
        for attempt in range(RETRIES):
            try:
                async with self._open(
                    method,
                    path,
                    data=data,
                    params=params,
                    content_type=content_type,
                    accept=accept,
                    forbidden_stops=forbidden_stops,
                ) as resp:
                    raw = await resp.read()
                    return orjson.loads(raw) if raw else {}
            except ApiError as error:
                last = attempt == RETRIES - 1
                if not error.temporary or last or not resendable(method, body, error):
                    raise
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

    async def replace(self, path: str, body: Body) -> Body:
        """PUT: a 409 when BODY's resourceVersion is no longer the object's."""
        return await self.request("PUT", path, body=body)

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

    async def get(self, path: str, *, forbidden_stops: bool = True) -> Body | None:
        try:
            return await self.request("GET", path, forbidden_stops=forbidden_stops)
        except ApiError as err:
            if err.status == 404:
                return None
            raise

    async def list_all(self, path: str, selection: Selection = EVERYTHING) -> list[Body]:
        items, _ = await self.list_versioned(path, selection)
        return items

    async def list_versioned(
        self, path: str, selection: Selection = EVERYTHING, *, forbidden_stops: bool = True
    ) -> tuple[list[Body], str]:
        """The SELECTION of objects under PATH, and the list's resourceVersion."""
        items: list[Body] = []
        params = {"limit": "500", **selection.params}
        accept = _accept(selection.metadata_only, listing=True)
        while True:
            page = await self.request(
                "GET", path, params=params, accept=accept, forbidden_stops=forbidden_stops
            )
            items.extend(page.get("items") or [])  # null in an empty metadata list
            meta = page.get("metadata", {})
            if not meta.get("continue"):
                return items, str(meta.get("resourceVersion", ""))
            params["continue"] = meta["continue"]

    @contextlib.asynccontextmanager
    async def stream(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        read_timeout: float,
        accept: str = "application/json",
    ) -> AsyncIterator[aiohttp.StreamReader]:
        """A long GET (a watch): its body as it arrives; no total timeout, READ_TIMEOUT
        seconds of silence at most (a watch can die silently behind a proxy)."""
        timeout = aiohttp.ClientTimeout(total=None, sock_read=read_timeout)
        self.reads += 1
        async with self._open("GET", path, params=params, accept=accept, timeout=timeout) as resp:
            yield resp.content

    async def watch(
        self,
        path: str,
        selection: Selection,
        *,
        version: str,
        timeout_seconds: int,
        read_timeout: float,
    ) -> AsyncGenerator[Body, None]:
        """The watch events under PATH after VERSION, decoded, until the server ends it."""
        params = {
            "watch": "true",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
            **selection.params,
        }
        accept = _accept(selection.metadata_only, listing=False)
        async with self.stream(path, params, read_timeout=read_timeout, accept=accept) as body:
            pending = b""
            async for chunk in body.iter_any():
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    if line.strip():
                        yield orjson.loads(line)

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
        name = event_name(involved, type_, reason, message)
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
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
        events = f"/api/v1/namespaces/{namespace}/events"
        created, _ = await self.create(events, event)
        if created is None:  # said before (or this create sent twice): seen again now
            await self.merge_patch(f"{events}/{name}", {"lastTimestamp": stamp})
