"""Status transitions: fields, conditions and Events for each outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from mediajobs.api.mediajob import JobResult, MediaJobStatus
from mediajobs.jobs.outcome import Outcome, OutcomeKind
from mediajobs.lifecycle import statuses
from mediajobs.scheduling.decide import Wait
from tests.localcluster import REPO
from tests.unit.lifecycle.test_plan import record

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def conditions(fields: dict[str, object]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in fields["conditions"]}  # type: ignore[attr-defined]


def test_admitted_clears_the_queue_fields() -> None:
    t = statuses.admitted(
        record(phase="Queued", queuePosition=3, waitingReason="x"), 1, 1, "mj-1", T0
    )
    assert t.fields["phase"] == "Running" and t.fields["attempts"] == 1
    assert t.fields["queuePosition"] is None and t.fields["waitingReason"] is None
    assert conditions(t.fields)["Admitted"] == ("True", "Admitted")
    assert t.event is not None and t.event.reason == "Admitted"


def test_success_records_the_result() -> None:
    result = JobResult(outputs=[], data={"k": 1})
    t = statuses.finished(
        record(phase="Running", attempts=1),
        Outcome(OutcomeKind.SUCCEEDED, "Succeeded", "", result),
        T0,
    )
    assert t.fields["phase"] == "Succeeded" and t.fields["progress"] == 100
    assert t.fields["result"] == {"outputs": [], "data": {"k": 1}}
    assert conditions(t.fields)["Complete"] == ("True", "Succeeded")


def test_retryable_backs_off_then_gives_up() -> None:
    failure = Outcome(OutcomeKind.RETRYABLE, "TemporaryFailure", "network down")
    spec = {"retry": {"limit": 1, "backoff": {"seconds": 10, "factor": 3, "maxSeconds": 100}}}
    first = statuses.finished(record(spec, phase="Running", attempts=1), failure, T0)
    assert first.fields["phase"] == "BackingOff" and first.fields["failures"] == 1
    assert first.fields["retryAfter"] == "2026-11-25T12:00:10Z"
    assert first.event is not None and first.event.type == "Warning"
    last = statuses.finished(record(spec, phase="Running", attempts=2, failures=1), failure, T0)
    assert last.fields["phase"] == "Failed" and last.fields["failures"] == 2
    assert "retry limit 1 reached: network down" in last.fields["message"]


def test_a_429_waits_as_long_as_asked_without_spending_a_retry_a_bounded_number_of_times() -> None:
    asked = Outcome(OutcomeKind.RETRYABLE, "RateLimited", "429", retry_after_seconds=600)
    spec = {"retry": {"limit": 1, "backoff": {"seconds": 10, "factor": 3, "maxSeconds": 100}}}
    now = T0.replace(microsecond=500_000)
    first = statuses.finished(record(spec, phase="Running", attempts=1), asked, now)
    assert first.fields["phase"] == "BackingOff" and "failures" not in first.fields
    assert first.fields["retryAfter"] == "2026-11-25T12:10:01Z"  # never sooner than asked
    assert first.fields["rateLimitedWaits"] == 1
    assert conditions(first.fields)["Running"] == ("False", "RateLimited")
    assert first.event is not None and first.event.reason == "RateLimited"
    assert (
        "retry after 600s as the platform asked (no retry spent: wait 1/5)"
        in (first.fields["conditions"][0]["message"])
    )
    # Past the bound, a 429 spends a retry, and still waits as long as asked.
    spent = record(spec, phase="Running", attempts=6, rateLimitedWaits=5)
    sixth = statuses.finished(spent, asked, T0)
    assert (sixth.fields["phase"], sixth.fields["failures"]) == ("BackingOff", 1)
    assert sixth.fields["retryAfter"] == "2026-11-25T12:10:00Z"
    assert "rateLimitedWaits" not in sixth.fields


def test_permanent_and_login_required() -> None:
    invalid = Outcome(OutcomeKind.INVALID, "InvalidInput", "input has no video stream")
    t = statuses.finished(record(phase="Running", attempts=1), invalid, T0)
    assert (t.fields["phase"], t.fields["message"]) == ("Failed", "input has no video stream")
    login = Outcome(OutcomeKind.LOGIN_REQUIRED, "LoginRequired", "session expired")
    t = statuses.finished(record(phase="Running", attempts=1), login, T0)
    assert t.fields["phase"] == "WaitingForHuman" and "failures" not in t.fields
    assert conditions(t.fields)["WaitingForHuman"] == ("True", "LoginRequired")


def test_condition_time_moves_only_on_a_status_change() -> None:
    earlier = "2026-11-25T11:00:00Z"
    rec = record(
        phase="Queued",
        conditions=[
            {
                "type": "Admitted",
                "status": "False",
                "reason": "Queued",
                "message": "a",
                "lastTransitionTime": earlier,
            }
        ],
    )
    t = statuses.queued(rec, None, T0)
    (admitted,) = t.fields["conditions"]
    assert admitted["lastTransitionTime"] == earlier


CONDITION = {
    "type": "Complete",
    "status": "True",
    "reason": "Succeeded",
    "message": "ok",
    "lastTransitionTime": "2026-11-25T11:00:00Z",
    "observedGeneration": 1,
}


def _status_schema() -> dict[str, Any]:
    crd = yaml.safe_load((REPO / "crds" / "mediajobs.dev_mediajobs.yaml").read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema["properties"]["status"]  # type: ignore[no-any-return]


RUNNING = record(phase="Running", attempts=1, startedAt="2026-11-25T11:30:00Z")
EVERY_TRANSITION = {
    "queued": statuses.queued(record(), Wait(2, "cpu: 1/1 running"), T0),
    "admitted": statuses.admitted(record(phase="Queued"), 1, 1, "mj-1", T0),
    "invalid": statuses.invalid(record(), "spec.params.width: too small", T0),
    "unschedulable": statuses.unschedulable(record(), "asks 9 GPUs", T0),
    "succeeded": statuses.finished(
        RUNNING, Outcome(OutcomeKind.SUCCEEDED, "Succeeded", "", JobResult(data={"k": 1})), T0
    ),
    "backing off": statuses.finished(RUNNING, Outcome(OutcomeKind.RETRYABLE, "OOMKilled", ""), T0),
    "login": statuses.finished(
        RUNNING, Outcome(OutcomeKind.LOGIN_REQUIRED, "LoginRequired", ""), T0
    ),
    "cancelled": statuses.cancelled(RUNNING, T0),
    "suspended": statuses.suspended(RUNNING, T0),
    "progressed": statuses.progressed(42),
    "not starting": statuses.not_starting(RUNNING, "ImagePullBackOff", "Back-off pulling"),
    "started after all": statuses.not_starting(RUNNING, None, None),
    "edit noted": statuses.edit_noted(
        record(phase="Succeeded", observedGeneration=1, conditions=[CONDITION])
    ),
    "edit deferred": statuses.edit_noted(
        record(phase="Running", attempts=1, observedGeneration=1, conditions=[CONDITION])
    ),
}


def test_an_edit_is_told_only_where_it_is_not_acted_on() -> None:
    def said(**status: Any) -> str | None:
        event = statuses.edit_noted(record(observedGeneration=1, **status)).event
        return event.reason if event else None

    assert said(phase="Succeeded") == "EditIgnored"
    assert said(phase="Running", attempts=2) == "EditDeferred"
    assert said(phase="Queued") is None  # admitted as it now reads
    assert said(phase="BackingOff") is None  # its next attempt reads it


@pytest.mark.parametrize("name", EVERY_TRANSITION)
def test_every_patch_speaks_the_status_schema(name: str) -> None:
    """Every field a patch sets is one the structural schema keeps, with a value the
    model accepts: nothing is dropped in silence by the API server."""
    fields = EVERY_TRANSITION[name].fields
    schema = _status_schema()
    assert set(fields) <= set(schema["properties"])
    kept = {k: v for k, v in fields.items() if v is not None}  # null removes a field
    assert MediaJobStatus.model_validate(kept).wire() == kept


def test_times_are_written_to_the_second() -> None:
    t = statuses.cancelled(RUNNING, T0.replace(microsecond=123456))
    assert t.fields["completedAt"] == "2026-11-25T12:00:00Z"


def test_an_ended_attempt_drops_what_was_said_of_its_pod() -> None:
    said = record(phase="Running", attempts=1, waitingReason="Unschedulable", message="0/3")
    failure = Outcome(OutcomeKind.RETRYABLE, "Unschedulable", "did not start")
    assert statuses.finished(said, failure, T0).fields["waitingReason"] is None
    success = Outcome(OutcomeKind.SUCCEEDED, "Succeeded", "", JobResult())
    assert "waitingReason" not in statuses.finished(RUNNING, success, T0).fields


def test_a_preempted_job_waits_queued_saying_so_with_its_attempt_kept() -> None:
    running = record(phase="Running", attempts=2, failures=1, progress=40)
    t = statuses.preempted(running, "ns/urgent", 1, T0)
    assert (t.fields["phase"], t.fields["progress"]) == ("Queued", 0)
    assert "attempts" not in t.fields and "failures" not in t.fields  # unchanged
    assert conditions(t.fields)["Admitted"] == ("False", "Preempted")
    assert conditions(t.fields)["Running"] == ("False", "Preempted")
    assert t.event is not None and (t.event.type, t.event.reason) == ("Normal", "Preempted")
    assert "preempted by ns/urgent (priority 1)" in t.event.message
    # Its place is written later: the Admitted condition still says Preempted.
    waiting = statuses.applied(running, t)
    again = statuses.queued(waiting, Wait(1, "cpu: 1/1 running"), T0)
    assert conditions(again.fields)["Admitted"] == ("False", "Preempted")
    assert again.fields["waitingReason"] == "cpu: 1/1 running"
