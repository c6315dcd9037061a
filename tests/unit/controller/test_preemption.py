"""Preemption end to end on the fake API and the fake clock: suspend, wait, admit, resume."""

from __future__ import annotations

from typing import Any

from mediajobs.api.common import Category
from mediajobs.controller.reports import POSITION_MIN_INTERVAL
from mediajobs.kube.port import pods_path
from tests.builders import mediajob
from tests.unit.controller.world import NS, World, world

RUNNING = {"phase": "Running", "containerStatuses": [{"name": "worker", "state": {"running": {}}}]}


def preempting(cpu: int = 1, **rule: Any) -> dict[str, Any]:
    policy = {"policy": "LowerPriority", "minRuntimeSeconds": 60} | rule
    return {"cpu": {"maxRunning": cpu, "preemption": policy}}


def condition(w: World, name: str, type_: str) -> tuple[str, str]:
    (c,) = [c for c in w.status(name)["conditions"] if c["type"] == type_]
    return c["status"], c["reason"]


async def stop_pod(w: World, mediajob_name: str) -> None:
    """The Job controller deletes the suspended Job's pod, and it is gone."""
    name = w.jobs_of(mediajob_name)[-1]["metadata"]["name"] + "-pod"
    await w.delete(f"{pods_path(NS)}/{name}")


async def test_a_victim_is_suspended_its_slot_freed_when_its_pod_stops_and_it_resumes() -> None:
    async with world(limits=preempting()) as w:
        await w.submit(mediajob("low").priority(8))
        await w.pod_says("low", RUNNING)
        await w.advance(61.0)  # past minRuntimeSeconds
        await w.submit(mediajob("urgent").priority(1))

        (job,) = w.jobs_of("low")
        assert job["spec"]["suspend"] is True
        assert w.phase("low") == "Queued"
        assert condition(w, "low", "Admitted") == ("False", "Preempted")
        (event,) = [e for e in w.events("low") if e[1] == "Preempted"]
        assert event[0] == "Normal" and "preempted by ns/urgent (priority 1)" in event[2]
        # The pod still runs: the slot is not free, urgent waits and says for whom.
        assert w.jobs_of("urgent") == []
        assert w.phase("urgent") == "Queued"
        assert "preempting ns/low" in w.status("urgent")["waitingReason"]
        assert w.rec.snapshot().categories[Category.CPU].preempted == {"LowerPriority": 1}

        await stop_pod(w, "low")
        assert w.phase("urgent") == "Running"
        assert w.phase("low") == "Queued"
        await w.advance(POSITION_MIN_INTERVAL)  # places are written coalesced
        assert w.status("low")["queuePosition"] == 1
        assert w.status("low")["waitingReason"] == "cpu: 1/1 running"

        await w.end_job("urgent")
        # Resumed: the same Job, the same attempt, no retry spent.
        (job,) = w.jobs_of("low")
        assert job["spec"]["suspend"] is False
        status = w.status("low")
        assert (status["phase"], status["attempts"]) == ("Running", 1)
        assert "failures" not in status
        await w.end_job("low")
        assert (w.phase("low"), w.status("low")["attempts"]) == ("Succeeded", 1)
        assert w.api.count("create", "jobs") == 2


async def test_a_job_within_min_runtime_is_not_preempted_until_it_has_run_long_enough() -> None:
    async with world(limits=preempting()) as w:
        await w.submit(mediajob("low").priority(8))
        await w.pod_says("low", RUNNING)
        await w.submit(mediajob("urgent").priority(1))
        assert w.jobs_of("low")[0]["spec"]["suspend"] is False
        assert w.status("urgent")["waitingReason"] == "cpu: 1/1 running"
        # Nothing wakes admission when the minimum runtime passes; the next event does.
        await w.advance(61.0)
        await w.submit(mediajob("other").priority(9))
        assert w.jobs_of("low")[0]["spec"]["suspend"] is True


async def test_a_nearly_finished_job_is_spared() -> None:
    async with world(limits=preempting(protectProgressPercent=50)) as w:
        await w.submit(mediajob("low").priority(8))
        await w.pod_says("low", RUNNING)
        w.rec.observe_progress(w.mediajob("low")["metadata"]["uid"], 1, 60)
        await w.advance(61.0)
        await w.submit(mediajob("urgent").priority(1))
        assert w.jobs_of("low")[0]["spec"]["suspend"] is False
        assert w.phase("urgent") == "Queued"


async def test_preemption_is_off_by_default() -> None:
    async with world(limits={"cpu": {"maxRunning": 1}}) as w:
        await w.submit(mediajob("low").priority(8))
        await w.pod_says("low", RUNNING)
        await w.advance(3600.0)
        await w.submit(mediajob("urgent").priority(1))
        assert w.jobs_of("low")[0]["spec"]["suspend"] is False
        assert w.rec.snapshot().categories[Category.CPU].preempted == {}


async def test_a_failed_suspend_keeps_the_victim_running_and_is_decided_again() -> None:
    async with world(limits=preempting()) as w:
        await w.submit(mediajob("low").priority(8))
        await w.pod_says("low", RUNNING)
        await w.advance(61.0)
        w.api.fail("patch", "jobs", status=500)
        await w.submit(mediajob("urgent").priority(1))
        assert w.jobs_of("low")[0]["spec"]["suspend"] is False
        assert w.phase("low") == "Running"
        assert not w.rec.queues.preemptions.stopping
        await w.advance(5.0)  # the victim is planned again; admission decides again
        assert w.jobs_of("low")[0]["spec"]["suspend"] is True
        await stop_pod(w, "low")
        assert w.phase("urgent") == "Running"
