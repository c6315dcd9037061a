"""The dependency gate on plain data: what a job with spec.dependsOn does given a
snapshot of its dependencies (each onDependencyFailure way), cycles, missing names,
deleted dependencies, and the in-memory index of dependents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediajobs.api.mediajob import InputRef, Phase
from mediajobs.config import Retention
from mediajobs.controller.dependents import Dependents
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.dependencies import (
    MISSING_GRACE_SECONDS,
    AwaitDependencies,
    BadDependencies,
    DependenciesMet,
    Dependency,
    DependencyFailed,
    Gate,
    SkipDependent,
    dependency_step,
    find_cycle,
    runnable_spec,
)
from mediajobs.lifecycle.plan import Noop, Queue, plan
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.model import JobKey
from tests.unit.lifecycle.test_plan import record

CREATED = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # test_plan's record()
NOW = CREATED + timedelta(minutes=5)


def dependent(*deps: str, policy: str = "Fail", **spec: Any) -> Record:
    return record({"dependsOn": list(deps), "onDependencyFailure": policy, **spec})


def dep(name: str, phase: Phase | None = None, *outputs: str, **more: Any) -> Dependency:
    return Dependency(name, phase, tuple(outputs), **more)


def snapshot(*deps: Dependency) -> dict[str, Dependency]:
    return {d.name: d for d in deps}


# ---- cycles -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("graph", "start", "cycle"),
    [
        ({"a": ["b"], "b": ["c"]}, "a", None),
        ({"a": ["b"], "b": ["a"]}, "a", ["a", "b", "a"]),
        ({"a": ["b", "x"], "b": ["c"], "c": ["a"]}, "a", ["a", "b", "c", "a"]),
        ({"a": ["b"], "b": ["c"], "c": ["b"]}, "a", None),  # a cycle, not through a
        ({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}, "a", None),  # a diamond
        ({"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": ["a"]}, "a", ["a", "b", "d", "a"]),
        ({}, "a", None),
    ],
)
def test_find_cycle(graph: dict[str, list[str]], start: str, cycle: list[str] | None) -> None:
    assert find_cycle(start, graph) == cycle


def test_a_long_chain_is_no_cycle_and_costs_no_recursion() -> None:
    graph = {f"j{i}": [f"j{i + 1}"] for i in range(10_000)}
    assert find_cycle("j0", graph) is None
    graph["j9999"] = ["j0"]
    cycle = find_cycle("j0", graph)
    assert cycle is not None and len(cycle) == 10_001


# ---- the gate ---------------------------------------------------------------------------


def test_no_dependencies_no_gate() -> None:
    assert dependency_step(record(), {}, None, NOW) is None


def test_waits_for_what_has_not_succeeded() -> None:
    step = dependency_step(
        dependent("a", "b", "c"),
        snapshot(dep("a", Phase.SUCCEEDED), dep("b", Phase.RUNNING), dep("c")),
        None,
        NOW,
    )
    assert step == AwaitDependencies(("b", "c"))
    assert step.message == "waiting for b, c to succeed"


def test_met_resolves_inputs_from_outputs() -> None:
    given = [{"fromJob": "a", "output": 1}, {"path": "x.mp4"}]
    job = dependent("a", "b", input=None, inputs=given)
    deps = snapshot(dep("a", Phase.SUCCEEDED, "a0.mp4", "a1.mp4"), dep("b", Phase.SUCCEEDED))
    assert dependency_step(job, deps, None, NOW) == DependenciesMet(
        "dependencies succeeded", [InputRef(path="a1.mp4"), InputRef(path="x.mp4")]
    )


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("Fail", DependencyFailed("dependency a failed")),
        ("Skip", SkipDependent("skipped: dependency a failed")),
        ("Run", AwaitDependencies(("b",))),  # runs once every dependency has finished
    ],
)
def test_on_dependency_failure(policy: str, expected: object) -> None:
    deps = snapshot(dep("a", Phase.FAILED), dep("b", Phase.RUNNING))
    assert dependency_step(dependent("a", "b", policy=policy), deps, None, NOW) == expected


def test_run_anyway_once_all_finished() -> None:
    deps = snapshot(dep("a", Phase.CANCELLED), dep("b", Phase.SUCCEEDED))
    step = dependency_step(dependent("a", "b", policy="Run"), deps, None, NOW)
    assert step == DependenciesMet("ran anyway (onDependencyFailure Run): dependency a cancelled")


def test_run_anyway_cannot_take_an_output_that_was_never_written() -> None:
    job = dependent("a", policy="Run", input={"fromJob": "a"})
    step = dependency_step(job, snapshot(dep("a", Phase.FAILED)), None, NOW)
    assert step == DependencyFailed(
        "input 0 is output 0 of a, which did not succeed (dependency a failed)"
    )


def test_a_skipped_dependency_counts_as_failed() -> None:
    step = dependency_step(dependent("a"), snapshot(dep("a", Phase.SKIPPED)), None, NOW)
    assert step == DependencyFailed("dependency a skipped")


def test_deleted_before_success_fails_after_success_lends_its_outputs() -> None:
    gone = dep("a", Phase.RUNNING, found=False, deleted=True)
    step = dependency_step(dependent("a"), snapshot(gone), None, NOW)
    assert step == DependencyFailed("dependency a was deleted before it succeeded")
    done = dep("a", Phase.SUCCEEDED, "a.mp4", found=False, deleted=True)
    job = dependent("a", input={"fromJob": "a"})
    step = dependency_step(job, snapshot(done), None, NOW)
    assert step == DependenciesMet("dependencies succeeded", [InputRef(path="a.mp4")])


def test_a_missing_name_waits_out_its_grace_then_is_refused() -> None:
    job = dependent("a", "ghost")
    grace = CREATED + timedelta(seconds=MISSING_GRACE_SECONDS)
    early = dependency_step(job, snapshot(dep("a", Phase.RUNNING)), None, CREATED)
    assert early == AwaitDependencies(("a", "ghost"), check_at=grace)
    late = dependency_step(job, snapshot(dep("a", Phase.RUNNING)), None, grace)
    assert isinstance(late, BadDependencies)
    assert late.message.startswith("spec.dependsOn names ghost: no such MediaJob in namespace ns")


def test_a_cycle_is_refused_first() -> None:
    step = dependency_step(dependent("a"), snapshot(dep("a")), ["mj", "a", "mj"], NOW)
    assert step == BadDependencies("spec.dependsOn makes a cycle: mj -> a -> mj")


def test_an_output_index_past_the_outputs_is_refused() -> None:
    job = dependent("a", input={"fromJob": "a", "output": 3})
    step = dependency_step(job, snapshot(dep("a", Phase.SUCCEEDED, "one.mp4")), None, NOW)
    assert step == BadDependencies("input 0 is output 3 of a, which wrote 1 output(s)")


# ---- in plan() and the statuses ---------------------------------------------------------


def test_plan_gates_then_queues_once_met() -> None:
    job = dependent("a", input={"fromJob": "a"})
    deps = snapshot(dep("a", Phase.RUNNING))
    waits = plan(job, None, NOW, Retention(), dependencies=deps)
    assert waits == Gate(AwaitDependencies(("a",)))
    shown = statuses.applied(job, statuses.dependency(job, waits.step, NOW))
    assert shown.phase == Phase.PENDING and shown.status.waiting_reason == "WaitingForDependency"
    assert plan(shown, None, NOW, Retention(), dependencies=deps) == Noop()  # said once
    done = snapshot(dep("a", Phase.SUCCEEDED, "a.mp4"))
    met = plan(shown, None, NOW, Retention(), dependencies=done)
    assert met == Gate(DependenciesMet("dependencies succeeded", [InputRef(path="a.mp4")]))
    passed = statuses.applied(shown, statuses.dependency(shown, met.step, NOW))
    assert passed.status.waiting_reason is None and passed.status.inputs == [InputRef(path="a.mp4")]
    # Past the gate, what becomes of the dependency no longer matters.
    assert plan(passed, None, NOW, Retention(), dependencies={}) == Queue(1, 1)
    spec = runnable_spec(passed)
    assert (spec.input, spec.inputs) == (None, [InputRef(path="a.mp4")])


def test_skipped_is_finished_and_expires_like_a_cancelled_job() -> None:
    job = dependent("a", policy="Skip")
    skipped = statuses.applied(job, statuses.dependency(job, SkipDependent("skipped"), NOW))
    assert skipped.phase == Phase.SKIPPED and Phase.SKIPPED.finished
    retention = Retention()
    later = NOW + timedelta(seconds=retention.cancelled_seconds)
    assert type(plan(skipped, None, later, retention)).__name__ == "Expire"


# ---- the index --------------------------------------------------------------------------


def named(name: str, *deps: str, phase: Phase | None = None) -> Record:
    job = record({"dependsOn": list(deps)} if deps else None)
    job = statuses.applied(job, statuses.Transition(job.status.model_copy(update={"phase": phase})))
    job.key = JobKey("ns", name)
    return job


def test_dependents_are_kicked_when_a_dependency_changes_phase_only() -> None:
    index = Dependents()
    b = named("b", "a")
    assert index.observe(b.key, b) == set()
    a = named("a", phase=Phase.QUEUED)
    assert index.observe(a.key, a) == {b.key}
    assert index.observe(a.key, a) == set()  # a write that moved no phase
    a = named("a", phase=Phase.RUNNING)
    assert index.observe(a.key, a) == {b.key}
    assert index.observe(a.key, None) == {b.key}
    deps, cycle = index.of(b, {b.key: b})
    assert deps == {"a": Dependency("a", Phase.RUNNING, deleted=True)} and cycle is None
    finished = named("b", "a", phase=Phase.FAILED)
    index.observe(b.key, finished)
    assert index.dependents == {} and index.tombstones == {}  # nothing left to remember


def test_the_index_finds_a_cycle_through_a_job() -> None:
    index = Dependents()
    jobs = [named("a", "c"), named("b", "a"), named("c", "b")]
    for job in jobs:
        index.observe(job.key, job)
    _, cycle = index.of(jobs[0], {j.key: j for j in jobs})
    assert cycle == ["a", "c", "b", "a"]
