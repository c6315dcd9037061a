"""The effects runtime: writes on their lanes, timers, and the one clock.

The reconciler's loop decides; what it decides to write runs here as a task on
a writer slot of its lane (controller/lanes.py: admission first). A MediaJob
with a write in flight is *busy*: it is not planned again until the write is
done, so two steps for one MediaJob never race. A failed write is forgotten and
its MediaJob planned again after a pause. Timers plan a MediaJob again at a
wall-clock time (startAfter, retryAfter, a TTL); alarms wake the loop at a
monotonic time (when a throttle lets the next write through).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from mediajobs.clock import Clock
from mediajobs.controller.lanes import Lane, Lanes
from mediajobs.kube.port import ApiError
from mediajobs.scheduling.model import JobKey

log = logging.getLogger("mediajobs.effects")

RETRY_AFTER_API_ERROR = 5.0


class Effects:
    def __init__(self, clock: Clock, writers: int, done: Callable[[JobKey], None]) -> None:
        self.clock = clock
        self.lanes = Lanes(writers)
        self.busy: set[JobKey] = set()  # a write of theirs is in flight
        self.tasks: set[asyncio.Task[None]] = set()
        self.wake = asyncio.Event()  # something changed: the loop runs a pass
        self._done = done  # called with the MediaJob of each finished write
        self._timers: list[tuple[datetime, JobKey]] = []  # a heap
        self._timer_of: dict[JobKey, datetime] = {}
        self._alarm: float | None = None  # monotonic

    # ---- writes -----------------------------------------------------------------------

    def spawn(
        self, key: JobKey | None, work: Coroutine[Any, Any, object], lane: Lane = Lane.REPORT
    ) -> None:
        """Run WORK on a writer slot of LANE; KEY is planned again when it is done."""
        if key is not None:
            self.busy.add(key)
        task = asyncio.create_task(self._guarded(key, work, lane))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _guarded(
        self, key: JobKey | None, work: Coroutine[Any, Any, object], lane: Lane
    ) -> None:
        async with self.lanes.slot(lane):
            try:
                await work
            except ApiError as err:
                if err.fatal:
                    return  # said in one line by the client; the operator stops
                if key is None:
                    log.warning("%s; not sent again", err)  # an Event: it tells, it decides nothing
                elif err.status != 404:
                    log.warning("%s: %s; retrying in %gs", key, err, RETRY_AFTER_API_ERROR)
                    self.after(key, RETRY_AFTER_API_ERROR)
            except Exception:
                log.exception("%s: unexpected error", key)
                if key is not None:
                    self.after(key, RETRY_AFTER_API_ERROR)
            finally:
                if key is not None:
                    self.busy.discard(key)
                    self._done(key)

    def pending(self, lane: Lane) -> int:
        """Writes of LANE waiting for a slot or in flight."""
        return self.lanes.pending[lane]

    def cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    # ---- time -------------------------------------------------------------------------

    def after(self, key: JobKey, seconds: float) -> None:
        self.at(self.clock.now() + timedelta(seconds=seconds), key)

    def at(self, when: datetime, key: JobKey) -> None:
        """Plan KEY again at WHEN (once: a MediaJob planned again asks again)."""
        if self._timer_of.get(key) == when:
            return
        self._timer_of[key] = when
        heapq.heappush(self._timers, (when, key))

    def due(self, now: datetime) -> list[JobKey]:
        """The MediaJobs whose timers have come (each timer fires once)."""
        keys = []
        while self._timers and self._timers[0][0] <= now:
            when, key = heapq.heappop(self._timers)
            if self._timer_of.get(key) == when:
                del self._timer_of[key]
            keys.append(key)
        return keys

    def alarm(self, monotonic: float) -> None:
        """Wake the loop at MONOTONIC (or sooner, if an earlier alarm is set)."""
        if self._alarm is None or monotonic < self._alarm:
            self._alarm = monotonic

    async def idle(self) -> None:
        """Until something wakes the loop: an event, a timer, an alarm."""
        timeouts = []
        if self._timers:
            timeouts.append((self._timers[0][0] - self.clock.now()).total_seconds())
        if self._alarm is not None:
            timeouts.append(self._alarm - self.clock.monotonic())
            self._alarm = None  # each pass sets the alarms it still needs
        timeout = max(0.0, min(timeouts)) if timeouts else None
        if timeout != 0.0:
            await self.clock.wait(self.wake, timeout)
