"""What a MediaJobSchedule needs next, decided from plain data (the schedule, its runs, now).

A run is one MediaJob whose name is derived from the schedule and its scheduled time
(``run_name``), so creating it twice is a harmless 409: a restart, or a second
operator, can never start a time twice. The schedule's status is the ledger:
``lastScheduleTime`` is the latest scheduled time acted on (run or skipped), ``active``
the runs started and not finished. A run leaves ``active`` when it finishes, and
that is when it is counted (succeeded or failed), so each run is counted once
whatever restarts in between; a run found that the status does not know yet (the
operator stopped between creating it and writing the status) is taken in.

Due times: the instants in (floor, now], the floor being the latest of the last
scheduled time, the creation and ``startDate``. While suspended, and at the first
plan after a resume, they only move ``lastScheduleTime`` on: times passed while
suspended are not made up, nor counted. Otherwise only the latest can start: the
others are counted as skipped (CronJob refuses to start anything after 100 missed
times; this has no such cliff). ``startingDeadlineSeconds`` skips it too when it is
too late. Then the concurrency policy: Allow runs it beside the active runs, Forbid
skips it while one is active, Replace deletes the active ones first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from mediajobs.api.common import Condition, ConditionStatus
from mediajobs.api.conditions import one_line, set_condition
from mediajobs.api.mediajob import Phase
from mediajobs.api.schedule import (
    ConcurrencyPolicy,
    MediaJobScheduleSpec,
    MediaJobScheduleStatus,
)
from mediajobs.catalog import parse_params
from mediajobs.lifecycle.cron import Times, cron_problem, zone_problem
from mediajobs.lifecycle.dependencies import find_cycle
from mediajobs.lifecycle.schedule_records import Run, Schedule, group_runs, run_name, stamp
from mediajobs.lifecycle.statuses import Event

READY = "Ready"


@dataclass(frozen=True)
class Plan:
    """STATUS: the whole status to write (None: unchanged); CREATE: the scheduled time
    to start a run for; DELETE: runs to delete (replaced, or past the history limits);
    EVENTS to post; WAKE_AT: plan again then (None: only when something changes)."""

    status: MediaJobScheduleStatus | None
    create: datetime | None = None
    delete: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    wake_at: datetime | None = None


def spec_problems(spec: MediaJobScheduleSpec) -> list[str]:
    """What the schema could not refuse: cron values, the time zone, the params, a cycle
    among a pipeline's steps."""
    found = [zone_problem(spec.time_zone), *(cron_problem(c) for c in spec.crons)]
    steps = spec.job_template.members()
    for step in steps:
        where = f"jobTemplate.steps[{step.name}].spec" if step.name else "jobTemplate.spec"
        try:
            parse_params(step.spec.operation, step.spec.params)
        except ValidationError as err:
            found.append(f"{where}.params: {one_line(str(err), 300)}")
    graph = {s.name: s.spec.depends_on or [] for s in steps}
    cycles = (find_cycle(s.name, graph) for s in steps)
    cycle = next((c for c in cycles if c is not None), None)
    if cycle is not None:
        found.append(f"jobTemplate.steps: dependsOn makes a cycle: {' -> '.join(cycle)}")
    return [p for p in found if p is not None]


def _second(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(microsecond=0)


@dataclass
class _Ledger:
    """The counters and lists a plan moves, starting from the written status."""

    runs: int
    succeeded: int
    failed: int
    skipped: int
    active: list[str]
    last_schedule: datetime | None
    last_success: datetime | None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def of(cls, status: MediaJobScheduleStatus) -> _Ledger:
        return cls(
            status.runs or 0,
            status.succeeded or 0,
            status.failed or 0,
            status.skipped or 0,
            list(status.active or []),
            status.last_schedule_time,
            status.last_successful_time,
        )

    def take_in(self, runs: Sequence[Run]) -> None:
        """Count the runs that finished; take in those the status does not know yet."""
        for run in sorted(runs, key=lambda r: r.scheduled):
            known = run.name in self.active
            unrecorded = self.last_schedule is None or run.scheduled > self.last_schedule
            if not known and unrecorded:
                self.runs += 1
                self.last_schedule = run.scheduled
            if run.finished and (known or unrecorded):
                if run.phase == Phase.SUCCEEDED:
                    self.succeeded += 1
                    done = run.completed or run.scheduled
                    self.last_success = max(self.last_success or done, done)
                else:
                    self.failed += 1
                if known:
                    self.active.remove(run.name)
            elif not run.finished and not known:
                self.active.append(run.name)
        names = {r.name for r in runs}
        self.active = [n for n in self.active if n in names]  # deleted by someone: gone


def _prune(spec: MediaJobScheduleSpec, runs: Sequence[Run], active: Sequence[str]) -> list[str]:
    """Finished runs past the history limits, oldest first."""
    done = [r for r in runs if r.finished and r.name not in active]
    newest = sorted(done, key=lambda r: r.scheduled, reverse=True)
    good = [r.name for r in newest if r.phase == Phase.SUCCEEDED]
    bad = [r.name for r in newest if r.phase != Phase.SUCCEEDED]
    return [
        *reversed(good[spec.successful_jobs_history_limit :]),
        *reversed(bad[spec.failed_jobs_history_limit :]),
    ]


def _ready(schedule: Schedule) -> Condition | None:
    return next((c for c in schedule.status.conditions or [] if c.type == READY), None)


def _floor(schedule: Schedule, ledger: _Ledger) -> datetime:
    """Due times are after this."""
    spec = schedule.spec
    floors = [schedule.created, ledger.last_schedule or schedule.created]
    if spec.start_date is not None:
        floors.append(spec.start_date - timedelta(microseconds=1))  # startDate itself may run
    return max(floors)


def _quiet(schedule: Schedule) -> bool:
    """Suspended, or resumed since the status was written: what passed meanwhile is
    neither run nor counted as skipped."""
    ready = _ready(schedule)
    return schedule.spec.suspend or (ready is not None and ready.reason == "Suspended")


def _due(
    schedule: Schedule, times: Times, ledger: _Ledger, now: datetime
) -> tuple[datetime | None, str]:
    """The scheduled time to start now (None: none), counting the times skipped in
    ledger; and what was skipped, in words."""
    spec = schedule.spec
    until = min(now, spec.end_date) if spec.end_date is not None else now
    span = times.span(_floor(schedule, ledger), until)
    if span.latest is None:
        return None, ""
    ledger.last_schedule = span.latest
    if _quiet(schedule):
        return None, ""
    missed = span.count - 1
    said = f"{missed} missed run(s) skipped" if span.exact else f"over {missed} missed runs skipped"
    deadline = spec.starting_deadline_seconds
    if deadline is not None and now - span.latest > timedelta(seconds=deadline):
        ledger.skipped += span.count
        late = f"the run due at {stamp(span.latest)} is past startingDeadlineSeconds"
        return None, f"{late}; {said}" if missed else late
    ledger.skipped += missed
    return span.latest, said if missed else ""


def _limit_reached(spec: MediaJobScheduleSpec, ledger: _Ledger) -> bool:
    return spec.limit is not None and ledger.runs >= spec.limit


def _next(schedule: Schedule, times: Times, ledger: _Ledger, now: datetime) -> datetime | None:
    spec = schedule.spec
    if spec.suspend or _limit_reached(spec, ledger):
        return None
    after = max(now, ledger.last_schedule or now)
    if spec.start_date is not None and spec.start_date > after:
        after = spec.start_date - timedelta(microseconds=1)
    following = times.after(after)
    if following is None or (spec.end_date is not None and following > spec.end_date):
        return None
    return following


def _concurrency(
    spec: MediaJobScheduleSpec, at: datetime, ledger: _Ledger
) -> tuple[bool, list[str]]:
    """Whether the run due AT starts, and which active runs it replaces."""
    if not ledger.active or spec.concurrency_policy == ConcurrencyPolicy.ALLOW:
        return True, []
    when = stamp(at)
    if spec.concurrency_policy == ConcurrencyPolicy.FORBID:
        ledger.skipped += 1
        still = ", ".join(ledger.active)
        ledger.events.append(
            Event("Normal", "RunSkipped", f"run due at {when} skipped: Forbid, {still} active")
        )
        return False, []
    replaced, ledger.active = ledger.active, []
    ledger.events.append(
        Event("Normal", "RunReplaced", f"{', '.join(replaced)} deleted for the run due at {when}")
    )
    return True, replaced


def _status(
    schedule: Schedule,
    ledger: _Ledger,
    following: datetime | None,
    ready: tuple[ConditionStatus, str, str],
    now: datetime,
) -> MediaJobScheduleStatus:
    status, reason, message = ready
    conditions, _ = set_condition(
        list(schedule.status.conditions or []),
        READY,
        status,
        reason,
        message,
        now=now,
        generation=schedule.generation,
    )
    return MediaJobScheduleStatus(
        schedule=schedule.spec.shown,
        last_schedule_time=_second(ledger.last_schedule) if ledger.last_schedule else None,
        next_schedule_time=_second(following) if following else None,
        last_successful_time=_second(ledger.last_success) if ledger.last_success else None,
        active=ledger.active,
        active_count=len(ledger.active),
        runs=ledger.runs,
        succeeded=ledger.succeeded,
        failed=ledger.failed,
        skipped=ledger.skipped,
        message=one_line(message),
        observed_generation=schedule.generation,
        conditions=conditions,
    )


def _changed(old: MediaJobScheduleStatus, new: MediaJobScheduleStatus) -> bool:
    # Compared as written: the API server keeps whole seconds.
    return old.model_dump(mode="json", exclude_none=True) != new.model_dump(
        mode="json", exclude_none=True
    )


def _invalid(schedule: Schedule, problems: list[str], now: datetime) -> Plan:
    ledger = _Ledger.of(schedule.status)
    message = "; ".join(problems)
    status = _status(schedule, ledger, None, ("False", "InvalidSpec", message), now)
    if not _changed(schedule.status, status):
        return Plan(None)
    return Plan(status, events=[Event("Warning", "InvalidSpec", one_line(message))])


def plan(schedule: Schedule, members: Sequence[Run], now: datetime) -> Plan:
    """The next step for SCHEDULE, whose MediaJobs are MEMBERS (one per run, or one
    per step of each run); DELETE names runs, each to delete with its MediaJobs."""
    spec = schedule.spec
    runs = group_runs(schedule.name, members)
    problems = spec_problems(spec)
    if problems:
        return _invalid(schedule, problems, now)
    times = Times.of(spec.crons, spec.time_zone)
    ledger = _Ledger.of(schedule.status)
    ledger.take_in(runs)
    create: datetime | None = None
    delete: list[str] = []
    said = ""
    if not _limit_reached(spec, ledger):
        due, said = _due(schedule, times, ledger, now)
        if due is not None:
            starts, delete = _concurrency(spec, due, ledger)
            if starts:
                create = due
                ledger.runs += 1
                ledger.active.append(run_name(schedule.name, due))
    if said:
        ledger.events.append(Event("Normal", "RunsSkipped", said))
    following = _next(schedule, times, ledger, now)
    ready: tuple[ConditionStatus, str, str]
    if spec.suspend:
        ready = ("False", "Suspended", "suspended: no run starts until spec.suspend is false")
    elif following is None:
        why = "limit reached" if _limit_reached(spec, ledger) else "no scheduled time is left"
        ready = ("False", "Finished", f"{why}: {ledger.runs} run(s) started")
    else:
        ready = ("True", "Scheduled", f"next run at {stamp(following)}")
    status = _status(schedule, ledger, following, ready, now)
    if create is not None:
        name = run_name(schedule.name, create)
        ledger.events.append(Event("Normal", "RunCreated", f"{name} for {stamp(create)}"))
    prune = _prune(spec, runs, ledger.active)
    return Plan(
        status if _changed(schedule.status, status) else None,
        create,
        [*delete, *prune],
        ledger.events,
        following,
    )
