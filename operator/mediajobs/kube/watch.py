"""Informers: list once, then watch from the list's resourceVersion, forever.

Each event goes to a plain callback on the event loop's thread, decoded with
orjson (kube/client.py's watch). This is the admission path's input, so it is
kept lean: with kopf's event handlers in its place (a worker task, a Body
wrapper, cause detection and a logger per event, the standard library's JSON),
the operator spent 6.3 ms of CPU per admission; with these informers, 1.2-1.6 ms
(`make bench`, throughput phase). kopf keeps the operator's lifecycle and the
rare per-object handlers. An informer reads through the port (kube/port.py), so
unit tests feed it from the in-memory fake.

The client-go informer's rules: a watch resumes from the last resourceVersion it
saw (bookmarks keep it fresh while nothing changes); "410 Gone" means that
version is compacted away, so list again and report as DELETED what the new list
no longer holds; a silent connection is dropped after a read timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mediajobs.clock import Clock, SystemClock
from mediajobs.kube.port import EVERYTHING, Api, ApiError, Body, Selection

log = logging.getLogger("mediajobs.watch")

Handler = Callable[[str, Mapping[str, Any]], None]  # (ADDED | MODIFIED | DELETED, object)

WATCH_SECONDS = 300  # the server ends each watch after this; the informer watches again
READ_TIMEOUT = WATCH_SECONDS + 30  # bookmarks come about once a minute
RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)  # after a failed list or watch, growing


class Gone(Exception):
    """The watch's resourceVersion is too old: list again."""


def _identity(body: Mapping[str, Any]) -> Body:
    """What a DELETED event made up after a relist carries: the object's metadata."""
    meta = body["metadata"]
    return {
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta["uid"],
            "labels": dict(meta.get("labels") or {}),
        }
    }


@dataclass
class Informer:
    api: Api
    path: str  # a collection, e.g. /apis/batch/v1/namespaces/ns/jobs
    handle: Handler
    selection: Selection = EVERYTHING  # an object that leaves it is DELETED
    clock: Clock = field(default_factory=SystemClock)  # waits between failed attempts
    synced: asyncio.Event = field(default_factory=asyncio.Event)  # the first list is handled
    # What it feeds is optional (namespaces' weight labels): RBAC refusing its first list
    # ends it with a warning, synced and empty, instead of stopping the operator.
    optional: bool = False

    def __post_init__(self) -> None:
        self._known: dict[str, Body] = {}  # uid -> identity, to report deletions a relist finds
        self.version = ""  # the newest resourceVersion seen: a watch resumes from there
        self.lists = 0  # lists made: 1, and one more per relist ("410 Gone")

    async def run(self) -> None:
        """List and watch until cancelled (run again, it resumes the watch where it
        stopped). A refused first list (403, 404) raises: the operator cannot work
        without it; so does a fatal error at any time (RBAC forbids the watch, the
        credentials stay refused: kube/errors.py), except the first list's 403 of an
        optional informer. A 401 has been dealt with by then: the client logged in
        again and watched again."""
        failures = 0
        listed = self.synced.is_set()
        while True:
            try:
                if not listed:
                    if not await self._list():
                        return
                    listed = True
                await self._watch()
                failures = 0  # the server ended the watch: watch again from where it was
            except Gone as gone:
                log.info("%s: %s; listing again", self.path, gone)
                listed = False
            except ApiError as err:
                if err.fatal or (not self.synced.is_set() and not err.temporary):
                    raise
                if err.status == 410:
                    listed = False
                delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
                failures += 1
                log.warning("%s: %s; again in %gs", self.path, err, delay)
                await self.clock.sleep(delay)

    async def _list(self) -> bool:
        """List and hand each object over; False: an optional informer RBAC refused."""
        may_refuse = self.optional and not self.synced.is_set()
        try:
            items, self.version = await self.api.list_versioned(
                self.path, self.selection, forbidden_stops=not may_refuse
            )
        except ApiError as err:
            if not (may_refuse and err.status == 403):
                raise
            log.warning("%s: %s; going on without it", self.path, err)
            self.synced.set()
            return False
        self.lists += 1
        seen: dict[str, Body] = {}
        for body in items:
            seen[body["metadata"]["uid"]] = _identity(body)
            self.handle("ADDED", body)
        for uid, identity in self._known.items():
            if uid not in seen:
                self.handle("DELETED", identity)
        self._known = seen
        self.synced.set()
        return True

    async def _watch(self) -> None:
        events = self.api.watch(
            self.path,
            self.selection,
            version=self.version,
            timeout_seconds=WATCH_SECONDS,
            read_timeout=READ_TIMEOUT,
        )
        async with contextlib.aclosing(events):
            async for event in events:
                self._event(event)

    def _event(self, event: Mapping[str, Any]) -> None:
        kind, obj = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise Gone(obj.get("message", "resourceVersion too old"))
            raise ApiError(int(obj.get("code") or 0), str(obj.get("message", obj)))
        meta = obj.get("metadata") or {}
        self.version = str(meta.get("resourceVersion", self.version))
        if kind == "BOOKMARK" or kind not in ("ADDED", "MODIFIED", "DELETED"):
            return
        if kind == "DELETED":
            self._known.pop(meta.get("uid", ""), None)
        elif meta["uid"] not in self._known:  # what identifies it never changes
            self._known[meta["uid"]] = _identity(obj)
        self.handle(kind, obj)
