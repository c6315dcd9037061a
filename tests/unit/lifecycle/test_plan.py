"""plan(): the next step of one MediaJob, from plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediajobs.config import Retention
from mediajobs.jobs.naming import ATTEMPT_LABEL, UID_LABEL
from mediajobs.lifecycle.plan import (
    Adopt,
    Cancel,
    Expire,
    FailInvalid,
    Finish,
    Hold,
    Noop,
    Plan,
    Queue,
    Recreate,
    Sleep,
    Suspend,
    plan,
)
from mediajobs.lifecycle.records import JobView, Record, job_from_body, record_from_body
from tests.builders import mediajob

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RETENTION = Retention()


def record(spec: dict[str, Any] | None = None, **status: Any) -> Record:
    body = mediajob("mj").obj()
    body["spec"].update(spec or {})
    body["metadata"].update(
        namespace="ns", uid="u1", creationTimestamp="2026-11-25T11:00:00Z", resourceVersion="7"
    )
    body["status"] = status
    return record_from_body(body)


def job(attempt: int, *, finished: bool = False, suspended: bool = False) -> JobView:
    conditions = [{"type": "Complete", "status": "True"}] if finished else []
    body = {
        "metadata": {
            "name": f"mj-x-{attempt}",
            "namespace": "ns",
            "resourceVersion": "9",
            "labels": {UID_LABEL: "u1", ATTEMPT_LABEL: str(attempt)},
        },
        "spec": {"suspend": suspended},
        "status": {"conditions": conditions, "active": 0 if finished else 1},
    }
    view = job_from_body(body)
    assert view is not None
    return view


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


CASES: list[tuple[str, Record, JobView | None, Plan]] = [
    ("new", record(), None, Queue(1)),
    (
        "invalid",
        record({"operation": "resize_image", "params": {"width": 3}}),
        None,
        FailInvalid(""),
    ),
    ("running", record(phase="Running", attempts=1), job(1), Hold(job(1))),
    ("running, Job not seen yet", record(phase="Running", attempts=1), None, Recreate(1)),
    (
        "finished attempt",
        record(phase="Running", attempts=1),
        job(1, finished=True),
        Finish(job(1, finished=True)),
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
        Queue(1, resume=job(1, suspended=True)),
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
        record(phase="BackingOff", attempts=1, retryAfter=stamp(T0 - timedelta(seconds=1))),
        job(1, finished=True),
        Queue(2),
    ),
    (
        "start after",
        record({"startAfter": stamp(T0 + timedelta(hours=1))}),
        None,
        Sleep(T0 + timedelta(hours=1)),
    ),
    ("start after passed", record({"startAfter": stamp(T0 - timedelta(hours=1))}), None, Queue(1)),
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
