"""A clock that moves only when told: the operator's loops wait on it, tests advance it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self._start = start
        self._mono = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []  # a heap
        self._order = itertools.count()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._mono)

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)  # a turn of the event loop, as asyncio.sleep(0)
            return
        await self._until(self._mono + seconds)

    async def wait(self, event: asyncio.Event, timeout: float | None) -> None:
        if event.is_set() or (timeout is not None and timeout <= 0):
            await asyncio.sleep(0)
            return
        waiters = {asyncio.ensure_future(event.wait())}
        if timeout is not None:
            waiters.add(asyncio.ensure_future(self._until(self._mono + timeout)))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _until(self, deadline: float) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (deadline, next(self._order), future))
        return future

    def next_deadline(self) -> float | None:
        """When the earliest sleeper still waiting wakes."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled
        return self._sleepers[0][0] if self._sleepers else None

    def jump(self, to: float) -> None:
        """Move to monotonic time TO, waking every sleeper due by then."""
        self._mono = max(self._mono, to)
        while self._sleepers and self._sleepers[0][0] <= self._mono:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
