"""The queue snapshot the operator publishes, and the /stats document read from it."""

from __future__ import annotations

import dataclasses

import pytest

from mediajobs.api.common import Category
from mediajobs.api.mediajob import Phase
from mediajobs.controller.metrics import stats
from mediajobs.controller.snapshot import PoolUsage
from tests.builders import mediajob
from tests.unit.controller.world import world


async def test_the_snapshot_shows_each_queue_in_order() -> None:
    async with world(limits={"cpu": {"maxRunning": 1}}) as w:
        await w.submit(mediajob("done"))
        await w.end_job("done")
        await w.submit(mediajob("run"))
        await w.submit(mediajob("last").priority(9), mediajob("next").priority(2))
        await w.submit(mediajob("enc", "reencode_streaming"))

        snap = w.rec.snapshot()
        cpu = snap.categories[Category.CPU]
        assert [k.name for k in cpu.running] == ["run"]
        waiting = [(x.key.name, x.position, x.reason) for x in cpu.waiting]
        assert waiting == [("next", 1, "cpu: 1/1 running"), ("last", 2, "cpu: 1/1 running")]
        assert [(f.key.name, f.phase) for f in cpu.recent] == [("done", Phase.SUCCEEDED)]
        assert (cpu.completed, cpu.failed, cpu.limit) == (1, 0, 1)
        assert [k.name for k in snap.categories[Category.GPU_ENCODE].running] == ["enc"]
        assert snap.pools == (PoolUsage("default", 16000, 4000),)
        assert (snap.ready, snap.waiting, snap.running) == (True, 2, 2)
        with pytest.raises(dataclasses.FrozenInstanceError):
            snap.ready = False  # type: ignore[misc]

        doc = stats(snap)
        assert doc["queues"]["cpu"] == {
            "waiting": 2, "active": 1, "completed": 1, "failed": 0, "delayed": 0, "limit": 1,
        }  # fmt: skip
        listed = [(x["name"], x["queuePosition"]) for x in doc["waiting"]]
        assert listed == [("next", 1), ("last", 2)]
        assert (doc["totalVramUsed"], doc["totalVramAvailable"]) == (4000, 12000)


async def test_delayed_jobs_are_counted_apart_from_the_queue() -> None:
    async with world() as w:
        await w.submit(mediajob("flaky").retry(limit=1, seconds=60), mediajob("paused"))
        await w.end_job("flaky", failed=True)
        await w.edit("paused", suspend=True)
        assert (w.phase("flaky"), w.phase("paused")) == ("BackingOff", "Suspended")
        cpu = w.rec.snapshot().categories[Category.CPU]
        assert (cpu.delayed, cpu.waiting, cpu.running) == (2, (), ())
