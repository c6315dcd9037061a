"""MediaJobSchedule arithmetic and plans, on plain data with the clock passed in."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.api.mediajob import Phase
from mediajobs.api.schedule import MediaJobSchedule, MediaJobScheduleSpec, MediaJobScheduleStatus
from mediajobs.lifecycle import cron
from mediajobs.lifecycle.cron import Times, cron_problem, zone_problem
from mediajobs.lifecycle.schedule import Plan, plan, spec_problems
from mediajobs.lifecycle.schedule_records import (
    RUN_ANNOTATION,
    SCHEDULE_LABEL,
    SCHEDULE_UID_LABEL,
    SCHEDULED_AT,
    Run,
    Schedule,
    run_bodies,
    run_from_body,
    run_name,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def spec(**fields: Any) -> MediaJobScheduleSpec:
    fields.setdefault("schedule", "* * * * *")
    fields.setdefault(
        "job_template", {"spec": {"operation": "scan", "params": {"directory": "library"}}}
    )
    return MediaJobScheduleSpec.model_validate(fields)


def schedule(created: datetime = T0, **fields: Any) -> Schedule:
    return Schedule("ns", "nightly", "uid-1", 1, created, spec(**fields), MediaJobScheduleStatus())


def then(s: Schedule, step: Plan) -> Schedule:
    """S after STEP's status was written."""
    return replace(s, status=step.status) if step.status is not None else s


def run(at: datetime, phase: Phase | None = None, done: datetime | None = None) -> Run:
    return Run(run_name("nightly", at), at, phase, done)


# ---- cron, macros, time zones ---------------------------------------------------------


def instants(crons: list[str], zone: str, after: str, n: int) -> list[str]:
    times = Times.of(crons, zone).iterate(utc(after))
    return [next(times).isoformat() for _ in range(n)]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("@hourly", ["2026-11-25T13:00:00+00:00", "2026-11-25T14:00:00+00:00"]),
        ("@daily", ["2026-11-26T00:00:00+00:00", "2026-11-27T00:00:00+00:00"]),
        ("@weekly", ["2026-11-29T00:00:00+00:00", "2026-12-06T00:00:00+00:00"]),
        ("@monthly", ["2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]),
        ("@yearly", ["2027-01-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"]),
        ("*/20 9-17 * * MON-FRI", ["2026-11-25T12:40:00+00:00", "2026-11-25T13:00:00+00:00"]),
        ("0 9 * * SAT", ["2026-11-28T09:00:00+00:00", "2026-12-05T09:00:00+00:00"]),
    ],
)
def test_cron_and_macros(given: str, expected: list[str]) -> None:
    crons = spec(schedule=given).crons
    assert instants(crons, "UTC", "2026-11-25T12:30:00+00:00", 2) == expected


def test_read_in_the_time_zone() -> None:
    # 02:30 in Tokyo is 17:30 UTC the day before.
    assert instants(["30 2 * * *"], "Asia/Tokyo", "2026-11-25T12:00:00+00:00", 1) == [
        "2026-11-25T17:30:00+00:00"
    ]


def test_several_schedules_are_one_union() -> None:
    crons = spec(schedule=None, schedules=["0 9 * * *", "0 9,18 * * *"]).crons
    assert instants(crons, "UTC", "2026-11-25T08:00:00+00:00", 3) == [
        "2026-11-25T09:00:00+00:00",  # named by both: once
        "2026-11-25T18:00:00+00:00",
        "2026-11-26T09:00:00+00:00",
    ]


def test_spring_forward_neither_drops_nor_doubles() -> None:
    # Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that day.
    daily = instants(["30 2 * * *"], "Europe/Berlin", "2026-03-27T12:00:00+00:00", 4)
    assert daily == [
        "2026-03-28T01:30:00+00:00",  # 02:30 CET
        "2026-03-29T01:00:00+00:00",  # once, right after the jump (03:00 CEST)
        "2026-03-30T00:30:00+00:00",  # 02:30 CEST
        "2026-03-31T00:30:00+00:00",
    ]
    hourly = [utc(t) for t in instants(["0 * * * *"], "Europe/Berlin", "2026-03-28T23:30Z", 5)]
    assert {b - a for a, b in itertools.pairwise(hourly)} == {timedelta(hours=1)}


def test_fall_back_neither_doubles_nor_drops() -> None:
    # Berlin 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
    daily = instants(["30 2 * * *"], "Europe/Berlin", "2026-10-23T12:00:00+00:00", 3)
    assert daily == [
        "2026-10-24T00:30:00+00:00",
        "2026-10-25T00:30:00+00:00",  # the first 02:30 only
        "2026-10-26T01:30:00+00:00",  # 02:30 CET
    ]
    # Asked from between the two 02:30s (the first already run), no second one.
    assert instants(["30 2 * * *"], "Europe/Berlin", "2026-10-25T00:45:00+00:00", 1) == [
        "2026-10-26T01:30:00+00:00"
    ]
    hourly = [utc(t) for t in instants(["0 * * * *"], "Europe/Berlin", "2026-10-24T23:30Z", 5)]
    assert {b - a for a, b in itertools.pairwise(hourly)} == {timedelta(hours=1)}


def test_new_york_daily_runs_once_a_day_across_both_changes() -> None:
    for after in ("2026-03-07T12:00:00+00:00", "2026-10-31T12:00:00+00:00"):
        days = [
            utc(t).astimezone().date()
            for t in instants(["0 2 * * *"], "America/New_York", after, 3)
        ]
        assert len(set(days)) == 3


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("61 * * * *", "bad minute"),
        ("* 24 * * *", "bad hour"),
        ("* * * 13 *", "bad month"),
        ("* * * *", "five fields"),
        ("0 0 31 2 *", "bad day"),
    ],
)
def test_bad_cron_is_explained(expression: str, problem: str) -> None:
    said = cron_problem(expression)
    assert said is not None and problem in said and expression in said


def test_zone_is_checked() -> None:
    assert zone_problem("Europe/Berlin") is None
    said = zone_problem("Mars/Olympus_Mons")
    assert said is not None and "IANA" in said


# ---- plans ----------------------------------------------------------------------------


def test_first_run_at_the_first_instant_after_creation() -> None:
    s = schedule(created=T0 + timedelta(seconds=10))
    early = plan(s, [], T0 + timedelta(seconds=30))
    assert early.create is None and early.wake_at == T0 + MINUTE
    s = then(s, early)
    assert s.status.next_schedule_time == T0 + MINUTE
    due = plan(s, [], T0 + MINUTE)
    assert due.create == T0 + MINUTE
    assert due.status is not None
    assert due.status.active == ["nightly-20261125-1201"]
    assert (due.status.runs, due.status.skipped) == (1, 0)
    assert due.wake_at == T0 + 2 * MINUTE
    assert [e.reason for e in due.events] == ["RunCreated"]


def test_the_same_instant_is_never_started_twice() -> None:
    s = schedule()
    first = plan(s, [], T0 + MINUTE)
    assert first.create == T0 + MINUTE
    # Planned again (an event, a restart) at the same instant: nothing more to start.
    again = plan(then(s, first), [run(T0 + MINUTE)], T0 + MINUTE + timedelta(seconds=5))
    assert again.create is None and again.status is None


def test_a_run_the_status_missed_is_taken_in() -> None:
    """The operator stopped between creating a run and writing the status."""
    s = schedule()
    step = plan(s, [run(T0 + MINUTE)], T0 + MINUTE + timedelta(seconds=2))
    assert step.create is None
    assert step.status is not None
    assert step.status.active == ["nightly-20261125-1201"]
    assert step.status.runs == 1
    assert step.status.last_schedule_time == T0 + MINUTE


def test_downtime_starts_only_the_latest_missed_run() -> None:
    s = then(schedule(), plan(schedule(), [], T0 + timedelta(seconds=1)))
    back = T0 + timedelta(hours=5, seconds=20)  # 300 instants passed while down
    step = plan(s, [], back)
    assert step.create == T0 + timedelta(hours=5)
    assert step.status is not None
    assert (step.status.runs, step.status.skipped) == (1, 299)
    assert any(e.reason == "RunsSkipped" and "299 missed" in e.message for e in step.events)


def test_a_long_downtime_has_no_cliff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cron, "COUNT_LIMIT", 50)
    s = then(schedule(), plan(schedule(), [], T0 + timedelta(seconds=1)))
    step = plan(s, [], T0 + timedelta(days=3, seconds=5))
    assert step.create == T0 + timedelta(days=3)  # still started, the latest one
    assert step.status is not None and step.status.skipped == 50
    assert any("over 50 missed" in e.message for e in step.events)


def test_starting_deadline_skips_a_late_run() -> None:
    s = schedule(starting_deadline_seconds=30)
    s = then(s, plan(s, [], T0 + timedelta(seconds=1)))
    late = plan(s, [], T0 + MINUTE + timedelta(seconds=31))
    assert late.create is None
    assert late.status is not None and late.status.skipped == 1
    assert late.status.last_schedule_time == T0 + MINUTE
    in_time = plan(s, [], T0 + MINUTE + timedelta(seconds=29))
    assert in_time.create == T0 + MINUTE


def test_forbid_skips_while_a_run_is_active() -> None:
    s = schedule(concurrency_policy="Forbid")
    first = plan(s, [], T0 + MINUTE)
    s = then(s, first)
    active = [run(T0 + MINUTE, Phase.RUNNING)]
    second = plan(s, active, T0 + 2 * MINUTE)
    assert second.create is None
    assert second.status is not None and second.status.skipped == 1
    assert [e.reason for e in second.events] == ["RunSkipped"]
    s = then(s, second)
    finished = [run(T0 + MINUTE, Phase.SUCCEEDED, T0 + 2 * MINUTE + timedelta(seconds=5))]
    third = plan(s, finished, T0 + 3 * MINUTE)
    assert third.create == T0 + 3 * MINUTE
    assert third.status is not None
    assert (third.status.succeeded, third.status.runs) == (1, 2)
    assert third.status.last_successful_time == T0 + 2 * MINUTE + timedelta(seconds=5)


def test_replace_deletes_the_active_run() -> None:
    s = schedule(concurrency_policy="Replace")
    s = then(s, plan(s, [], T0 + MINUTE))
    step = plan(s, [run(T0 + MINUTE, Phase.RUNNING)], T0 + 2 * MINUTE)
    assert step.create == T0 + 2 * MINUTE
    assert step.delete == ["nightly-20261125-1201"]
    assert step.status is not None and step.status.active == ["nightly-20261125-1202"]
    assert "RunReplaced" in [e.reason for e in step.events]


def test_allow_runs_beside_the_active_run() -> None:
    s = schedule()
    s = then(s, plan(s, [], T0 + MINUTE))
    step = plan(s, [run(T0 + MINUTE, Phase.RUNNING)], T0 + 2 * MINUTE)
    assert step.create == T0 + 2 * MINUTE and step.delete == []
    assert step.status is not None and len(step.status.active or []) == 2


def test_limit_stops_after_n_runs() -> None:
    s = schedule(limit=2)
    for minute in (1, 2):
        step = plan(s, [], T0 + minute * MINUTE)
        assert step.create == T0 + minute * MINUTE
        s = then(s, step)
    assert s.status.next_schedule_time is None
    ready = next(c for c in s.status.conditions or [] if c.type == "Ready")
    assert (ready.status, ready.reason) == ("False", "Finished")
    assert plan(s, [], T0 + 3 * MINUTE).create is None


def test_start_and_end_dates_bound_the_runs() -> None:
    start, end = T0 + 10 * MINUTE, T0 + 11 * MINUTE
    s = schedule(start_date=start, end_date=end)
    early = plan(s, [], T0 + 2 * MINUTE)
    assert early.create is None and early.wake_at == start
    s = then(s, early)
    assert plan(s, [], start).create == start
    s = then(s, plan(s, [], start))
    s = then(s, plan(s, [], end))
    last = plan(s, [], end + 5 * MINUTE)
    assert last.create is None and last.wake_at is None
    assert s.status.runs == 2 and s.status.next_schedule_time is None


def test_suspended_times_are_not_made_up_nor_counted() -> None:
    s = schedule(suspend=True)
    step = plan(s, [], T0 + 3 * MINUTE)
    assert step.create is None and step.wake_at is None
    s = then(s, step)
    assert s.status.next_schedule_time is None
    resumed = replace(s, spec=spec(suspend=False))
    back = plan(resumed, [], T0 + 7 * MINUTE + timedelta(seconds=3))
    assert back.create is None  # 04..07 passed while suspended
    assert back.status is not None and back.status.skipped == 0
    assert back.wake_at == T0 + 8 * MINUTE
    s = then(resumed, back)
    assert plan(s, [], T0 + 8 * MINUTE).create == T0 + 8 * MINUTE


def test_history_limits_prune_the_oldest_finished_runs() -> None:
    s = schedule(successful_jobs_history_limit=2, failed_jobs_history_limit=1)
    runs = [run(T0 + i * MINUTE, Phase.SUCCEEDED, T0 + i * MINUTE) for i in range(1, 5)]
    runs += [run(T0 + i * MINUTE, Phase.FAILED) for i in (5, 6)]
    runs += [run(T0 + 7 * MINUTE, Phase.RUNNING)]
    step = plan(s, runs, T0 + 7 * MINUTE + timedelta(seconds=1))
    assert step.delete == [
        "nightly-20261125-1201",
        "nightly-20261125-1202",
        "nightly-20261125-1205",
    ]


def test_invalid_spec_says_why_once() -> None:
    s = schedule(schedule="61 * * * *", time_zone="Mars/Olympus_Mons")
    step = plan(s, [], T0)
    assert step.create is None and step.status is not None
    assert "bad minute" in (step.status.message or "") and "IANA" in (step.status.message or "")
    assert [(e.type, e.reason) for e in step.events] == [("Warning", "InvalidSpec")]
    assert plan(then(s, step), [], T0 + MINUTE) == Plan(None)


def test_template_params_are_checked() -> None:
    bad = spec(job_template={"spec": {"operation": "scan", "params": {"directory": "x", "no": 1}}})
    assert any("jobTemplate.spec.params" in p for p in spec_problems(bad))


def test_run_body_is_named_labelled_and_owned() -> None:
    s = schedule(
        job_template={"metadata": {"labels": {"team": "a"}}, "spec": {"operation": "scan"}}
    )
    [body] = run_bodies(s, T0 + MINUTE)
    meta = body["metadata"]
    assert meta["name"] == "nightly-20261125-1201"
    assert meta["labels"] | {} == {
        "team": "a",
        "app.kubernetes.io/managed-by": "mediajobs",
        SCHEDULE_LABEL: "nightly",
        SCHEDULE_UID_LABEL: "uid-1",
    }
    assert meta["annotations"] == {
        SCHEDULED_AT: "2026-11-25T12:01:00Z",
        RUN_ANNOTATION: "nightly-20261125-1201",
    }
    assert meta["ownerReferences"][0]["uid"] == "uid-1"
    assert body["spec"]["operation"] == "scan"
    back = run_from_body({**body, "status": {"phase": "Running"}})
    assert back == Run("nightly-20261125-1201", T0 + MINUTE, Phase.RUNNING)


def test_run_names_are_utc_and_fit() -> None:
    at = utc("2026-10-25T02:30:00+02:00")
    assert run_name("a", at) == "a-20261025-0030"
    long = run_name("x" * 250, at)
    assert len(long) == 253 and long.endswith("-20261025-0030")


def test_the_example_is_valid() -> None:
    path = Path(__file__).resolve().parents[3] / "manifests/examples/mediajobschedule.yaml"
    doc = MediaJobSchedule.model_validate(yaml.safe_load(path.read_text()))
    assert spec_problems(doc.spec) == []
    times = Times.of(doc.spec.crons, doc.spec.time_zone).iterate(T0)
    assert next(times) == utc("2026-11-26T02:30:00+01:00")
