"""Pipelines: may a MediaJob with ``spec.dependsOn`` be queued yet? Plain data.

A job that names dependencies passes a gate before it joins the queue (plan.py
asks ``dependency_step`` where a job would be queued for its first attempt). Until
every dependency has Succeeded it waits in ``Pending`` (waitingReason
``WaitingForDependency``), holding no slot and no Job; then its inputs that name a
dependency's output (``fromJob``) are resolved from that job's ``status.result``,
written to ``status.inputs`` with the ``DependenciesMet`` condition, and it is
queued in its own (priority, creation) order. The condition is the gate's record:
once True, nothing a dependency does later (its TTL deleting it) moves the job.

A dependency that fails, is cancelled or skipped, or is deleted before it
succeeded, is dealt with as ``onDependencyFailure`` says: ``Fail`` (reason
``DependencyFailed``, naming it), ``Skip`` (the job ends ``Skipped``) or ``Run``
(it is queued once every dependency has finished; an input from a job that wrote
nothing fails it). A name no MediaJob has is given ``MISSING_GRACE_SECONDS`` from
the job's creation (the jobs of one ``kubectl apply`` arrive in any order), then
refused (``InvalidSpec``), as is a cycle (``find_cycle``).

The controller's shell (controller/dependents.py) keeps the snapshot: each
dependency's phase and outputs, and what it knew of one deleted meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mediajobs.api.conditions import ConditionType
from mediajobs.api.mediajob import DependencyFailurePolicy, InputRef, MediaJobSpec, Phase
from mediajobs.lifecycle.records import Record

MISSING_GRACE_SECONDS = 30.0
WAITING_REASON = "WaitingForDependency"
# What a dependency can end as, short of success: each fails its dependents (per policy).
_UNSUCCESSFUL = frozenset({Phase.FAILED, Phase.CANCELLED, Phase.SKIPPED})


@dataclass(frozen=True)
class Dependency:
    """What the operator knows of one MediaJob another depends on: its PHASE (None: not
    queued yet) and OUTPUTS (the paths of its result, once Succeeded); FOUND False: no
    such MediaJob in view; DELETED: there was one, deleted (PHASE and OUTPUTS as last seen)."""

    name: str
    phase: Phase | None = None
    outputs: tuple[str, ...] = ()
    found: bool = True
    deleted: bool = False

    @property
    def succeeded(self) -> bool:
        return self.phase == Phase.SUCCEEDED

    @property
    def failure(self) -> str | None:
        """How it failed its dependents, in words (None: it has not)."""
        if self.deleted and not self.succeeded:
            return f"dependency {self.name} was deleted before it succeeded"
        if self.found and self.phase in _UNSUCCESSFUL:
            return f"dependency {self.name} {str(self.phase).lower()}"
        return None


@dataclass(frozen=True)
class AwaitDependencies:
    """Not yet: WAITING are the dependencies it waits for; CHECK_AT: plan again then
    (a missing one's grace ends)."""

    waiting: tuple[str, ...]
    check_at: datetime | None = None

    @property
    def message(self) -> str:
        return f"waiting for {', '.join(self.waiting)} to succeed"

    def shown_in(self, record: Record) -> bool:
        """Whether RECORD's status says this wait already."""
        status = record.status
        said = (record.phase, status.waiting_reason, status.message)
        return said == (Phase.PENDING, WAITING_REASON, self.message)


@dataclass(frozen=True)
class DependencyFailed:
    """A dependency failed (onDependencyFailure Fail), or an input from it cannot be had."""

    message: str


@dataclass(frozen=True)
class SkipDependent:
    """A dependency failed and onDependencyFailure is Skip: end as Skipped."""

    message: str


@dataclass(frozen=True)
class BadDependencies:
    """A cycle, a name no MediaJob has, an output that does not exist: InvalidSpec."""

    message: str


@dataclass(frozen=True)
class DependenciesMet:
    """Queue it: INPUTS are its inputs resolved (None: it has none from a job)."""

    message: str
    inputs: list[InputRef] | None = None


DependencyStep = (
    AwaitDependencies | DependencyFailed | SkipDependent | BadDependencies | DependenciesMet
)


@dataclass(frozen=True)
class Gate:
    """A plan step (plan.py): not queued yet for its dependencies; write where the gate
    leaves it (STEP) and plan it again at STEP's check_at, if it has one."""

    step: DependencyStep


def find_cycle(start: str, depends_on: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle through START in the graph DEPENDS_ON (name -> the names it depends on;
    a name absent from it has no edges), as the path START, ..., START; None: none."""
    path: list[str] = [start]
    seen: set[str] = set()
    stack: list[Sequence[str]] = [depends_on.get(start, ())]
    positions: list[int] = [0]
    while stack:
        edges, at = stack[-1], positions[-1]
        if at == len(edges):
            stack.pop()
            positions.pop()
            seen.add(path.pop())
            continue
        positions[-1] += 1
        nxt = edges[at]
        if nxt == start:
            return [*path, start]
        if nxt in seen or nxt in path:
            continue  # explored (no way back to START from it), or a cycle not through START
        path.append(nxt)
        stack.append(depends_on.get(nxt, ()))
        positions.append(0)
    return None


def gate_passed(record: Record) -> bool:
    """Whether RECORD has nothing (left) to wait for: no dependsOn, or met once."""
    if not record.spec.depends_on:
        return True
    met = (c for c in record.status.conditions or [] if c.type == ConditionType.DEPENDENCIES_MET)
    return any(c.status == "True" for c in met)


def dependency_step(  # noqa: PLR0911 - one return per way the gate can go
    record: Record,
    dependencies: Mapping[str, Dependency],
    cycle: Sequence[str] | None,
    now: datetime,
) -> DependencyStep | None:
    """What RECORD, about to be queued for its first attempt, must do first (None:
    nothing). DEPENDENCIES: one per name of its dependsOn; CYCLE: a cycle through it."""
    if gate_passed(record):
        return None
    if cycle:
        return BadDependencies(f"spec.dependsOn makes a cycle: {' -> '.join(cycle)}")
    deps = [dependencies.get(n, Dependency(n, found=False)) for n in record.spec.depends_on or []]
    missing = [d.name for d in deps if not d.found and not d.deleted]
    grace_ends = record.created + timedelta(seconds=MISSING_GRACE_SECONDS)
    if missing and now >= grace_ends:
        return BadDependencies(
            f"spec.dependsOn names {', '.join(missing)}: no such MediaJob in namespace "
            f"{record.key.namespace} (never created, or deleted while the operator was down)"
        )
    failures = [f for d in deps if (f := d.failure) is not None]
    policy = record.spec.on_dependency_failure
    if failures and policy == DependencyFailurePolicy.FAIL:
        return DependencyFailed("; ".join(failures))
    if failures and policy == DependencyFailurePolicy.SKIP:
        return SkipDependent(f"skipped: {'; '.join(failures)}")
    waiting = tuple(d.name for d in deps if not d.succeeded and d.failure is None)
    if waiting:
        return AwaitDependencies(waiting, grace_ends if missing else None)
    said = f"ran anyway (onDependencyFailure Run): {'; '.join(failures)}" if failures else ""
    return _resolved(record.spec, {d.name: d for d in deps}, said or "dependencies succeeded")


def _resolved(spec: MediaJobSpec, deps: Mapping[str, Dependency], message: str) -> DependencyStep:
    given = [spec.input] if spec.input is not None else list(spec.inputs or [])
    if not any(i.from_job for i in given):
        return DependenciesMet(message)
    out: list[InputRef] = []
    for number, ref in enumerate(given):
        if ref.from_job is None:
            out.append(ref)
            continue
        dep, index = deps[ref.from_job], ref.output or 0
        if not dep.succeeded:
            return DependencyFailed(
                f"input {number} is output {index} of {dep.name}, which did not succeed "
                f"({dep.failure or dep.phase})"
            )
        if index >= len(dep.outputs):
            return BadDependencies(
                f"input {number} is output {index} of {dep.name}, which wrote "
                f"{len(dep.outputs)} output(s)"
            )
        out.append(InputRef(path=dep.outputs[index]))
    return DependenciesMet(message, out)


def runnable_spec(record: Record) -> MediaJobSpec:
    """RECORD's spec as its worker runs it: inputs from other jobs resolved (status.inputs)."""
    resolved = record.status.inputs
    if not resolved:
        return record.spec
    return record.spec.model_copy(update={"input": None, "inputs": list(resolved)})
