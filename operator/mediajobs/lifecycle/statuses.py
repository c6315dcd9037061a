"""Status transitions as data: each returns the status fields to merge-patch and the Event.

The operator is the only writer of a MediaJob's status, so a transition is
computed from the status it last wrote plus what happened, with the clock
passed in. Fields set to None are removed by the merge patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mediajobs.api.common import ConditionStatus
from mediajobs.api.conditions import ConditionType, one_line, set_condition
from mediajobs.api.mediajob import Phase
from mediajobs.jobs.outcome import Outcome, OutcomeKind
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.backoff import retry_delay
from mediajobs.scheduling.decide import Wait

Fields = dict[str, Any]
C = ConditionType


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass(frozen=True)
class Transition:
    fields: Fields
    event: Event | None = None

    @property
    def phase(self) -> str | None:
        value = self.fields.get("phase")
        return str(value) if value is not None else None


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _transition(
    record: Record,
    phase: Phase,
    now: datetime,
    *,
    say: str,
    conditions: Sequence[tuple[str, ConditionStatus, str]],
    event: tuple[str, str] | None,
    **fields: Any,  # noqa: ANN401 - status field values (None removes the field)
) -> Transition:
    """PHASE with CONDITIONS (type, status, reason) and the Event all saying SAY.

    FIELDS are further status fields, by their wire names; None removes one.
    """
    current = list(record.status.conditions or [])
    for type_, status, reason in conditions:
        current, _ = set_condition(
            current, type_, status, reason, say, now=now, generation=record.generation
        )
    base = {
        "phase": phase.value,
        "observedGeneration": record.generation,
        "category": record.placement.category.value if record.placement else None,
    }
    return Transition(
        base | fields | {"conditions": [c.wire() for c in current]},
        Event(event[0], event[1], say) if event else None,
    )


# What a job that no longer waits in the queue stops showing.
_OFF_QUEUE: Fields = {"queuePosition": None, "waitingReason": None, "retryAfter": None}


def queued(record: Record, wait: Wait | None, now: datetime) -> Transition:
    reason = wait.reason if wait else "waiting for admission"
    return _transition(
        record,
        Phase.QUEUED,
        now,
        say=reason,
        conditions=[(C.ADMITTED, "False", "Queued")],
        event=None,
        queuePosition=wait.position if wait else None,
        waitingReason=reason,
    )


def admitted(record: Record, attempt: int, job_name: str, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.RUNNING,
        now,
        say=f"attempt {attempt}: Job {job_name} created",
        conditions=[
            (C.ADMITTED, "True", "Admitted"),
            (C.RUNNING, "True", "JobCreated"),
            (C.WAITING_FOR_HUMAN, "False", "Admitted"),
        ],
        event=("Normal", "Admitted"),
        attempts=attempt,
        jobName=job_name,
        startedAt=_stamp(record.status.started_at or now),
        progress=0,
        message=None,
        **_OFF_QUEUE,
    )


def _failed(record: Record, reason: str, message: str, now: datetime, **fields: Any) -> Transition:  # noqa: ANN401
    return _transition(
        record,
        Phase.FAILED,
        now,
        say=message,
        conditions=[(C.RUNNING, "False", reason), (C.FAILED, "True", reason)],
        event=("Warning", reason),
        **({"message": one_line(message), "completedAt": _stamp(now)} | _OFF_QUEUE | fields),
    )


def invalid(record: Record, message: str, now: datetime) -> Transition:
    return _failed(record, "InvalidSpec", message, now)


def unschedulable(record: Record, message: str, now: datetime) -> Transition:
    return _failed(record, "Unschedulable", message, now)


def finished(record: Record, outcome: Outcome, now: datetime) -> Transition:
    """The attempt ended: Succeeded, Failed, BackingOff or WaitingForHuman."""
    kind = outcome.kind
    if kind is OutcomeKind.SUCCEEDED:
        return _succeeded(record, outcome, now)
    if kind is OutcomeKind.LOGIN_REQUIRED:
        return _waiting_for_human(record, outcome, now)
    if kind is OutcomeKind.RETRYABLE:
        failures = (record.status.failures or 0) + 1
        limit = record.spec.retry.limit
        if failures <= limit:
            return _backing_off(record, outcome, failures, now)
        message = f"failed {failures} time(s), retry limit {limit} reached: {outcome.message}"
        return _failed(record, outcome.reason, message, now, failures=failures)
    return _failed(record, outcome.reason, outcome.message, now)


def _succeeded(record: Record, outcome: Outcome, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.SUCCEEDED,
        now,
        say=outcome.message or "succeeded",
        conditions=[(C.RUNNING, "False", "Completed"), (C.COMPLETE, "True", "Succeeded")],
        event=("Normal", "Succeeded"),
        progress=100,
        completedAt=_stamp(outcome.finished_at or now),
        result=outcome.result.wire() if outcome.result is not None else None,
        message=None,
    )


def _backing_off(record: Record, outcome: Outcome, failures: int, now: datetime) -> Transition:
    delay = retry_delay(failures, record.spec.retry.backoff)
    return _transition(
        record,
        Phase.BACKING_OFF,
        now,
        say=(
            f"attempt {record.status.attempts} failed ({outcome.reason}): {outcome.message}; "
            f"retry {failures}/{record.spec.retry.limit} after {delay:g}s"
        ),
        conditions=[(C.RUNNING, "False", "BackingOff"), (C.ADMITTED, "False", "BackingOff")],
        event=("Warning", "BackingOff"),
        failures=failures,
        retryAfter=_stamp(now + timedelta(seconds=delay)),
        message=one_line(outcome.message),
    )


def _waiting_for_human(record: Record, outcome: Outcome, now: datetime) -> Transition:
    message = outcome.message or "the platform asks for a login"
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
        message=one_line(message),
    )


def cancelled(record: Record, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.CANCELLED,
        now,
        say="cancelled by spec.cancel",
        conditions=[(C.RUNNING, "False", "Cancelled")],
        event=("Normal", "Cancelled"),
        completedAt=_stamp(now),
        **_OFF_QUEUE,
    )


def suspended(record: Record, now: datetime) -> Transition:
    return _transition(
        record,
        Phase.SUSPENDED,
        now,
        say="suspended by spec.suspend; it resumes when suspend is false",
        conditions=[(C.RUNNING, "False", "Suspended"), (C.ADMITTED, "False", "Suspended")],
        event=("Normal", "Suspended"),
        queuePosition=None,
        waitingReason=None,
    )


def progressed(progress: int) -> Transition:
    return Transition({"progress": progress})
