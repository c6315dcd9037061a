"""Leader election among operator replicas, on a coordination.k8s.io/v1 Lease.

client-go's algorithm and defaults (lease 15 s, renew deadline 10 s, retry 2 s;
config ``leaderElection``). A replica reads the Lease; when nobody holds it, or
its holder has not renewed it for a lease duration *as this replica measured
it*, the replica writes itself in as holder, under optimistic concurrency (the
resourceVersion it read; a 409 means another won). The holder renews every
retry period by writing the same way (a 409 that shows another holder: lost).
Only the holder writes: ``leading()`` is checked before every pass of the
reconciler and, by ``LeaderOnly``, before every API write it sends.

No double admission, even briefly: the leader stops writing the moment
``renewDeadline`` has passed since it *sent* its last successful renewal. A
standby dates a change of the Lease at the earliest moment it can have happened
(after it last read the old one) but never more than a retry period before it
read the new one, and takes over a lease duration after that. So the leader
stops at least ``leaseDuration - renewDeadline - retryPeriod`` (3 s) before a
standby can start, which is the time an already-sent write has to land
(the config refuses timings without this margin).

Clocks: each replica measures intervals on its own monotonic clock; no replica
compares its time with a timestamp another wrote (``renewTime`` is for people),
so wall-clock skew between nodes does not matter. What is assumed is that clocks
*run* at the same rate within the margin's share of the lease (20 %): any real
clock does, to parts per million. Like client-go's, this is not fencing: a
write the API server receives more than the margin after it was sent (a stalled
connection) could still land after a takeover.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any

from mediajobs.clock import Clock
from mediajobs.config import LeaderElection
from mediajobs.kube.errors import Fatal
from mediajobs.kube.port import (
    EVERYTHING,
    Api,
    ApiError,
    Body,
    LeaseApi,
    Selection,
    leases_path,
)

log = logging.getLogger("mediajobs.election")


def identity() -> str:
    """Who this replica is: its pod's name, else hostname_pid (unique among live ones)."""
    return os.environ.get("POD_NAME") or f"{socket.gethostname()}_{os.getpid()}"


def holder_of(lease: Mapping[str, Any] | None) -> str:
    return str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")


def _micro(now: datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # a MicroTime


def claimed(
    old: Body | None, name: str, namespace: str, *, who: str, duration: float, now: datetime
) -> Body:
    """The Lease as WHO writes it to take or keep it (client-go's record), over OLD."""
    spec = (old or {}).get("spec") or {}
    kept = holder_of(old) == who
    moved = old is not None and not kept
    meta: Body = {"name": name, "namespace": namespace}
    if old is not None:
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {
            "holderIdentity": who,
            "leaseDurationSeconds": math.ceil(duration),
            "acquireTime": spec.get("acquireTime") if kept else _micro(now),
            "renewTime": _micro(now),
            "leaseTransitions": int(spec.get("leaseTransitions") or 0) + (1 if moved else 0),
        },
    }


def released(old: Body, now: datetime) -> Body:
    """OLD given up: no holder, so a standby takes it on its next look (client-go's)."""
    spec = {k: v for k, v in old["spec"].items() if k != "holderIdentity"}
    spec.update(leaseDurationSeconds=1, renewTime=_micro(now))
    return {**old, "spec": spec}


class Elector:
    def __init__(
        self, api: LeaseApi, settings: LeaderElection, namespace: str, who: str, clock: Clock
    ) -> None:
        self.api, self.settings, self.clock = api, settings, clock
        self.name, self.namespace, self.identity = settings.lease_name, namespace, who
        self.path = leases_path(namespace, self.name)
        self.seen: Body | None = None  # the Lease as last read or written
        self._seen_at = 0.0  # monotonic: the earliest its last change can have happened
        self._asked_at: float | None = None  # when the last read was sent
        self._deadline: float | None = None  # monotonic: leading until then
        self._resigned = False

    # ---- what others ask --------------------------------------------------------------

    def _holds(self) -> bool:
        return self._deadline is not None and self.clock.monotonic() < self._deadline

    def leading(self) -> bool:
        """Whether this replica may write now (checked before each write)."""
        return self._holds() and not self._resigned

    @property
    def holder(self) -> str:
        """Who holds the Lease, as last seen ("" when nobody)."""
        return holder_of(self.seen)

    # ---- the state machine ------------------------------------------------------------

    async def acquire(self) -> None:
        """Until this replica holds the Lease."""
        while True:
            try:
                await self._within(self._try_acquire(), self.settings.renew_deadline_seconds)
            except ApiError as err:
                if err.fatal:
                    raise
                log.warning("lease %s: %s", self.path, err)
            if self._holds():
                log.info("holding lease %s/%s as %s", self.namespace, self.name, self.identity)
                return
            await self.clock.sleep(self._pause())

    async def keep(self) -> str:
        """Renew every retry period while it can; why it stopped leading."""
        while True:
            await self.clock.sleep(self.settings.retry_period_seconds)
            if self._resigned:
                return "resigned"
            remaining = (self._deadline or 0.0) - self.clock.monotonic()
            if remaining > 0:
                try:
                    await self._within(self._renew(), remaining)
                except ApiError as err:
                    if err.fatal:
                        raise
                    log.warning("lease %s: renewing: %s", self.path, err)  # tried again
            if self.holder != self.identity:
                return f"{self.holder or 'nobody'} holds the lease now"
            if not self._holds():
                return f"not renewed within {self.settings.renew_deadline_seconds:g} s"

    def resign(self) -> None:
        """Write nothing more as leader (clean shutdown begins)."""
        self._resigned = True

    async def release(self) -> None:
        """Give the Lease up when still held, so a standby takes over at once."""
        if not self._holds() or self.seen is None:
            return
        self._deadline = None
        try:
            await self.api.replace(self.path, released(self.seen, self.clock.now()))
        except ApiError as err:
            log.info("lease %s not released (%s): it expires instead", self.path, err)

    # ---- inside -----------------------------------------------------------------------

    async def _try_acquire(self) -> None:
        asked = self.clock.monotonic()
        current = await self.api.get(self.path)
        if current is None:
            await self._claim(None)
            return
        self._saw(current, asked)
        held_by_another = self.holder not in ("", self.identity)
        expires = self._seen_at + self.settings.lease_duration_seconds
        if held_by_another and self.clock.monotonic() < expires:
            return
        await self._claim(current)

    async def _renew(self) -> None:
        try:
            await self._claim(self.seen)
        except ApiError as err:
            if err.status != 409:
                raise
            # Another wrote it, or our own earlier write landed after all: read who holds it.
            current = await self.api.get(self.path)
            self.seen = current
            if holder_of(current) != self.identity:
                self._deadline = None

    async def _claim(self, current: Body | None) -> None:
        """Write this replica in as holder over CURRENT; leading for a renew deadline from
        when the write was sent. A 409 (someone else won) leaves things as they were."""
        body = claimed(
            current,
            self.name,
            self.namespace,
            who=self.identity,
            duration=self.settings.lease_duration_seconds,
            now=self.clock.now(),
        )
        sent = self.clock.monotonic()
        if current is None:
            created, _ = await self.api.create(leases_path(self.namespace), body)
            if created is None:
                return  # another created it first
            written = created
        else:
            try:
                written = await self.api.replace(self.path, body)
            except ApiError as err:
                if err.status != 409 or self._holds():
                    raise
                return  # another won the race
        self.seen, self._seen_at = written, sent
        self._deadline = sent + self.settings.renew_deadline_seconds

    def _saw(self, current: Body, asked: float) -> None:
        """Date a change of the Lease: after the last read that showed the old one, and no
        earlier than a retry period before this read returned (the docstring's proof)."""
        now = self.clock.monotonic()
        version = current["metadata"].get("resourceVersion")
        if self.seen is None or version != self.seen["metadata"].get("resourceVersion"):
            earliest = now - self.settings.retry_period_seconds
            self._seen_at = now if self._asked_at is None else max(self._asked_at, earliest)
        self.seen = current
        self._asked_at = asked

    def _pause(self) -> float:
        """Until the next look: a retry period, or less when the Lease expires sooner."""
        retry = self.settings.retry_period_seconds
        expires = self._seen_at + self.settings.lease_duration_seconds - self.clock.monotonic()
        return min(retry, expires) if self.seen is not None and expires > 0 else retry

    async def _within(self, work: Coroutine[Any, Any, None], seconds: float) -> bool:
        """Run WORK for at most SECONDS on the clock; whether it finished (its error raised)."""
        task = asyncio.ensure_future(work)
        done = asyncio.Event()
        task.add_done_callback(lambda _: done.set())
        await self.clock.wait(done, seconds)
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return False
        task.result()
        return True


class NotLeading(Fatal):
    """A write refused because this replica does not lead (now): never retried."""


class LeaderOnly:
    """The port (kube/port.py), sending writes only while LEADING says so: the check is
    made as each write leaves, so a write decided before the renew deadline and sent
    after it is refused."""

    def __init__(self, api: Api, leading: Callable[[], bool]) -> None:
        self.api, self.leading = api, leading

    @property
    def writes(self) -> int:
        return self.api.writes

    @writes.setter
    def writes(self, value: int) -> None:
        self.api.writes = value

    @property
    def reads(self) -> int:
        return self.api.reads

    def _check(self, verb: str, path: str) -> None:
        if not self.leading():
            raise NotLeading(0, f"not the leader: {verb} {path} not sent")

    async def create(self, path: str, body: Body) -> tuple[Body | None, bool]:
        self._check("create", path)
        return await self.api.create(path, body)

    async def merge_patch(self, path: str, patch: Body) -> Body:
        self._check("patch", path)
        return await self.api.merge_patch(path, patch)

    async def delete(self, path: str, *, propagation: str = "Background") -> bool:
        self._check("delete", path)
        return await self.api.delete(path, propagation=propagation)

    async def post_event(
        self,
        involved: Mapping[str, Any],
        *,
        type_: str,
        reason: str,
        message: str,
        now: datetime,
    ) -> None:
        self._check("create", f"/api/v1/namespaces/{involved['namespace']}/events")
        await self.api.post_event(involved, type_=type_, reason=reason, message=message, now=now)

    async def get(self, path: str, *, forbidden_stops: bool = True) -> Body | None:
        return await self.api.get(path, forbidden_stops=forbidden_stops)

    async def list_versioned(
        self, path: str, selection: Selection = EVERYTHING, *, forbidden_stops: bool = True
    ) -> tuple[list[Body], str]:
        return await self.api.list_versioned(path, selection, forbidden_stops=forbidden_stops)

    def watch(
        self,
        path: str,
        selection: Selection,
        *,
        version: str,
        timeout_seconds: int,
        read_timeout: float,
    ) -> AsyncGenerator[Body, None]:
        return self.api.watch(
            path,
            selection,
            version=version,
            timeout_seconds=timeout_seconds,
            read_timeout=read_timeout,
        )
