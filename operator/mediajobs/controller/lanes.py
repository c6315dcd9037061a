"""Three lanes for the operator's API writes, so that reporting never slows admitting.

Admission writes (create, resume, suspend or delete a Job) start and stop work;
report writes (status patches) tell people about it; Events tell the story after.
A MediaJob status patch costs the API server nearly twice a Job create, an Event
more still (`make bench`, writes phase), so during a burst of admissions the
reports trickle, one at a time, and catch up as soon as the burst is over; Events
trickle in turn while status patches wait, so that a flood's statuses settle at
the rate of the patches alone (client-go's recorder, too, posts Events apart
from the work they describe).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections import Counter
from collections.abc import AsyncIterator

# The report lane has half the writers: as many status patches in flight as the bench's
# floor sends (32 of the operator's 64), once nothing waits to be admitted; Events a quarter.
REPORT_SHARE = 2
EVENT_SHARE = 4


class Lane(enum.Enum):
    ADMIT = "admit"
    REPORT = "report"
    EVENT = "event"


class Lanes:
    def __init__(self, writers: int) -> None:
        self._admit = asyncio.Semaphore(writers)
        self._report = asyncio.Semaphore(max(1, writers // REPORT_SHARE))
        self._event = asyncio.Semaphore(max(1, writers // EVENT_SHARE))
        self._trickle = {Lane.REPORT: asyncio.Semaphore(1), Lane.EVENT: asyncio.Semaphore(1)}
        self._before = {Lane.REPORT: (Lane.ADMIT,), Lane.EVENT: (Lane.ADMIT, Lane.REPORT)}
        self.pending: Counter[Lane] = Counter()  # writes waiting for a slot or in flight

    @contextlib.asynccontextmanager
    async def slot(self, lane: Lane) -> AsyncIterator[None]:
        """A writer slot of LANE, held for the body of the ``async with``."""
        self.pending[lane] += 1
        try:
            if lane is Lane.ADMIT:
                async with self._admit:
                    yield
                return
            async with self._report if lane is Lane.REPORT else self._event:
                if any(self.pending[first] for first in self._before[lane]):
                    async with self._trickle[lane]:
                        yield
                else:
                    yield
        finally:
            self.pending[lane] -= 1
