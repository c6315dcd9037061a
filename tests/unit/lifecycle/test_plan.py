"""plan(): the next step of one MediaJob, from plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediajobs.config import Retention
from mediajobs.jobs.naming import ATTEMPT_LABEL, RUN_LABEL, UID_LABEL
from mediajobs.jobs.outcome import Outcome, OutcomeKind
from mediajobs.lifecycle.plan import (
    Adopt,
    Cancel,
    Expire,
    FailInvalid,
    Finish,
    GiveUp,
    Hold,
    Noop,
    Noted,
    NotRunning,
    NotStarting,
    Plan,
    Queue,
    Recreate,
    Retry,
    Sleep,
    Suspend,
    holds_slot,
    plan,
)
from mediajobs.lifecycle.records import JobView, Record, job_from_body, record_from_body
from tests.builders import mediajob

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PREEMPTED = {
    "type": "Admitted",
    "status": "False",
    "reason": "Preempted",
    "message": "preempted by ns/x",
    "lastTransitionTime": "2026-11-25T11:30:00Z",
}
RETENTION = Retention()


def record(spec: dict[str, Any] | None = None, **status: Any) -> Record:
    body = mediajob("mj").obj()
    body["spec"].update(spec or {})
    body["metadata"].update(
        namespace="ns", uid="u1", creationTimestamp="2026-11-25T11:00:00Z", resourceVersion="7"
    )
    body["status"] = status
    return record_from_body(body)


def job(
    attempt: int,
    *,
    run: int | None = None,
    finished: bool = False,
    suspended: bool = False,
    started: str | None = None,
) -> JobView:
    run = attempt if run is None else run
    conditions = [{"type": "Complete", "status": "True"}] if finished else []
    body = {
        "metadata": {
            "name": f"mj-x-{run}",
            "namespace": "ns",
            "resourceVersion": "9",
            "labels": {UID_LABEL: "u1", ATTEMPT_LABEL: str(attempt), RUN_LABEL: str(run)},
        },
        "spec": {"suspend": suspended},
        "status": {"conditions": conditions, "active": 0 if finished else 1}
        | ({"startTime": started} if started else {}),
    }
    view = job_from_body(body)
    assert view is not None
    return view


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


CASES: list[tuple[str, Record, JobView | None, Plan]] = [
    ("new", record(), None, Queue(1, 1)),
    (
        "invalid",
        record({"operation": "resize_image", "params": {"width": 3}}),
        None,
        FailInvalid(""),
    ),
    ("running", record(phase="Running", attempts=1), job(1), Hold(job(1))),
    ("running, Job not seen yet", record(phase="Running", attempts=1), None, Recreate(1, 1)),
    (
        "finished attempt",
        record(phase="Running", attempts=1),
        job(1, finished=True),
        Finish(job(1, finished=True)),
    ),
    (
        "preempted as its attempt ended: the outcome stands, no new attempt",
        record(phase="Queued", attempts=1, conditions=[PREEMPTED]),
        job(1, finished=True, suspended=True),
        Finish(job(1, finished=True, suspended=True)),
    ),
    (
        "Job ahead of status (crash after create)",
        record(phase="Queued", attempts=0),
        job(1),
        Adopt(job(1)),
    ),
    (
        "cancel running",
        record({"cancel": True}, phase="Running", attempts=1),
        job(1),
        Cancel(job(1)),
    ),
    ("cancel queued", record({"cancel": True}, phase="Queued"), None, Cancel(None)),
    ("retry asked of a failed job", record({"manualRetries": 1}, phase="Failed"), None, Retry()),
    (
        "retry already given",
        record({"manualRetries": 1}, phase="Failed", manualRetries=1),
        None,
        Noop(),
    ),
    (
        "retry asked of a succeeded job",
        record({"manualRetries": 1}, phase="Succeeded"),
        None,
        Noop(),
    ),
    (
        "suspend running",
        record({"suspend": True}, phase="Running", attempts=1),
        job(1),
        Suspend(job(1)),
    ),
    ("suspend queued", record({"suspend": True}, phase="Queued"), None, Suspend(None)),
    (
        "suspended",
        record({"suspend": True}, phase="Suspended", attempts=1),
        job(1, suspended=True),
        Noop(),
    ),
    (
        "resumed",
        record(phase="Suspended", attempts=1),
        job(1, suspended=True),
        Queue(1, 1, resume=job(1, suspended=True)),
    ),
    (
        "resume admitted: the Job runs again, the status says Suspended",
        record(phase="Suspended", attempts=1),
        job(1),
        Adopt(job(1)),
    ),
    (
        "waiting for a human",
        record(phase="WaitingForHuman", attempts=1),
        job(1, finished=True),
        Noop(),
    ),
    (
        "backing off",
        record(phase="BackingOff", attempts=1, retryAfter=stamp(T0 + timedelta(seconds=30))),
        job(1, finished=True),
        Sleep(T0 + timedelta(seconds=30)),
    ),
    (
        "backoff over",
        record(
            phase="BackingOff", attempts=1, failures=1, retryAfter=stamp(T0 - timedelta(seconds=1))
        ),
        job(1, finished=True),
        Queue(2, 2),
    ),
    (
        "start after",
        record({"startAfter": stamp(T0 + timedelta(hours=1))}),
        None,
        Sleep(T0 + timedelta(hours=1)),
    ),
    (
        "start after passed",
        record({"startAfter": stamp(T0 - timedelta(hours=1))}),
        None,
        Queue(1, 1),
    ),
    (
        "finished, keep a day",
        record(phase="Succeeded", attempts=1, completedAt=stamp(T0 - timedelta(hours=1))),
        job(1, finished=True),
        Sleep(T0 + timedelta(hours=23)),
    ),
    (
        "finished, TTL passed",
        record(
            {"ttlSecondsAfterFinished": 60},
            phase="Failed",
            attempts=1,
            completedAt=stamp(T0 - timedelta(minutes=2)),
        ),
        None,
        Expire(),
    ),
]


@pytest.mark.parametrize(
    ("rec", "current", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(rec: Record, current: JobView | None, expected: Plan) -> None:
    got = plan(rec, current, T0, RETENTION)
    if isinstance(expected, FailInvalid):
        assert isinstance(got, FailInvalid) and "spec.params.width" in got.reason
    else:
        assert got == expected


def test_retention_none_keeps_forever() -> None:
    done = record(phase="Succeeded", attempts=1, completedAt=stamp(T0 - timedelta(days=400)))
    assert plan(done, None, T0, Retention(succeeded_seconds=None)) == Noop()


def test_an_edit_to_a_finished_job_is_noted_once() -> None:
    done = dict(phase="Succeeded", attempts=1, completedAt=stamp(T0), observedGeneration=1)
    edited = record(**done)
    edited.generation = 2
    assert plan(edited, None, T0, RETENTION) == Noted(Sleep(T0 + timedelta(days=1)))
    assert plan(record(**done), None, T0, RETENTION) == Sleep(T0 + timedelta(days=1))


def edited(spec: dict[str, Any] | None = None, **status: Any) -> Record:
    """A MediaJob whose spec changed (generation 2) since the status it has (1)."""
    r = record(spec, observedGeneration=1, **status)
    r.generation = 2
    return r


def test_an_edit_is_observed_beside_what_follows() -> None:
    running = dict(phase="Running", attempts=1)
    assert plan(edited(**running), job(1), T0, RETENTION) == Noted(Hold(job(1)))
    assert plan(edited(phase="Queued"), None, T0, RETENTION) == Noted(Queue(1, 1))
    assert plan(edited({"suspend": True}, phase="Suspended"), None, T0, RETENTION) == Noted(Noop())
    # A step that writes a status observes the generation itself.
    assert plan(edited({"cancel": True}, **running), job(1), T0, RETENTION) == Cancel(job(1))
    assert plan(edited(**running), job(1, finished=True), T0, RETENTION) == Finish(
        job(1, finished=True)
    )
    # A fresh MediaJob (no status yet) is not "edited".
    fresh = record()
    fresh.generation = 3
    assert plan(fresh, None, T0, RETENTION) == Queue(1, 1)


START = T0 - timedelta(minutes=5)  # the Job started five minutes ago
TIMEOUT = timedelta(minutes=10)
PULL = Outcome(OutcomeKind.PENDING, "ImagePullBackOff", 'Back-off pulling image "x:1"')
NO_GPU = Outcome(OutcomeKind.PENDING, "Unschedulable", "0/3 nodes are available: no GPU")


def running(
    pending: Outcome | None, *, at: datetime = T0, since: datetime | None = None, **status: Any
) -> Plan:
    rec = record(phase="Running", attempts=1, **status)
    current = job(1, started=stamp(START))
    why = NotRunning(pending, since) if pending is not None else None
    return plan(rec, current, at, RETENTION, pending=why, start_timeout=TIMEOUT)


RUNNING_JOB = job(1, started=stamp(START))


def test_a_pod_that_cannot_start_is_said_once_per_reason() -> None:
    assert running(PULL) == NotStarting(RUNNING_JOB, "ImagePullBackOff", PULL.message)
    said = {"waitingReason": "ImagePullBackOff", "message": "said before"}
    assert running(PULL, **said) == Hold(RUNNING_JOB, check_at=START + TIMEOUT)
    # The kubelet alternates ErrImagePull and ImagePullBackOff: still the same reason.
    flip = Outcome(OutcomeKind.PENDING, "ErrImagePull", "rpc error: not found")
    assert running(flip, **said) == Hold(RUNNING_JOB, check_at=START + TIMEOUT)
    assert running(NO_GPU, **said) == NotStarting(RUNNING_JOB, "Unschedulable", NO_GPU.message)


def test_a_pod_on_its_way_is_not_worth_a_word_but_is_timed() -> None:
    creating = Outcome(OutcomeKind.PENDING, "ContainerCreating", "ContainerCreating")
    assert running(creating) == Hold(RUNNING_JOB, check_at=START + TIMEOUT)
    assert running(None) == Hold(RUNNING_JOB)


def test_a_worker_that_started_after_all_clears_what_was_said() -> None:
    said = {"waitingReason": "Unschedulable", "message": "0/3 nodes"}
    assert running(None, **said) == NotStarting(RUNNING_JOB, None, None)


def test_a_worker_that_does_not_start_in_time_is_given_up() -> None:
    late = START + TIMEOUT
    pull = running(PULL, at=late, waitingReason="ImagePullBackOff")
    assert isinstance(pull, GiveUp) and pull.why.kind is OutcomeKind.INVALID  # same image again
    assert pull.why.reason == "ImagePullBackOff"
    assert pull.why.message == f"the worker did not start within 600s: {PULL.message}"
    gpu = running(NO_GPU, at=late)
    assert isinstance(gpu, GiveUp) and gpu.why.kind is OutcomeKind.RETRYABLE  # room may come
    assert gpu.why.reason == "Unschedulable"
    secret = Outcome(OutcomeKind.PENDING, "CreateContainerConfigError", 'secret "s" not found')
    config = running(secret, at=late)
    assert isinstance(config, GiveUp) and config.why.kind is OutcomeKind.RETRYABLE  # may be made
    assert running(secret) == NotStarting(RUNNING_JOB, "CreateContainerConfigError", secret.message)


def test_a_pod_replaced_after_an_eviction_starts_the_clock_again() -> None:
    creating = Outcome(OutcomeKind.PENDING, "ContainerCreating", "ContainerCreating")
    replaced = START + TIMEOUT  # the worker ran; its pod was evicted; a new one comes
    at = replaced + timedelta(seconds=5)
    got = running(creating, at=at, since=replaced)
    assert got == Hold(RUNNING_JOB, check_at=replaced + TIMEOUT)


def test_an_image_that_is_never_pulled_fails_at_once() -> None:
    never = Outcome(OutcomeKind.PENDING, "ErrImageNeverPull", "image x:1 is not present")
    given_up = running(never)
    assert isinstance(given_up, GiveUp) and given_up.why.kind is OutcomeKind.INVALID
    assert given_up.why.message == "the worker did not start: image x:1 is not present"


def test_a_job_left_to_an_attempt_given_up_is_not_adopted() -> None:
    rec = record(phase="BackingOff", attempts=1, retryAfter=stamp(T0 + timedelta(seconds=30)))
    assert plan(rec, job(1), T0, RETENTION) == Sleep(T0 + timedelta(seconds=30))


def test_runs_and_attempts_go_apart_only_after_a_logout() -> None:
    """A run ended by a logout (exit 3) counts for no failure and no rate-limited wait:
    the run after the login is a new Job (run 3) of the same attempt (2). One after a
    failure or a 429 is a new attempt. A status written before runs were counted had one
    Job per attempt."""
    past = stamp(T0 - timedelta(seconds=1))
    logged_out = record(phase="BackingOff", attempts=2, runs=2, failures=1, retryAfter=past)
    assert logged_out.next_attempt == 2 and logged_out.runs == 2
    failed_twice = record(phase="BackingOff", attempts=2, runs=2, failures=2, retryAfter=past)
    assert plan(failed_twice, job(2, finished=True), T0, RETENTION) == Queue(3, 3)
    limited = record(
        phase="BackingOff", attempts=2, runs=3, failures=1, rateLimitedWaits=1, retryAfter=past
    )
    assert plan(limited, job(2, run=3, finished=True), T0, RETENTION) == Queue(4, 3)
    before_runs = record(phase="BackingOff", attempts=2, failures=2, retryAfter=past)
    assert before_runs.runs == 2
    assert plan(before_runs, job(2, finished=True), T0, RETENTION) == Queue(3, 3)


def test_a_job_is_known_by_its_run() -> None:
    """Running run 3 of attempt 2: its Job is current, the Job of run 2 (the same attempt)
    is an earlier one, and a Job of run 4 (created before a crash) is adopted."""
    rec = record(phase="Running", attempts=2, runs=3, failures=1)
    assert plan(rec, job(2, run=3), T0, RETENTION) == Hold(job(2, run=3))
    assert plan(rec, job(2, run=2, finished=True), T0, RETENTION) == Recreate(3, 2)
    assert plan(rec, job(3, run=4), T0, RETENTION) == Adopt(job(3, run=4))


def test_a_worker_that_exited_0_finishes_before_its_job_and_its_slot_waits_for_the_job() -> None:
    rec = record(phase="Running", attempts=1)
    step = plan(rec, RUNNING_JOB, T0, RETENTION, worker_succeeded=True)
    assert step == Finish(RUNNING_JOB) and holds_slot(step)
    # Its Running status not written yet (just admitted): one write says both.
    assert plan(record(attempts=0), RUNNING_JOB, T0, RETENTION, worker_succeeded=True) == step
    done = record(phase="Succeeded", attempts=1, completedAt=stamp(T0))
    assert plan(done, RUNNING_JOB, T0, RETENTION) == Hold(RUNNING_JOB)  # the Job settles
    settled = plan(done, job(1, finished=True), T0, RETENTION)
    assert settled == Sleep(T0 + timedelta(days=1)) and not holds_slot(settled)
    assert not holds_slot(Finish(job(1, finished=True)))
    # A Job of an attempt after the one that succeeded holds nothing (not ours to wait for).
    assert plan(done, job(2), T0, RETENTION) == Sleep(T0 + timedelta(days=1))
