"""Preemption and fair share on the real cluster: the Job controller stops the victim's
pods (KWOK ends a deleted pod the way a kubelet would), the operator admits after."""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from tests.builders import mediajob
from tests.integration.operator_checks import (
    JobSampler,
    all_finished,
    events_of,
    jobs_of,
    phases,
    status,
    wait_phase,
)
from tests.localcluster import WAIT_LONG, Kubectl, fresh_namespace, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
GRACE = 5  # terminationGraceSeconds: the victim's pod has this long to stop
ADMISSION_LATENCY = 10  # seconds from apply to the Running status, the victim's stop aside


def test_a_priority_1_job_preempts_a_full_category_and_the_victim_resumes(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    rule = {"policy": "LowerPriority", "minRuntimeSeconds": 0}
    op = start_operator(
        limits={"cpu": {"maxRunning": 2, "preemption": rule}}, terminationGraceSeconds=GRACE
    )
    lows = ["low-0", "low-1"]
    with JobSampler(ns) as sampler:
        for name in lows:
            ns.apply(mediajob(name).priority(8).kwok(run_for="20s").obj())
            wait_phase(ns, name, "Running")  # one after the other: low-1 started last
        applied = time.monotonic()
        ns.apply(mediajob("urgent").priority(1).kwok(run_for="15s").obj())  # checked meanwhile
        wait_phase(ns, "urgent", "Running")
        # The victim's pod gets its grace period; then the slot is the urgent job's.
        assert time.monotonic() - applied < GRACE + ADMISSION_LATENCY

        # The most recently started of the two was chosen, and waits again in its place.
        victim = status(ns, "low-1")
        assert victim["phase"] == "Queued", victim
        admitted = [c for c in victim["conditions"] if c["type"] == "Admitted"]
        assert [(c["status"], c["reason"]) for c in admitted] == [("False", "Preempted")]
        assert status(ns, "low-0")["phase"] == "Running"
        (event,) = [e for e in events_of(ns, "low-1") if e["reason"] == "Preempted"]
        assert f"preempted by {ns.namespace}/urgent (priority 1)" in event["message"]
        (job,) = jobs_of(ns, "low-1")
        assert job["spec"]["suspend"] is True
        stats = op.stats()
        assert stats["preemptions"]["cpu"] == {"LowerPriority": 1}
        assert 'media_job_preemptions_total{reason="LowerPriority",resourceCategory="cpu"} 1.0' in (
            op.metrics()
        )

        wait_phase(ns, "urgent", "Succeeded")
        final = wait_phase(ns, "low-1", "Succeeded", timeout=WAIT_LONG)
        wait_phase(ns, "low-0", "Succeeded", timeout=WAIT_LONG)
    assert final["attempts"] == 1 and "failures" not in final
    assert len(jobs_of(ns, "low-1")) == 1  # the same Job resumed, not a new attempt
    assert sampler.peak["cpu"] == 2  # never more running than the cap, the victim included


@pytest.fixture
def team_b(kube: Kubectl) -> Iterator[Kubectl]:
    """A second namespace, with the operator watching both."""
    with fresh_namespace(kube) as bound:
        yield bound


def listing(*objects: dict[str, Any]) -> dict[str, Any]:
    """One kubectl apply for many objects."""
    return {"apiVersion": "v1", "kind": "List", "items": list(objects)}


def test_a_second_namespace_gets_the_next_free_slot(
    ns: Kubectl, team_b: Kubectl, start_operator: StartOperator
) -> None:
    assert team_b.namespace is not None
    op = start_operator(limits={"cpu": {"maxRunning": 2}}, args=["--namespace", team_b.namespace])
    # Team A fills the category and queues 20 more, all at the same priority.
    ns.apply(listing(*(mediajob(n).kwok(run_for="600s").obj() for n in ("a-long", "a-ends"))))
    wait_phase(ns, "a-ends", "Running")
    ns.apply(listing(*(mediajob(f"a{i:02}").kwok(run_for="600s").obj() for i in range(20))))
    wait_phase(ns, "a19", "Queued")
    # Team B applies 5: its first (by the total order: one second holds them all, so the
    # uid decides) is next in line, although A's jobs are older.
    team_b.apply(listing(*(mediajob(f"b{i}").kwok(run_for="600s").obj() for i in range(5))))
    first_b = wait_for("B's first job to be next", lambda: next_of(op, team_b), WAIT_LONG)
    a_front = next(w for w in op.stats()["waiting"] if w["namespace"] == ns.namespace)
    assert a_front["waitingReason"] == (
        f"waiting for fair share: namespace {ns.namespace} holds 2/2 slots (cpu: 2/2 running)"
    )
    ns.run("delete", "mj", "a-ends", "--wait=false")  # a slot frees
    wait_phase(team_b, first_b, "Running")
    assert running(ns) == ["a-long"]
    # A and B hold a slot each: A's oldest is next now. When B's job ends, B's share is
    # the lower again, and its next job takes the slot.
    team_b.run("delete", "mj", first_b, "--wait=false")
    wait_for("B's next job to run", lambda: running(team_b), WAIT_LONG)
    assert running(ns) == ["a-long"]


def next_of(op: OperatorProcess, kube: Kubectl) -> str | None:
    """The MediaJob of KUBE's namespace at the front of the queue, if one is (/stats shows
    the positions live; statuses show them written at most every 10 s)."""
    front = [w for w in op.stats()["waiting"] if w["queuePosition"] == 1]
    return front[0]["name"] if front and front[0]["namespace"] == kube.namespace else None


def running(kube: Kubectl) -> list[str]:
    return sorted(n for n, phase in phases(kube).items() if phase == "Running")


MIXED_CAP, MIN_RUNTIME = 12, 2
JOB_COLUMNS = (
    "custom-columns=MJ:.metadata.labels.mediajobs\\.dev/mediajob,SUSPEND:.spec.suspend,"
    "DONE:.status.completionTime"
)


def job_states(ns: Kubectl) -> tuple[set[str], set[str]]:
    """(the MediaJobs whose Job runs now, those that have a Job at all): one list."""
    out = ns.run("get", "jobs", "-o", JOB_COLUMNS, "--no-headers").stdout
    running, started = set(), set()
    for line in out.splitlines():
        name, suspend, done = line.split()
        started.add(name)
        if suspend != "true" and done == "<none>":
            running.add(name)
    return running, started


def test_a_mixed_run_of_300_preempts_no_more_than_urgent_arrivals_and_never_twice_too_soon(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    """300 jobs of random priorities (seeded) arrive twenty at a time while jobs of 2-3 s
    end. An arrival counts as urgent when the category was full (or had a queue) and
    ran a job of lower priority, as seen just before or just after it was applied
    (either way: the count errs high, never low)."""
    rng = random.Random(19)
    rule = {"policy": "LowerPriority", "minRuntimeSeconds": MIN_RUNTIME}
    op = start_operator(
        limits={"cpu": {"maxRunning": MIXED_CAP, "preemption": rule}}, terminationGraceSeconds=1
    )
    priority: dict[str, int] = {}
    urgent = 0
    for batch in range(15):
        jobs = {f"m{batch:02}-{i:02}": rng.randint(1, 10) for i in range(20)}
        run_for = [f"{rng.randint(2, 3)}s" for _ in jobs]
        before, started = job_states(ns)
        queued = len(priority) - len(started)
        priority |= jobs
        ns.apply(
            listing(
                *(
                    mediajob(n).priority(p).kwok(run_for=t).obj()
                    for (n, p), t in zip(jobs.items(), run_for, strict=True)
                )
            )
        )
        after, _ = job_states(ns)
        full = queued > 0 or MIXED_CAP in (len(before), len(after))
        lowest = max((priority[n] for n in before | after), default=0)
        urgent += sum(1 for p in jobs.values() if full and p < lowest)
    finished = all_finished(ns, list(priority), timeout=240)
    assert set(finished.values()) == {"Succeeded"}
    total = op.stats()["preemptions"]["cpu"]["LowerPriority"]
    print(f"{total} preemptions, {urgent} urgent arrivals")
    assert 0 < total <= urgent, (total, urgent)
    at: dict[str, list[datetime]] = {}
    preempted = [e for e in ns.items("events") if e["reason"] == "Preempted"]
    assert len({e["involvedObject"]["name"] for e in preempted}) <= total
    for e in preempted:  # the same text again (same preemptor, same attempt): one Event
        name = e["involvedObject"]["name"]
        at.setdefault(name, []).append(datetime.fromisoformat(e["firstTimestamp"]))
        if e.get("count", 1) > 1:
            at[name].append(datetime.fromisoformat(e["lastTimestamp"]))
    for name, times in at.items():
        times.sort()
        for earlier, later in itertools.pairwise(times):  # whole seconds: one of slack
            assert (later - earlier).total_seconds() >= MIN_RUNTIME - 1, (name, times)
    # A preemption is not a failure; nor does a job preempted as it ends run again.
    again = {m["metadata"]["name"] for m in ns.items("mj") if m["status"]["attempts"] != 1}
    assert not again, again
