"""Coalesced reports: what waiting jobs' statuses show of their place, and progress.

``queuePosition`` and ``waitingReason`` are cosmetic: rewriting every waiting
job on every admission would be O(N²) writes. A waiting job's first Queued
status goes out in queue order, keeping the report lane's backlog short; after
that its place is rewritten at most every ``POSITION_MIN_INTERVAL`` seconds,
all of them together at most ``POSITION_WRITES_PER_SECOND`` (/stats and the
queue snapshot are live). Progress from the workers is written at most once a
second per job, the newest value. Every limit is a ``RateLimit`` on the one
clock; these classes say which writes are due, the reconciler spawns them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container, Iterator, Mapping

from mediajobs.api.mediajob import Phase
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.decide import Wait
from mediajobs.scheduling.model import JobKey
from mediajobs.throttle import RateLimit

POSITION_MIN_INTERVAL = 10.0
POSITION_WRITES_PER_SECOND = 20.0
POSITION_SCANS_PER_SECOND = 2.0  # a look for owed position writes costs O(queue)
REPORT_BACKLOG = 64  # report writes waiting or in flight, at most, for first Queued statuses
PROGRESS_MIN_INTERVAL = 1.0

Shown = tuple[int | None, str | None]  # (queuePosition, waitingReason)


class Positions:
    def __init__(self) -> None:
        self._shown: dict[JobKey, Shown] = {}  # what this process wrote
        self._unshown: deque[JobKey] = deque()  # waiting, no Queued status written yet
        self._per_job: RateLimit[JobKey] = RateLimit(rate=1.0 / POSITION_MIN_INTERVAL)
        self._overall: RateLimit[None] = RateLimit(
            rate=POSITION_WRITES_PER_SECOND, burst=POSITION_WRITES_PER_SECOND
        )
        self._scan: RateLimit[None] = RateLimit(rate=POSITION_SCANS_PER_SECOND)
        self.owed = False  # some waiting job's status shows a stale place

    def decided(self, waits: Mapping[JobKey, Wait], records: Mapping[JobKey, Record]) -> None:
        """A new admission pass: the places of WAITS may all have moved."""
        self.owed = True
        self._unshown = deque(k for k in waits if records[k].phase != Phase.QUEUED)

    def unshown(
        self, waits: Mapping[JobKey, Wait], records: Mapping[JobKey, Record]
    ) -> Iterator[tuple[JobKey, Wait]]:
        """The waiting jobs whose first Queued status is owed, in queue order (each is
        taken off the list as it is yielded)."""
        while self._unshown:
            key = self._unshown.popleft()
            wait, record = waits.get(key), records.get(key)
            if wait is not None and record is not None and record.phase != Phase.QUEUED:
                yield key, wait

    def show(self, key: JobKey, wait: Wait, now: float) -> None:
        """WAIT is being written to KEY's status."""
        self._shown[key] = (wait.position, wait.reason)
        self._per_job.spend(key, now)

    def due(
        self,
        now: float,
        waits: Mapping[JobKey, Wait],
        records: Mapping[JobKey, Record],
        busy: Container[JobKey],
    ) -> list[JobKey]:
        """The waiting jobs whose place to rewrite now, front of the queue first."""
        if not self.owed or not self._scan.take(None, now):
            return []
        owed = sorted(
            (w.position, key)
            for key, w in waits.items()
            if key not in busy
            and records[key].phase == Phase.QUEUED
            and self._shown_of(key, records[key]) != (w.position, w.reason)
        )
        self.owed = bool(owed)
        out = []
        for _, key in owed:
            if self._per_job.ready_at(key, now) > now:
                continue
            if not self._overall.take(None, now):
                break
            out.append(key)
        return out

    def next_scan(self, now: float) -> float | None:
        return self._scan.ready_at(None, now) if self.owed else None

    def _shown_of(self, key: JobKey, record: Record) -> Shown:
        """What KEY's status shows: what we wrote, or what a status written before
        this process started says."""
        shown = self._shown.get(key)
        if shown is None:
            return record.status.queue_position, record.status.waiting_reason
        return shown

    def forget(self, key: JobKey) -> None:
        self._shown.pop(key, None)
        self._per_job.forget(key)


class Progress:
    def __init__(self) -> None:
        self._values: dict[JobKey, int] = {}  # newest value, not written yet
        self._limit: RateLimit[JobKey] = RateLimit(rate=1.0 / PROGRESS_MIN_INTERVAL)

    def offer(self, key: JobKey, value: int) -> None:
        self._values[key] = value

    def due(self, now: float, busy: Container[JobKey]) -> list[tuple[JobKey, int]]:
        """The values to write now (taken off the pending ones)."""
        out = []
        for key, value in list(self._values.items()):
            if key in busy or self._limit.ready_at(key, now) > now:
                continue
            del self._values[key]
            self._limit.spend(key, now)
            out.append((key, value))
        return out

    def next_at(self, now: float, busy: Container[JobKey]) -> float | None:
        """When the next pending value may be written (a busy job's wakes the loop when
        its write is done)."""
        return min(
            (self._limit.ready_at(k, now) for k in self._values if k not in busy), default=None
        )

    def forget(self, key: JobKey) -> None:
        self._values.pop(key, None)
        self._limit.forget(key)
