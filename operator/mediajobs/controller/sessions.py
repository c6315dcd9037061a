"""The MediaJob side of HitlSessions: what the reconciler knows of them, and its writes.

A MediaJob that waits for a person names the HitlSession of its (creatorProfile,
platform) in ``status.hitlSession`` (lifecycle/statuses.py). The reconciler plans
it with that session (lifecycle/plan.py): OpenSession creates it (replacing one
that closed before the job began to wait), JoinSession adds the job to its
``waitingJobs``; a resolved session queues the job again, an expired or cancelled
one fails it. The session's phase is the session controller's (controller/hitl.py);
``waitingJobs`` is written here only, one write per session at a time, each built
on the answer to the last, so that two jobs joining at once are both listed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from mediajobs.api.hitl import HitlSessionSpec
from mediajobs.jobs.naming import CookiesRef, hitl_session_name
from mediajobs.kube.port import Api, hitlsessions_path
from mediajobs.lifecycle.hitl import Session, session_body, session_from_body
from mediajobs.lifecycle.logins import login_ref
from mediajobs.lifecycle.records import Record, resource_version_of
from mediajobs.scheduling.model import JobKey

log = logging.getLogger("mediajobs.sessions")

SessionKey = tuple[str, str]  # (namespace, name)


class Sessions:
    def __init__(self, api: Api, observed: Callable[[SessionKey], None]) -> None:
        self.api = api
        self.observed = observed  # a session changed: plan the jobs that name it
        self.known: dict[SessionKey, Session] = {}
        self.versions: dict[SessionKey, int] = {}
        self.locks: dict[SessionKey, asyncio.Lock] = {}

    def observe(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        key = (meta["namespace"], meta["name"])
        version = resource_version_of(meta)
        if version < self.versions.get(key, 0):
            return  # older than what is known (a replaced session's deletion, say)
        if event_type == "DELETED":
            self.known.pop(key, None)
            self.versions.pop(key, None)
        else:
            self.known[key] = session_from_body(body)
            self.versions[key] = version
        self.observed(key)

    def of(self, record: Record) -> Session | None:
        name = record.status.hitl_session
        return self.known.get((record.key.namespace, name)) if name else None

    def cookies(self, record: Record) -> CookiesRef | None:
        """Where RECORD's login cookies are (login_ref), as its login's session says."""
        spec, session = record.spec, None
        if spec.creator_profile is not None and spec.platform is not None:
            name = hitl_session_name(spec.creator_profile, spec.platform)
            session = self.known.get((record.key.namespace, name))
        return login_ref(record, session)

    @staticmethod
    def naming(records: Iterable[Record], key: SessionKey) -> list[JobKey]:
        """The MediaJobs whose status names the session KEY."""
        return [
            r.key for r in records if r.status.hitl_session == key[1] and r.key.namespace == key[0]
        ]

    async def open(self, record: Record, name: str, spec: HitlSessionSpec) -> None:
        """Create the session NAME for RECORD, replacing one that has closed (the plan
        saw it closed before the job began to wait)."""
        namespace = record.key.namespace
        key = (namespace, name)
        async with self.locks.setdefault(key, asyncio.Lock()):
            path = hitlsessions_path(namespace)
            created, _ = await self.api.create(path, session_body(namespace, name, spec))
            if created is None:  # 409: there is one
                current = await self.api.get(hitlsessions_path(namespace, name))
                if current is not None and session_from_body(current).open:
                    self.observe("MODIFIED", current)
                    return
                log.info("%s/%s: replacing the closed session for %s", namespace, name, record.key)
                await self.api.delete(hitlsessions_path(namespace, name))
                created, _ = await self.api.create(path, session_body(namespace, name, spec))
            if created is not None:
                self.observe("ADDED", created)

    async def join(self, record: Record, name: str) -> None:
        """List RECORD in the session's waitingJobs (built on the latest answer)."""
        key = (record.key.namespace, name)
        async with self.locks.setdefault(key, asyncio.Lock()):
            session = self.known.get(key)
            if session is None or not session.open:
                return  # planned again: opened first
            waiting = list(session.status.waiting_jobs or [])
            if record.key.name in waiting:
                return
            path = hitlsessions_path(*key) + "/status"
            patch = {"status": {"waitingJobs": [*waiting, record.key.name]}}
            self.observe("MODIFIED", await self.api.merge_patch(path, patch))
