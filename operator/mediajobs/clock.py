"""Time, passed in: the one clock the operator reads and waits on.

``now`` is wall time (status stamps, startAfter, retryAfter, TTLs); ``monotonic``
measures intervals (throttles, how long a Job has gone unseen); ``sleep`` and
``wait`` are how the operator's loops let time pass. Unit tests pass a fake that
moves only when told, so orchestration is tested step by step without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

TEST_CLOCK_ENV = "MEDIAJOBS_TEST_CLOCK"


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    async def wait(self, event: asyncio.Event, timeout: float | None) -> None:
        """Until EVENT is set or TIMEOUT seconds have passed (None: no limit)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def wait(self, event: asyncio.Event, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class ScaledClock:
    """Wall time that was ANCHOR at the Unix time REAL_ANCHOR and runs RATE times as
    fast: the schedules' clock in tests on a real cluster (MEDIAJOBS_TEST_CLOCK), so a
    `* * * * *` schedule comes due in seconds, at an instant the test knows, and a
    restarted operator given the same setting goes on from the same time."""

    def __init__(self, real_anchor: float, anchor: datetime, rate: float) -> None:
        self.real_anchor, self.anchor, self.rate = real_anchor, anchor, rate

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=(time.time() - self.real_anchor) * self.rate)

    def monotonic(self) -> float:
        return time.monotonic() * self.rate

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.rate)

    async def wait(self, event: asyncio.Event, timeout: float | None) -> None:
        await SystemClock().wait(event, None if timeout is None else timeout / self.rate)


def schedules_clock() -> Clock:
    """The system clock, or the ScaledClock that MEDIAJOBS_TEST_CLOCK describes as
    ``<real Unix time>,<its Unix time then>,<rate>`` (a test hook: never set in a chart)."""
    given = os.environ.get(TEST_CLOCK_ENV)
    if not given:
        return SystemClock()
    real, then, rate = (float(part) for part in given.split(","))
    return ScaledClock(real, datetime.fromtimestamp(then, UTC), rate)
