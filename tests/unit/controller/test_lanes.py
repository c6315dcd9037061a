"""Lanes: reports trickle one at a time while admissions wait or run, and go wide after."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from mediajobs.controller.lanes import Lane, Lanes


@dataclass
class Writes:
    """Writes that hold their slot until released; the most ever inside at once."""

    lanes: Lanes
    lane: Lane
    release: asyncio.Event = field(default_factory=asyncio.Event)
    inside: int = 0
    most: int = 0

    async def one(self) -> None:
        async with self.lanes.slot(self.lane):
            self.inside += 1
            self.most = max(self.most, self.inside)
            await self.release.wait()
            self.inside -= 1

    def start(self, n: int) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(self.one()) for _ in range(n)]


async def test_reports_trickle_while_admitting() -> None:
    lanes = Lanes(writers=8)  # 8 admission writers, 2 report writers
    admissions, reports = Writes(lanes, Lane.ADMIT), Writes(lanes, Lane.REPORT)
    held = admissions.start(3)
    await asyncio.sleep(0)
    waiting = reports.start(4)
    await asyncio.sleep(0.01)
    assert reports.inside == 1
    assert lanes.pending == {Lane.ADMIT: 3, Lane.REPORT: 4}

    admissions.release.set()
    await asyncio.gather(*held)
    reports.release.set()
    await asyncio.gather(*waiting)
    assert reports.most == 1
    assert lanes.pending == {Lane.ADMIT: 0, Lane.REPORT: 0}


async def test_reports_use_their_whole_lane_when_nothing_is_admitted() -> None:
    reports = Writes(Lanes(writers=8), Lane.REPORT)
    tasks = reports.start(5)
    await asyncio.sleep(0.01)
    assert reports.inside == 4  # half the writers
    reports.release.set()
    await asyncio.gather(*tasks)


async def test_admissions_never_wait_for_reports() -> None:
    lanes = Lanes(writers=4)
    reports, admissions = Writes(lanes, Lane.REPORT), Writes(lanes, Lane.ADMIT)
    stuck = reports.start(3)
    admissions.release.set()
    await asyncio.wait_for(asyncio.gather(*admissions.start(4)), 1.0)
    assert admissions.most >= 1
    reports.release.set()
    await asyncio.gather(*stuck)


async def test_events_trickle_while_status_writes_wait() -> None:
    lanes = Lanes(writers=8)  # 4 report writers, 2 Event writers
    reports, events = Writes(lanes, Lane.REPORT), Writes(lanes, Lane.EVENT)
    held = reports.start(5)
    await asyncio.sleep(0)
    waiting = events.start(4)
    await asyncio.sleep(0.01)
    assert (reports.inside, events.inside) == (4, 1)

    reports.release.set()
    events.release.set()
    await asyncio.gather(*held, *waiting)
    assert events.most == 1

    later = Writes(lanes, Lane.EVENT)
    tasks = later.start(3)
    await asyncio.sleep(0.01)
    assert later.inside == 2  # no status write waits: the whole lane
    later.release.set()
    await asyncio.gather(*tasks)
    assert sum(lanes.pending.values()) == 0
