"""Status transitions as data: each returns the status to merge-patch and the Event.

The operator is the only writer of a MediaJob's status, so a transition is
computed from the status it last wrote plus what happened, with the clock
passed in. A transition's status is the API's own model (api/mediajob.py),
built with only the fields it changes: a misspelt field is a mypy error (and a
validation error when run), never a key the structural schema drops in silence.
A field set to None is removed by the merge patch. (A little over 400 lines: every
MediaJob status transition, each built the same way, in one place.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from mediajobs.api.common import ConditionStatus
from mediajobs.api.conditions import ConditionType, one_line, set_condition
from mediajobs.api.mediajob import MediaJobStatus, Phase
from mediajobs.jobs.naming import hitl_session_name
from mediajobs.jobs.outcome import Outcome, OutcomeKind
from mediajobs.lifecycle.dependencies import (
    WAITING_REASON,
    AwaitDependencies,
    BadDependencies,
    DependenciesMet,
    DependencyFailed,
    DependencyStep,
)
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.backoff import MAX_RATE_LIMITED_WAITS, retry_delay
from mediajobs.scheduling.decide import Wait

C = ConditionType
_WIRE = {name: f.alias or name for name, f in MediaJobStatus.model_fields.items()}


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Transition:
    status: MediaJobStatus  # only the fields this transition sets (None: remove it)
    event: Event | None = None

    @property
    def phase(self) -> Phase | None:
        return self.status.phase if "phase" in self.status.model_fields_set else None

    @property
    def failed_reason(self) -> str | None:
        """Why the job failed, when this transition fails it (its Failed condition's reason)."""
        if self.phase != Phase.FAILED:
            return None
        failed = (c for c in self.status.conditions or [] if c.type == C.FAILED)
        return next((c.reason for c in failed if c.status == "True"), None)

    @property
    def fields(self) -> dict[str, Any]:
        """The status merge patch: the fields set, by wire name; null removes a field."""
        status, names = self.status, self.status.model_fields_set
        patch = status.model_dump(by_alias=True, mode="json", include=names, exclude_none=True)
        return patch | {_WIRE[n]: None for n in names if getattr(status, n) is None}


def _merge(*parts: MediaJobStatus | None) -> MediaJobStatus:
    """One status setting every field the PARTS set (a later part wins; None stays set)."""
    fields: dict[str, Any] = {}
    for part in parts:
        if part is not None:
            fields |= {name: getattr(part, name) for name in part.model_fields_set}
    return MediaJobStatus(**fields)


def _second(t: datetime) -> datetime:
    """T to the second, as kubectl shows times (and as they were always written)."""
    return t.replace(microsecond=0)


def _transition(
    record: Record,
    phase: Phase,
    now: datetime,
    *,
    say: str,
    conditions: Sequence[tuple[str, ConditionStatus, str]],
    event: tuple[str, str] | None,
    changes: MediaJobStatus | None = None,
) -> Transition:
    """PHASE with CONDITIONS (type, status, reason) and the Event all saying SAY;
    CHANGES are the further fields the transition sets."""
    current = list(record.status.conditions or [])
    for type_, status, reason in conditions:
        current, _ = set_condition(
            current, type_, status, reason, say, now=now, generation=record.generation
        )
    base = MediaJobStatus(
        phase=phase,
        observed_generation=record.generation,
        category=record.placement.category if record.placement else None,
        conditions=current,
    )
    return Transition(_merge(base, changes), Event(event[0], event[1], say) if event else None)


# What a job that no longer waits in the queue stops showing.
_OFF_QUEUE = MediaJobStatus(
    queue_position=None, waiting_reason=None, retry_after=None, hitl_session=None
)


def queued(record: Record, wait: Wait | None, now: datetime) -> Transition:
    reason = wait.reason if wait else "waiting for admission"
    # A preempted job says so until it is admitted again (its place is written over).
    admitted = next((c for c in record.status.conditions or [] if c.type == C.ADMITTED), None)
    preempted = admitted is not None and admitted.reason == "Preempted"
    return _transition(
        record,
        Phase.QUEUED,
        now,
        say=reason,
        conditions=[(C.ADMITTED, "False", "Preempted" if preempted else "Queued")],
        event=None,
        changes=MediaJobStatus(
            queue_position=wait.position if wait else None, waiting_reason=reason
        ),
    )


def admitted(record: Record, attempt: int, run: int, job_name: str, now: datetime) -> Transition:
    """RUN (its Job JOB_NAME) of ATTEMPT is running; a run after a logout says so."""
    relogged = run > record.runs and attempt == (record.status.attempts or 0)
    again = " goes on after the login" if relogged else ""
    return _transition(
        record,
        Phase.RUNNING,
        now,
        say=f"attempt {attempt}{again}: Job {job_name} created",
        conditions=[
            (C.ADMITTED, "True", "Admitted"),
            (C.RUNNING, "True", "JobCreated"),
            (C.WAITING_FOR_HUMAN, "False", "Admitted"),
        ],
        event=("Normal", "Admitted"),
        changes=_merge(
            _OFF_QUEUE,
            MediaJobStatus(
                attempts=attempt,
                runs=run,
                job_name=job_name,
                started_at=_second(record.status.started_at or now),
                progress=0,
                message=None,
            ),
        ),
    )


def _failed(
    record: Record, reason: str, message: str, now: datetime, more: MediaJobStatus | None = None
) -> Transition:
    changes = _merge(
        MediaJobStatus(message=one_line(message), completed_at=_second(now)), _OFF_QUEUE, more
    )
    return _transition(
        record,
        Phase.FAILED,
        now,
        say=message,
        conditions=[(C.RUNNING, "False", reason), (C.FAILED, "True", reason)],
        event=("Warning", reason),
        changes=changes,
    )


def human_failed(record: Record, reason: str, message: str, now: datetime) -> Transition:
    """Its HitlSession expired or was cancelled (REASON HitlExpired or HitlCancelled)."""
    failed = _failed(record, reason, message, now)
    conditions, _ = set_condition(
        failed.status.conditions or [],
        C.WAITING_FOR_HUMAN,
        "False",
        reason,
        message,
        now=now,
        generation=record.generation,
    )
    return Transition(_merge(failed.status, MediaJobStatus(conditions=conditions)), failed.event)


def invalid(record: Record, message: str, now: datetime) -> Transition:
    return _failed(record, "InvalidSpec", message, now)


def unschedulable(record: Record, message: str, now: datetime) -> Transition:
    return _failed(record, "Unschedulable", message, now)


def finished(record: Record, outcome: Outcome, now: datetime) -> Transition:
    """The attempt ended: Succeeded, Failed, BackingOff or WaitingForHuman; what it
    said of a worker that had not started goes (see not_starting)."""
    ended = _ended(record, outcome, now)
    if record.status.waiting_reason is None:
        return ended
    return Transition(_merge(ended.status, MediaJobStatus(waiting_reason=None)), ended.event)


def _ended(record: Record, outcome: Outcome, now: datetime) -> Transition:
    kind = outcome.kind
    if kind is OutcomeKind.SUCCEEDED:
        return _succeeded(record, outcome, now)
    if kind is OutcomeKind.LOGIN_REQUIRED:
        return waiting_for_human(record, outcome.message or "the platform asks for a login", now)
    if kind is OutcomeKind.RETRYABLE:
        waits = (record.status.rate_limited_waits or 0) + 1
        if outcome.retry_after_seconds is not None and waits <= MAX_RATE_LIMITED_WAITS:
            return _rate_limited(record, outcome, outcome.retry_after_seconds, waits, now)
        failures = (record.status.failures or 0) + 1
        limit = record.spec.retry.limit
        if failures <= limit:
            return _backing_off(record, outcome, failures, now)
        message = f"failed {failures} time(s), retry limit {limit} reached: {outcome.message}"
        return _failed(record, outcome.reason, message, now, MediaJobStatus(failures=failures))
    return _failed(record, outcome.reason, outcome.message, now)


def _succeeded(record: Record, outcome: Outcome, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.SUCCEEDED,
        now,
        say=outcome.message or "succeeded",
        conditions=[(C.RUNNING, "False", "Completed"), (C.COMPLETE, "True", "Succeeded")],
        event=("Normal", "Succeeded"),
        changes=MediaJobStatus(
            progress=100,
            completed_at=_second(outcome.finished_at or now),
            result=outcome.result,
            message=None,
        ),
    )


def _rate_limited(
    record: Record, outcome: Outcome, delay: int, waits: int, now: datetime
) -> Transition:
    """The platform asked the attempt to wait DELAY seconds (a 429's Retry-After): the
    next attempt starts no sooner, and no retry is spent (scheduling/backoff.py)."""
    return _retry_later(
        record,
        outcome,
        now,
        reason="RateLimited",
        said=f"retry after {delay}s as the platform asked (no retry spent: wait "
        f"{waits}/{MAX_RATE_LIMITED_WAITS})",
        # Rounded up: never sooner than asked.
        retry_after=_second(now + timedelta(seconds=delay, microseconds=999_999)),
        changes=MediaJobStatus(rate_limited_waits=waits),
    )


def _backing_off(record: Record, outcome: Outcome, failures: int, now: datetime) -> Transition:
    delay = retry_delay(failures, record.spec.retry.backoff, outcome.retry_after_seconds)
    return _retry_later(
        record,
        outcome,
        now,
        reason="BackingOff",
        said=f"retry {failures}/{record.spec.retry.limit} after {delay:g}s",
        retry_after=_second(now + timedelta(seconds=delay)),
        changes=MediaJobStatus(failures=failures),
    )


def _retry_later(
    record: Record,
    outcome: Outcome,
    now: datetime,
    *,
    reason: str,
    said: str,
    retry_after: datetime,
    changes: MediaJobStatus,
) -> Transition:
    """BackingOff until RETRY_AFTER, holding no slot; REASON the conditions' and Event's."""
    return _transition(
        record,
        Phase.BACKING_OFF,
        now,
        say=f"attempt {record.status.attempts} failed ({outcome.reason}): "
        f"{outcome.message}; {said}",
        conditions=[(C.RUNNING, "False", reason), (C.ADMITTED, "False", reason)],
        event=("Warning", reason),
        changes=_merge(
            changes, MediaJobStatus(retry_after=retry_after, message=one_line(outcome.message))
        ),
    )


def waiting_for_human(record: Record, message: str, now: datetime) -> Transition:
    """Its worker found itself logged out, or its login was found missing or expired
    before admission (MESSAGE says which): it waits, holding no slot, on the HitlSession
    of its (creatorProfile, platform) (controller/sessions.py opens it), if it names both."""
    spec = record.spec
    session = None
    if spec.creator_profile is not None and spec.platform is not None:
        session = hitl_session_name(spec.creator_profile, spec.platform)
    return _transition(
        record,
        Phase.WAITING_FOR_HUMAN,
        now,
        say=message,
        conditions=[
            (C.RUNNING, "False", "LoginRequired"),
            (C.ADMITTED, "False", "LoginRequired"),
            (C.WAITING_FOR_HUMAN, "True", "LoginRequired"),
        ],
        event=("Warning", "LoginRequired"),
        changes=_merge(_OFF_QUEUE, MediaJobStatus(message=one_line(message), hitl_session=session)),
    )


def cancelled(record: Record, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.CANCELLED,
        now,
        say="cancelled by spec.cancel",
        conditions=[(C.RUNNING, "False", "Cancelled")],
        event=("Normal", "Cancelled"),
        changes=_merge(_OFF_QUEUE, MediaJobStatus(completed_at=_second(now))),
    )


def retried(record: Record, now: datetime) -> Transition:
    """A person asked to run the Failed RECORD again (spec.manualRetries): it waits for
    admission with its attempts reset and a fresh retry budget; its runs keep counting
    (each names a Job, so none is reused)."""
    asked = record.spec.manual_retries
    say = (
        f"retry requested (spec.manualRetries {asked}): queued again with a fresh budget "
        f"of {record.spec.retry.limit} retries"
    )
    return _transition(
        record,
        Phase.PENDING,
        now,
        say=say,
        conditions=[(C.FAILED, "False", "Retried"), (C.ADMITTED, "False", "Queued")],
        event=("Normal", "Retried"),
        changes=MediaJobStatus(
            manual_retries=asked,
            attempts=0,
            runs=record.runs,
            failures=0,
            rate_limited_waits=None,
            completed_at=None,
            result=None,
            progress=None,
            message=say,
        ),
    )


def suspended(record: Record, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.SUSPENDED,
        now,
        say="suspended by spec.suspend; it resumes when suspend is false",
        conditions=[(C.RUNNING, "False", "Suspended"), (C.ADMITTED, "False", "Suspended")],
        event=("Normal", "Suspended"),
        changes=MediaJobStatus(queue_position=None, waiting_reason=None),
    )


def not_starting(record: Record, reason: str | None, message: str | None) -> Transition:
    """Why a Running job's worker has not started (REASON None: it has, after all)."""
    said = one_line(f"the worker has not started: {message}") if message else None
    event = Event("Warning", reason, said) if reason is not None and said is not None else None
    return Transition(MediaJobStatus(waiting_reason=reason, message=said), event)


def edit_noted(record: Record) -> Transition:
    """The spec was edited: the generation is observed (kubectl wait reads the
    conditions'), and the user is told what becomes of the edit where it is not simply
    acted on (a waiting job is admitted as it now reads, in its new order)."""
    generation = record.generation
    conditions = [
        c.model_copy(update={"observed_generation": generation})
        for c in record.status.conditions or []
    ]
    phase = record.phase
    if phase is not None and phase.finished:
        say = f"the MediaJob has finished ({phase}); spec changes are not acted on"
        event: Event | None = Event("Normal", "EditIgnored", say)
    elif phase == Phase.RUNNING:
        say = (
            f"attempt {record.status.attempts} is running as it was admitted; spec changes "
            "apply from its next attempt, if any (suspend and cancel act at once)"
        )
        event = Event("Normal", "EditDeferred", say)
    else:
        event = None
    return Transition(MediaJobStatus(observed_generation=generation, conditions=conditions), event)


def applied(record: Record, transition: Transition) -> Record:
    """RECORD as it reads once TRANSITION is written (to build the next one on it)."""
    return replace(record, status=_merge(record.status, transition.status))


def combined(first: Transition, then: Transition) -> Transition:
    """FIRST and THEN as one status write (THEN built on ``applied(record, FIRST)``);
    THEN's Event only: a step nobody saw written is not announced either."""
    return Transition(_merge(first.status, then.status), then.event)


def progressed(progress: int) -> Transition:
    return Transition(MediaJobStatus(progress=progress))


def preempted(
    record: Record, by: str, by_priority: int, now: datetime, *, fair_share: bool = False
) -> Transition:
    """Its Job was suspended so that BY (of priority BY_PRIORITY) could take its slot
    (FAIR_SHARE: its namespace held more than its share): it waits again in its original
    place, its attempt and retry budget untouched (its worker removes its partial output
    on SIGTERM: worker/outputs.py)."""
    why = (
        f"for fair share (namespace {record.key.namespace} holds more than its share)"
        if fair_share
        else "to free its slot"
    )
    say = (
        f"preempted by {by} (priority {by_priority}) {why}; queued again in its "
        f"place, attempt {record.status.attempts or 0} resumes when admitted (no retry spent)"
    )
    return _transition(
        record,
        Phase.QUEUED,
        now,
        say=say,
        conditions=[(C.RUNNING, "False", "Preempted"), (C.ADMITTED, "False", "Preempted")],
        event=("Normal", "Preempted"),
        changes=MediaJobStatus(waiting_reason=f"Preempted by {by}", progress=0, message=None),
    )


def dependency(record: Record, step: DependencyStep, now: datetime) -> Transition:
    """Where the dependency gate (lifecycle/dependencies.py) leaves RECORD: Pending
    waiting for its dependencies, or with them met (its inputs resolved), Failed, or
    Skipped."""
    met = C.DEPENDENCIES_MET
    match step:
        case AwaitDependencies():
            return _transition(
                record,
                Phase.PENDING,
                now,
                say=step.message,
                conditions=[(met, "False", WAITING_REASON)],
                event=None if record.phase == Phase.PENDING else ("Normal", WAITING_REASON),
                changes=MediaJobStatus(waiting_reason=WAITING_REASON, message=step.message),
            )
        case DependenciesMet():
            return _transition(
                record,
                Phase.PENDING,
                now,
                say=step.message,
                conditions=[(met, "True", "DependenciesMet")],
                event=("Normal", "DependenciesMet"),
                changes=MediaJobStatus(inputs=step.inputs, waiting_reason=None, message=None),
            )
        case DependencyFailed() | BadDependencies():
            reason = "DependencyFailed" if isinstance(step, DependencyFailed) else "InvalidSpec"
            failed = _failed(record, reason, step.message, now)
            conditions, _ = set_condition(
                failed.status.conditions or [],
                met,
                "False",
                reason,
                step.message,
                now=now,
                generation=record.generation,
            )
            status = _merge(failed.status, MediaJobStatus(conditions=conditions))
            return Transition(status, failed.event)
    return _transition(
        record,
        Phase.SKIPPED,
        now,
        say=step.message,
        conditions=[(met, "False", "DependencyFailed"), (C.RUNNING, "False", "Skipped")],
        event=("Normal", "Skipped"),
        changes=_merge(
            _OFF_QUEUE,
            MediaJobStatus(message=one_line(step.message), completed_at=_second(now)),
        ),
    )
