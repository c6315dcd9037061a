"""Leader election on the fake API and the fake clock: acquire, renew, lose, take over, release.

Two (or three) electors share one fake API; the tests move the fake clock and
check who leads at each step. No sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import ValidationError

from mediajobs.config import LeaderElection
from mediajobs.controller.election import Elector, LeaderOnly, NotLeading, claimed
from mediajobs.kube.port import jobs_path, leases_path
from tests.builders import mediajob
from tests.unit.controller.world import NS, World, world

LEASE = leases_path(NS, "mediajobs-operator")
SETTINGS = LeaderElection(enabled=True)  # 15 s lease, 10 s renew deadline, 2 s retry


class Replica:
    """One operator replica's election: acquire, then keep; ``why`` once it stops leading."""

    def __init__(self, w: World, who: str) -> None:
        self.elector = Elector(w.api, SETTINGS, NS, who, w.clock)
        self.why: str | None = None
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        await self.elector.acquire()
        self.why = await self.elector.keep()

    def leading(self) -> bool:
        return self.elector.leading()

    async def crash(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@asynccontextmanager
async def replicas(*names: str) -> AsyncIterator[tuple[World, list[Replica]]]:
    w = World()
    started = []
    for name in names:
        started.append(Replica(w, name))
        await w.settle()
    try:
        yield w, started
    finally:
        for r in started:
            await r.crash()


def holder(w: World) -> str | None:
    return w.api.read(LEASE)["spec"].get("holderIdentity")  # type: ignore[no-any-return]


async def until(w: World, seconds: float, *replicas: Replica) -> None:
    """Advance SECONDS in tenths, checking that two replicas never lead at once."""
    start = w.clock.monotonic()
    for tenth in range(1, round(seconds * 10) + 1):
        await w.advance(start + tenth / 10 - w.clock.monotonic())  # no drift: exact tenths
        assert sum(r.leading() for r in replicas) <= 1, "two leaders"


async def test_the_first_replica_acquires_and_renews_while_the_other_waits() -> None:
    async with replicas("a", "b") as (w, (a, b)):
        assert a.leading() and not b.leading()
        assert holder(w) == "a" and b.elector.holder == "a"
        await until(w, 60, a, b)
        assert a.leading() and not b.leading() and a.why is None
        spec = w.api.read(LEASE)["spec"]
        assert spec["leaseDurationSeconds"] == 15 and spec["leaseTransitions"] == 0
        assert w.api.count("update", "leases") == 30  # a renewal every retry period
        assert w.api.count("update", "leases") + w.api.count("create", "leases") == w.api.writes


async def test_a_409_on_renewal_means_another_holds_it_and_the_leader_stops_at_once() -> None:
    async with replicas("a") as (w, (a,)):
        stolen = claimed(
            w.api.read(LEASE), "mediajobs-operator", NS, who="c", duration=15, now=w.clock.now()
        )
        with w.api.user():  # another replica writes itself in
            await w.api.replace(LEASE, stolen)
        assert a.leading()  # it does not know yet
        await w.advance(2.0)
        assert not a.leading()
        assert a.why == "c holds the lease now"
        assert holder(w) == "c"


async def test_its_own_late_write_is_no_loss() -> None:
    async with replicas("a") as (w, (a,)):
        with w.api.user():  # a's renewal landed, but its answer was lost
            await w.api.replace(LEASE, w.api.read(LEASE))
        await until(w, 10, a)
        assert a.leading() and a.why is None


@pytest.mark.parametrize("how", ["failing", "hanging"])
async def test_a_leader_that_cannot_renew_stops_at_its_deadline_before_a_standby_starts(
    how: str,
) -> None:
    async with replicas("a", "b") as (w, (a, b)):
        await w.advance(2.0)  # a renewal at t=2: a leads until t=12 at most
        renewed = w.clock.monotonic()
        if how == "failing":
            w.api.fail("update", "leases", status=500, times=1000)
        else:
            w.api.latency["update"] = 60.0
        await until(w, 9.9, a, b)
        assert a.leading()
        await until(w, 0.1, a, b)
        assert not a.leading()
        assert a.why == "not renewed within 10 s"
        assert w.clock.monotonic() == renewed + 10
        w.api.heal()  # the API answers again: the standby's writes go through
        w.api.latency.clear()
        await until(w, 20, a, b)
        assert b.leading() and holder(w) == "b"


async def test_a_dead_leaders_lease_is_taken_over_a_lease_duration_after_its_last_renewal() -> None:
    async with replicas("a", "b") as (w, (a, b)):
        await w.advance(7.0)  # a renewed at t=2, 4, 6; b looked at t=0, 2, 4, 6
        await a.crash()
        # b dates the renewal it saw at t=6 no earlier than its look before (t=4): it takes
        # over between 4 + 15 and 6 + 15, while a stopped leading at 6 + 10 at the latest.
        await until(w, 4 + 15 - 7 - 0.1, a, b)
        assert not b.leading()
        await until(w, 2.2, a, b)
        assert b.leading()
        spec = w.api.read(LEASE)["spec"]
        assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("b", 1)


async def test_a_fresh_replica_waits_a_whole_lease_duration_for_a_holder_it_never_saw_renew() -> (
    None
):
    w = World()
    with w.api.user():
        body = claimed(None, "mediajobs-operator", NS, who="gone", duration=15, now=w.clock.now())
        await w.api.create(leases_path(NS), body)
    b = Replica(w, "b")
    await until(w, 14.9, b)
    assert not b.leading()  # renewTime is another's clock: it is never trusted
    await until(w, 0.2, b)
    assert b.leading()
    await b.crash()


async def test_a_released_lease_is_taken_at_once() -> None:
    async with replicas("a", "b") as (w, (a, b)):
        await w.advance(3.0)
        a.elector.resign()
        assert not a.leading()
        await a.elector.release()
        await w.settle()
        assert holder(w) is None
        await until(w, 2.0, a, b)  # b's next look, not a lease duration
        assert b.leading() and a.why == "resigned"


async def test_writes_leave_only_while_leading() -> None:
    leading = True
    async with world() as w:
        gated = LeaderOnly(w.api, lambda: leading)
        created, _ = await gated.create(jobs_path(NS), {"metadata": {"name": "x"}})
        assert created is not None
        leading = False
        with pytest.raises(NotLeading) as err:
            await gated.merge_patch(jobs_path(NS, "x"), {"spec": {}})
        assert err.value.fatal  # never retried
        assert await gated.get(jobs_path(NS, "x")) is not None  # reads go on


async def test_a_reconciler_past_its_deadline_admits_nothing() -> None:
    async with world() as w:
        w.rec.leading = lambda: False
        await w.submit(mediajob("a"))
        await w.advance(5.0)
        assert w.api.items(jobs_path(NS)) == []
        assert w.phase("a") is None


def test_timings_that_leave_no_margin_are_refused() -> None:
    with pytest.raises(ValidationError, match="exceed"):
        LeaderElection(lease_duration_seconds=15, renew_deadline_seconds=14)
    with pytest.raises(ValidationError, match="shorter"):
        LeaderElection(lease_duration_seconds=30, renew_deadline_seconds=5, retry_period_seconds=5)
