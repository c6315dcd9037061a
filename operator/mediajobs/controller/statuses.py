"""Status transitions as data: each returns the status fields to merge-patch and the Event.

The operator is the only writer of a MediaJob's status, so a transition is
computed from the status it last wrote plus what happened, with the clock
passed in. Fields set to None are removed by the merge patch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mediajobs.api.common import ConditionStatus
from mediajobs.api.conditions import ConditionType, one_line, set_condition
from mediajobs.api.mediajob import Phase
from mediajobs.controller.records import Record
from mediajobs.jobs.outcome import Outcome, OutcomeKind
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


def _conditions(
    record: Record, now: datetime, *changes: tuple[str, ConditionStatus, str, str]
) -> list[dict[str, Any]]:
    conditions = list(record.status.conditions or [])
    for type_, status, reason, message in changes:
        conditions, _ = set_condition(
            conditions, type_, status, reason, message, now=now, generation=record.generation
        )
    return [c.wire() for c in conditions]


def _base(record: Record, phase: Phase) -> Fields:
    return {
        "phase": phase.value,
        "observedGeneration": record.generation,
        "category": record.placement.category.value if record.placement else None,
    }


def queued(record: Record, wait: Wait | None, now: datetime) -> Transition:
    reason = wait.reason if wait else "waiting for admission"
    fields = _base(record, Phase.QUEUED) | {
        "queuePosition": wait.position if wait else None,
        "waitingReason": reason,
        "conditions": _conditions(record, now, (C.ADMITTED, "False", "Queued", reason)),
    }
    return Transition(fields)


def admitted(record: Record, attempt: int, job_name: str, now: datetime) -> Transition:
    message = f"attempt {attempt}: Job {job_name} created"
    fields = _base(record, Phase.RUNNING) | {
        "attempts": attempt,
        "jobName": job_name,
        "startedAt": _stamp(record.status.started_at or now),
        "progress": 0,
        "queuePosition": None,
        "waitingReason": None,
        "retryAfter": None,
        "message": None,
        "conditions": _conditions(
            record,
            now,
            (C.ADMITTED, "True", "Admitted", message),
            (C.RUNNING, "True", "JobCreated", message),
            (C.WAITING_FOR_HUMAN, "False", "Admitted", message),
        ),
    }
    return Transition(fields, Event("Normal", "Admitted", message))


def _failed(record: Record, reason: str, message: str, now: datetime) -> Transition:
    fields = _base(record, Phase.FAILED) | {
        "message": one_line(message),
        "completedAt": _stamp(now),
        "queuePosition": None,
        "waitingReason": None,
        "retryAfter": None,
        "conditions": _conditions(
            record,
            now,
            (C.RUNNING, "False", reason, message),
            (C.FAILED, "True", reason, message),
        ),
    }
    return Transition(fields, Event("Warning", reason, message))


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
        return _with(_failed(record, outcome.reason, message, now), failures=failures)
    return _failed(record, outcome.reason, outcome.message, now)


def _with(t: Transition, **fields: Any) -> Transition:  # noqa: ANN401 - status field values
    return Transition(t.fields | fields, t.event)


def _succeeded(record: Record, outcome: Outcome, now: datetime) -> Transition:
    done = outcome.finished_at or now
    message = outcome.message or "succeeded"
    fields = _base(record, Phase.SUCCEEDED) | {
        "progress": 100,
        "completedAt": _stamp(done),
        "result": outcome.result.wire() if outcome.result is not None else None,
        "message": None,
        "conditions": _conditions(
            record,
            now,
            (C.RUNNING, "False", "Completed", message),
            (C.COMPLETE, "True", "Succeeded", message),
        ),
    }
    return Transition(fields, Event("Normal", "Succeeded", message))


def _backing_off(record: Record, outcome: Outcome, failures: int, now: datetime) -> Transition:
    delay = retry_delay(failures, record.spec.retry.backoff)
    retry_at = now + timedelta(seconds=delay)
    message = (
        f"attempt {record.status.attempts} failed ({outcome.reason}): {outcome.message}; "
        f"retry {failures}/{record.spec.retry.limit} after {delay:g}s"
    )
    fields = _base(record, Phase.BACKING_OFF) | {
        "failures": failures,
        "retryAfter": _stamp(retry_at),
        "message": one_line(outcome.message),
        "conditions": _conditions(
            record,
            now,
            (C.RUNNING, "False", "BackingOff", message),
            (C.ADMITTED, "False", "BackingOff", message),
        ),
    }
    return Transition(fields, Event("Warning", "BackingOff", message))


def _waiting_for_human(record: Record, outcome: Outcome, now: datetime) -> Transition:
    message = outcome.message or "the platform asks for a login"
    fields = _base(record, Phase.WAITING_FOR_HUMAN) | {
        "message": one_line(message),
        "conditions": _conditions(
            record,
            now,
            (C.RUNNING, "False", "LoginRequired", message),
            (C.ADMITTED, "False", "LoginRequired", message),
            (C.WAITING_FOR_HUMAN, "True", "LoginRequired", message),
        ),
    }
    return Transition(fields, Event("Warning", "LoginRequired", message))


def cancelled(record: Record, now: datetime) -> Transition:
    message = "cancelled by spec.cancel"
    fields = _base(record, Phase.CANCELLED) | {
        "completedAt": _stamp(now),
        "queuePosition": None,
        "waitingReason": None,
        "retryAfter": None,
        "conditions": _conditions(record, now, (C.RUNNING, "False", "Cancelled", message)),
    }
    return Transition(fields, Event("Normal", "Cancelled", message))


def suspended(record: Record, now: datetime) -> Transition:
    message = "suspended by spec.suspend; it resumes when suspend is false"
    fields = _base(record, Phase.SUSPENDED) | {
        "queuePosition": None,
        "waitingReason": None,
        "conditions": _conditions(
            record,
            now,
            (C.RUNNING, "False", "Suspended", message),
            (C.ADMITTED, "False", "Suspended", message),
        ),
    }
    return Transition(fields, Event("Normal", "Suspended", message))


def progressed(progress: int) -> Transition:
    return Transition({"progress": progress})
