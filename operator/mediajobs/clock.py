"""Time, passed in: the one clock the operator reads and waits on.

``now`` is wall time (status stamps, startAfter, retryAfter, TTLs); ``monotonic``
measures intervals (throttles, how long a Job has gone unseen); ``sleep`` and
``wait`` are how the operator's loops let time pass. Unit tests pass a fake that
moves only when told, so orchestration is tested step by step without sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Protocol


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
