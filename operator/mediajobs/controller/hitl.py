"""The HitlSession controller: kopf's per-object event handler, and a sweep.

HitlSessions are rare, so kopf's event handler (registered by controller/operator.py)
suits them where MediaJobs need the reconciler's loop. Each event plans the session
(lifecycle/hitl.py) and carries the step out: the status patch, the Event, the
metrics. An open session is planned again every ``SWEEP_SECONDS`` by the sweep, so
that it expires on time and cookies stored after ``spec.resolution`` was set are
seen (kopf's timers would put a finalizer on every session; this does not).

The cookies are read from the Secret only to check them: they never reach a
status, an Event or a log line (only the check's verdict does, which names cookies,
never their values).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from mediajobs.api.hitl import HitlPhase
from mediajobs.clock import Clock
from mediajobs.controller.events import announce
from mediajobs.controller.logins import read_secret
from mediajobs.controller.metrics import Metrics
from mediajobs.kube.port import Api, hitlsessions_path
from mediajobs.lifecycle import hitl
from mediajobs.lifecycle.hitl import Session, cookies_in
from mediajobs.lifecycle.records import resource_version_of

log = logging.getLogger("mediajobs.hitl")

SWEEP_SECONDS = 5.0  # how late an expiry (or a Secret written after the resolution) is seen


class SessionController:
    def __init__(
        self, api: Api, clock: Clock, metrics: Metrics, leading: Callable[[], bool]
    ) -> None:
        self.api, self.clock, self.metrics, self.leading = api, clock, metrics, leading
        self.known: dict[tuple[str, str], Mapping[str, Any]] = {}  # the latest bodies
        self.locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def event(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        """What kopf's event handler hands over: remember the session, plan it."""
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if event_type == "DELETED":
            self.known.pop(key, None)
            self.locks.pop(key, None)
            self._count()
            return
        known = self.known.get(key)
        if known is None or resource_version_of(body["metadata"]) >= resource_version_of(
            known["metadata"]
        ):
            self.known[key] = body  # else older than our own write's answer: keep that
        await self.reconcile(key)

    async def sweep(self) -> None:
        """Plan every open session again, every SWEEP_SECONDS (until cancelled)."""
        while True:
            await self.clock.sleep(SWEEP_SECONDS)
            for key, body in list(self.known.items()):
                if (body.get("status") or {}).get("phase") in hitl.OPEN and self.leading():
                    # Read afresh: an event kopf did not hand over is seen all the same.
                    current = await self.api.get(hitlsessions_path(*key))
                    if current is None:
                        await self.event("DELETED", body)
                    else:
                        await self.event("MODIFIED", current)

    async def reconcile(self, key: tuple[str, str]) -> None:
        if not self.leading():
            return  # only the leader writes
        async with self.locks.setdefault(key, asyncio.Lock()):
            body = self.known.get(key)
            if body is None:
                return
            session = hitl.session_from_body(body)
            cookies, unreadable = (None, None)
            if session.spec.resolution:
                cookies, unreadable = await self._cookies(session)
            step = hitl.plan(session, cookies, self.clock.now(), unreadable=unreadable)
            if step.status is not None:
                patch = step.status.model_dump(
                    by_alias=True, mode="json", include=step.status.model_fields_set
                )
                path = hitlsessions_path(session.namespace, session.name) + "/status"
                self.known[key] = await self.api.merge_patch(path, {"status": patch})
                if step.status.phase == HitlPhase.RESOLVED:
                    opened = (self.clock.now() - session.created).total_seconds()
                    self.metrics.hitl_resolve.observe(max(opened, 0.0))
            if step.event is not None:
                await announce(self.api, log, body, step.event, self.clock.now())
            self._count()

    async def _cookies(self, session: Session) -> tuple[bytes | None, str | None]:
        """The stored cookies of SESSION (None: the Secret or its key is missing), and why
        they could not be read (RBAC: said in the status; it does not stop the operator)."""
        ref = session.credentials
        secret, refused = await read_secret(self.api, session.namespace, ref.secret)
        return cookies_in(secret, ref.key), refused

    def _count(self) -> None:
        counts = dict.fromkeys(HitlPhase, 0)
        for body in self.known.values():
            phase = (body.get("status") or {}).get("phase")
            if phase is not None:
                counts[HitlPhase(phase)] += 1
        for phase, count in counts.items():
            self.metrics.hitl_sessions.labels(phase=phase.value).set(count)
