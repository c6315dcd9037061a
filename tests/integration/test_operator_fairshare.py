"""Fair share on the real cluster, at the issue's sizes: a namespace of 200 jobs and one
of 5 share a category slot for slot; weights from namespace labels; fair-share
preemption gives slots back and stops where the shares balance."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from mediajobs.scheduling.weights import WEIGHT_LABEL
from tests.builders import mediajob
from tests.integration.operator_checks import events_of, phases, wait_phase
from tests.integration.test_operator_preemption import listing, next_of
from tests.localcluster import WAIT_LONG, Kubectl, fresh_namespace, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
CAP = 4
COLUMNS = (
    "custom-columns=NS:.metadata.namespace,NAME:.metadata.name,PHASE:.status.phase,"
    "STARTED:.status.startedAt,GOING:.metadata.deletionTimestamp"
)


@dataclass(frozen=True)
class Sample:
    at: float  # monotonic
    running: Counter[str]  # namespace -> MediaJobs Running (the slots held), not deleted
    started: dict[str, frozenset[str]]  # namespace -> MediaJobs that have started


@contextlib.contextmanager
def polled(kube: Kubectl) -> Iterator[list[Sample]]:
    """Samples taken in a thread until the block ends (the list grows meanwhile)."""
    samples: list[Sample] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            samples.append(sample(kube))
            stop.wait(0.2)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join(timeout=10)


def sample(kube: Kubectl) -> Sample:
    """The MediaJobs of every namespace now: the slots as the operator holds them (a
    deleted MediaJob's slot is free at once, while its Job may linger a while)."""
    out = kube.run("get", "mj", "-A", "-o", COLUMNS, "--no-headers").stdout
    running: Counter[str] = Counter()
    started: dict[str, set[str]] = {}
    for line in out.splitlines():
        ns, name, phase, began, going = line.split()
        if began != "<none>":
            started.setdefault(ns, set()).add(name)
        if phase == "Running" and going == "<none>":
            running[ns] += 1
    frozen = {ns: frozenset(names) for ns, names in started.items()}
    return Sample(time.monotonic(), running, frozen)


@pytest.fixture
def team_b(kube: Kubectl) -> Iterator[Kubectl]:
    with fresh_namespace(kube) as bound:
        yield bound


def test_200_jobs_of_one_namespace_and_5_of_another_share_slot_for_slot(
    kube: Kubectl, ns: Kubectl, team_b: Kubectl, start_operator: StartOperator
) -> None:
    a, b = ns.namespace, team_b.namespace
    assert a is not None and b is not None
    op = start_operator(limits={"cpu": {"maxRunning": CAP}}, args=["--namespace", b])
    # A's first four hold the category until the test ends them; its 196 others run 2 s,
    # B's 5 4 s (B's first is seen alone before its end frees a slot).
    heads = [f"a-head{i}" for i in range(CAP)]
    ns.apply(listing(*(mediajob(n).kwok(run_for="600s").obj() for n in heads)))
    for name in heads:
        wait_phase(ns, name, "Running")
    ns.apply(listing(*(mediajob(f"a{i:03}").kwok(run_for="2s").obj() for i in range(196))))
    team_b.apply(listing(*(mediajob(f"b{i}").kwok(run_for="4s").obj() for i in range(5))))
    front = wait_for("B's first job to be next", lambda: next_of(op, team_b), WAIT_LONG)
    base = sample(kube)
    with polled(kube) as samples:
        ns.run("delete", "mj", heads[0], "--wait=false")  # the next free slot
        wait_phase(team_b, front, "Running")
        # The first MediaJob started since is B's first: A's 196 older ones wait.
        assert jobs_of_both(sample(kube), a, b) - jobs_of_both(base, a, b) == {front}
        for name in heads[1:]:  # the rest: the 2 s jobs take turns from here
            ns.run("delete", "mj", name, "--wait=false")
        wait_for("B's 5 jobs to start", lambda: len(started(samples, b)) == 5 or None, WAIT_LONG)
    after = [s for s in samples if s.at > base.at]
    # While both wait, with the category full, each holds its share (2 of 4) give or take one.
    both_wait = [s for s in after if started_at(s, b) and len(started_at(s, b)) < 5]
    full = [s for s in both_wait if sum(s.running.values()) == CAP]
    assert len(full) >= 3, f"{len(full)} full samples"
    for s in full:
        assert abs(s.running[a] - CAP / 2) <= 1 and abs(s.running[b] - CAP / 2) <= 1, s.running


def jobs_of_both(s: Sample, a: str, b: str) -> frozenset[str]:
    return started_at(s, a) | started_at(s, b)


def started(samples: list[Sample], namespace: str) -> frozenset[str]:
    return started_at(samples[-1], namespace) if samples else frozenset()


def started_at(sample: Sample, namespace: str) -> frozenset[str]:
    return sample.started.get(namespace, frozenset())


def test_a_labelled_weight_and_fair_share_preemption_balance_and_stay_balanced(
    kube: Kubectl, ns: Kubectl, team_b: Kubectl, start_operator: StartOperator
) -> None:
    a, b = ns.namespace, team_b.namespace
    assert a is not None and b is not None
    kube.run("label", "namespace", a, f"{WEIGHT_LABEL}=lots")  # ignored, with a Warning
    kube.run("label", "namespace", b, f"{WEIGHT_LABEL}=3")
    rule = {"policy": "LowerPriority", "minRuntimeSeconds": 0}
    op = start_operator(
        limits={"cpu": {"maxRunning": CAP, "preemption": rule}},
        fairShare={"preemption": {"enabled": True}},
        terminationGraceSeconds=1,
        args=["--namespace", b],
    )
    (warning,) = wait_for("the Warning", lambda: invalid_weight(ns), WAIT_LONG)
    assert warning["type"] == "Warning" and "namespace " + a in warning["message"]
    ns.apply(listing(*(mediajob(f"a{i}").kwok(run_for="600s").obj() for i in range(CAP))))
    for i in range(CAP):
        wait_phase(ns, f"a{i}", "Running")
    team_b.apply(listing(*(mediajob(f"b{i}").kwok(run_for="600s").obj() for i in range(3))))
    # B weighs 3: A gives a slot while its share after giving (n-1)/4 is still at least
    # B's after receiving (m+1)/4/3: 4/0 -> 3/1 -> 2/2 -> 1/3. (Weight 1: it stops at 2/2.)
    for i in range(3):
        wait_phase(team_b, f"b{i}", "Running")
    assert sorted(phases(ns).values()) == ["Queued", "Queued", "Queued", "Running"]
    assert op.stats()["preemptions"]["cpu"] == {"FairShare": 3}
    victim = next(n for n, p in phases(ns).items() if p == "Queued")
    (event,) = [e for e in events_of(ns, victim) if e["reason"] == "Preempted"]
    assert f"for fair share (namespace {a} holds more than its share)" in event["message"]
    # Balanced, it stays so: nothing moves back or on, for as long as A's victims wait.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert op.stats()["preemptions"]["cpu"] == {"FairShare": 3}
        assert sorted(phases(team_b).values()) == ["Running"] * 3


def invalid_weight(ns: Kubectl) -> list[dict[str, object]] | None:
    found = [
        e for e in events_of(ns, ns.namespace or "") if e["reason"] == "InvalidFairShareWeight"
    ]
    return found or None
