"""Preemption and fair share on the real cluster: the Job controller stops the victim's
pods (KWOK ends a deleted pod the way a kubelet would), the operator admits after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.builders import mediajob
from tests.integration.operator_checks import (
    JobSampler,
    events_of,
    jobs_of,
    phases,
    status,
    wait_phase,
)
from tests.localcluster import WAIT_LONG, Kubectl, fresh_namespace, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]


def test_a_priority_1_job_preempts_a_full_category_and_the_victim_resumes(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    rule = {"policy": "LowerPriority", "minRuntimeSeconds": 0}
    op = start_operator(limits={"cpu": {"maxRunning": 2, "preemption": rule}})
    lows = ["low-0", "low-1"]
    with JobSampler(ns) as sampler:
        for name in lows:
            ns.apply(mediajob(name).priority(8).kwok(run_for="20s").obj())
            wait_phase(ns, name, "Running")  # one after the other: low-1 started last
        ns.apply(mediajob("urgent").priority(1).kwok(run_for="15s").obj())  # checked meanwhile
        wait_phase(ns, "urgent", "Running")

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
