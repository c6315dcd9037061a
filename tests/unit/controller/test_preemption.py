"""Preemption end to end on the fake API and the fake clock: suspend, wait, admit, resume."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest

from mediajobs.api.common import Category
from mediajobs.controller.reports import POSITION_MIN_INTERVAL
from mediajobs.jobs.naming import MEDIAJOB_LABEL
from mediajobs.kube.port import jobs_path, mediajobs_path, pods_path
from mediajobs.scheduling.model import JobKey
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
        assert w.rec.snapshot().categories[Category.CPU].preempted == {}  # it did not happen
        await w.advance(5.0)  # the victim is planned again; admission decides again
        assert w.jobs_of("low")[0]["spec"]["suspend"] is True
        await stop_pod(w, "low")
        assert w.phase("urgent") == "Running"


async def test_a_mixed_run_preempts_no_more_than_urgent_arrivals_and_never_twice_too_soon() -> None:
    """60 jobs of random priorities arrive while jobs end at random: every preemption
    answers an arrival that found the category full of lower-priority work, and no job
    is preempted again within minRuntimeSeconds of its previous start."""
    rng = random.Random(19)
    async with world(limits=preempting(cpu=3)) as w:
        stamp_events(w)
        urgent_arrivals = 0
        for i in range(60):
            running = {n: p for n, p in priorities(w).items() if w.phase(n) == "Running"}
            priority = rng.randint(1, 10)
            if len(running) == 3 and priority < max(running.values()):
                urgent_arrivals += 1
            await w.submit(mediajob(f"j{i:03}").priority(priority))
            for name in running_names(w):
                if not pods_of(w, name):
                    await w.pod_says(name, RUNNING)
            for name in suspended_with_pods(w):
                await stop_pod(w, name)
            if running_names(w) and rng.random() < 0.5:
                await w.end_job(rng.choice(running_names(w)))
            await w.advance(rng.uniform(5, 40))
        preemptions = [e for e in w.api.events if e["reason"] == "Preempted"]
        assert 0 < len(preemptions) <= urgent_arrivals
        last_start: dict[str, datetime] = {}
        for e in w.api.events:
            name, at = e["involvedObject"]["name"], e["at"]
            if e["reason"] == "Admitted":
                last_start[name] = at
            elif e["reason"] == "Preempted":
                assert (at - last_start[name]).total_seconds() >= 60, name


def priorities(w: World) -> dict[str, int]:
    return {m["metadata"]["name"]: m["spec"]["priority"] for m in w.api.items(mediajobs_path(NS))}


def newest_jobs(w: World) -> dict[str, dict[str, Any]]:
    """Each MediaJob's newest Job, by the MediaJob's name (one read of all of them)."""
    newest: dict[str, dict[str, Any]] = {}
    for job in sorted(w.api.items(jobs_path(NS)), key=lambda j: j["metadata"]["name"]):
        newest[job["metadata"]["labels"][MEDIAJOB_LABEL]] = job
    return newest


def running_names(w: World) -> list[str]:
    jobs = newest_jobs(w)
    return sorted(
        n for n in priorities(w)
        if w.phase(n) == "Running" and n in jobs and not jobs[n]["spec"].get("suspend")
    )  # fmt: skip


def pod_names(w: World) -> set[str]:
    return {p["metadata"]["name"] for p in w.api.items(pods_path(NS))}


def pods_of(w: World, name: str) -> bool:
    return f"{w.jobs_of(name)[-1]['metadata']['name']}-pod" in pod_names(w)


def suspended_with_pods(w: World) -> list[str]:
    pods = pod_names(w)
    return [
        n for n, job in newest_jobs(w).items()
        if job["spec"].get("suspend") and f"{job['metadata']['name']}-pod" in pods
    ]  # fmt: skip


def stamp_events(w: World) -> None:
    """Keep the time each Event was posted at (the fake API keeps what it says only)."""
    post = w.api.post_event

    async def stamped(involved: dict[str, Any], **event: Any) -> None:
        await post(involved, **event)
        w.api.events[-1]["at"] = event["now"]

    w.api.post_event = stamped  # type: ignore[method-assign]


@pytest.mark.parametrize("status_written", [True, False])
async def test_a_restart_while_the_victim_stops_admits_once_and_loses_no_job(
    status_written: bool,
) -> None:
    """The operator dies with the victim's Job suspended, its pod still running, the
    preemptor not yet admitted (and, STATUS_WRITTEN False, the victim's Queued status
    lost). The new one finds the victim stopping: the preemptor waits for that slot,
    no other job is preempted, nothing runs over the cap, and every job ends once."""
    async with world(limits=preempting(cpu=2)) as w:
        for name in ("low-0", "low-1"):
            await w.submit(mediajob(name).priority(8))
            await w.pod_says(name, RUNNING)
            await w.advance(61.0)
        if not status_written:
            w.api.fail("patch", "mediajobs", times=100)
        await w.submit(mediajob("urgent").priority(1))
        assert w.jobs_of("low-1")[0]["spec"]["suspend"] is True
        assert w.phase("low-1") == ("Queued" if status_written else "Running")
        await w.crash()
        w.api.heal()
        suspends = w.api.count("patch", "jobs")

        await w.start()
        # Timers come due (the fake Job keeps its first startTime, where a resumed one gets
        # a new one: past the start timeout, 600 s, low-1 would be given up on resuming).
        await w.advance(300.0)
        assert w.jobs_of("urgent") == []
        assert w.jobs_of("low-0")[0]["spec"]["suspend"] is False
        assert w.api.count("patch", "jobs") == suspends  # the new operator suspended nothing
        assert "waiting for its pods to stop" in w.rec.queues.waits[key("low-1")].reason

        await stop_pod(w, "low-1")
        assert [j["spec"].get("suspend") for j in w.jobs_of("urgent")] == [False]
        assert w.phase("urgent") == "Running"
        assert w.phase("low-1") == "Queued"
        await w.pod_says("urgent", RUNNING)
        await w.end_job("urgent")
        (job,) = w.jobs_of("low-1")
        assert job["spec"]["suspend"] is False
        await w.pod_says("low-1", RUNNING)
        for name in ("low-0", "low-1"):
            await w.end_job(name)
        assert w.phases() == {"low-0": "Succeeded", "low-1": "Succeeded", "urgent": "Succeeded"}
        assert w.status("low-1")["attempts"] == 1 and "failures" not in w.status("low-1")
        assert len(w.api.items(jobs_path(NS))) == 3  # one Job each: none admitted twice


def key(name: str) -> JobKey:
    return JobKey(NS, name)
