"""A MediaJobSchedule and its runs as plain data, and the run's MediaJobs.

A run is one MediaJob whose name is derived from the schedule and its scheduled
time (``run_name``): creating it twice is a harmless 409. A template of steps (a
pipeline) makes a run of several MediaJobs, one per step, named ``<run>-<step>``
(``step_job_name``), their dependsOn and fromJob turned from step names into
those names; the run has finished when all of them have, and succeeded when all
of them did (``group_runs``). Each carries the schedule's name and uid as labels
(the operator watches runs by the first), its scheduled time and run as
annotations, and an owner reference to the schedule (the garbage collector
deletes the runs with it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mediajobs.api.common import API_VERSION
from mediajobs.api.mediajob import KIND as MEDIAJOB_KIND
from mediajobs.api.mediajob import MediaJobSpec, Phase
from mediajobs.api.schedule import KIND, MediaJobScheduleSpec, MediaJobScheduleStatus
from mediajobs.jobs.naming import MANAGED_BY_LABEL, MANAGER, label_value

SCHEDULE_LABEL = "mediajobs.dev/schedule"  # the schedule's name (label_value) on each run
SCHEDULE_UID_LABEL = "mediajobs.dev/schedule-uid"
SCHEDULED_AT = "mediajobs.dev/scheduled-at"  # annotation: the run's scheduled time
RUN_ANNOTATION = "mediajobs.dev/run"  # annotation: the run a MediaJob belongs to
STEP_LABEL = "mediajobs.dev/step"  # a pipeline step's name, on its MediaJob
NAME_MAX = 253


def stamp(t: datetime) -> str:
    """T as the API writes times: UTC, whole seconds."""
    return f"{t.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def _fit(stem: str, suffix: str) -> str:
    """STEM + SUFFIX; too long for a MediaJob, STEM keeps its start and gains a hash."""
    if len(stem) + len(suffix) <= NAME_MAX:
        return stem + suffix
    digest = hashlib.sha256(stem.encode()).hexdigest()[:6]
    cut = stem[: NAME_MAX - len(suffix) - len(digest) - 1].rstrip("-.")
    return f"{cut}-{digest}{suffix}"


def run_name(schedule: str, at: datetime) -> str:
    """``<schedule>-<yyyymmdd>-<hhmm>`` (UTC: a local time repeats in autumn)."""
    return _fit(schedule, at.astimezone(UTC).strftime("-%Y%m%d-%H%M"))


def step_job_name(run: str, step: str) -> str:
    """The MediaJob of pipeline step STEP in RUN (STEP "": the run's one MediaJob)."""
    return _fit(run, f"-{step}") if step else run


@dataclass(frozen=True)
class Run:
    """One run a schedule started (or one of its MediaJobs, as run_from_body reads it)."""

    name: str
    scheduled: datetime
    phase: Phase | None = None
    completed: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.phase is not None and self.phase.finished


def group_runs(schedule: str, members: Sequence[Run]) -> list[Run]:
    """MEMBERS (MediaJobs of SCHEDULE) as runs, one per scheduled time: finished when
    every MediaJob of it has, Succeeded when every one did, else Failed."""
    by_time: dict[datetime, list[Run]] = {}
    for member in members:
        by_time.setdefault(member.scheduled, []).append(member)
    out = []
    for at, jobs in sorted(by_time.items()):
        phase: Phase | None = None
        if all(j.finished for j in jobs):
            good = all(j.phase == Phase.SUCCEEDED for j in jobs)
            phase = Phase.SUCCEEDED if good else Phase.FAILED
        done = [j.completed for j in jobs if j.completed is not None]
        out.append(Run(run_name(schedule, at), at, phase, max(done, default=None)))
    return out


@dataclass(frozen=True)
class Schedule:
    """One MediaJobSchedule as plain data."""

    namespace: str
    name: str
    uid: str
    generation: int
    created: datetime
    spec: MediaJobScheduleSpec
    status: MediaJobScheduleStatus


def schedule_from_body(body: Mapping[str, Any]) -> Schedule:
    meta = body["metadata"]
    return Schedule(
        meta["namespace"],
        meta["name"],
        meta["uid"],
        int(meta.get("generation", 1)),
        datetime.fromisoformat(meta["creationTimestamp"]),
        MediaJobScheduleSpec.model_validate(body["spec"]),
        MediaJobScheduleStatus.model_validate(body.get("status") or {}),
    )


def run_from_body(body: Mapping[str, Any]) -> Run | None:
    """The run BODY is (None: it has no scheduled time: not one of ours)."""
    meta = body["metadata"]
    at = (meta.get("annotations") or {}).get(SCHEDULED_AT)
    if at is None:
        return None
    status = body.get("status") or {}
    phase = status.get("phase")
    completed = status.get("completedAt")
    return Run(
        meta["name"],
        datetime.fromisoformat(at),
        Phase(phase) if phase else None,
        datetime.fromisoformat(completed) if completed else None,
    )


def _step_spec(spec: MediaJobSpec, run: str) -> dict[str, Any]:
    """SPEC on the wire, its dependsOn and fromJob naming the run's MediaJobs, not steps."""
    wire = spec.wire()
    if spec.depends_on:
        wire["dependsOn"] = [step_job_name(run, d) for d in spec.depends_on]
    for ref in [wire.get("input"), *(wire.get("inputs") or [])]:
        if ref is not None and "fromJob" in ref:
            ref["fromJob"] = step_job_name(run, ref["fromJob"])
    return wire


def run_bodies(schedule: Schedule, at: datetime) -> list[dict[str, Any]]:
    """The MediaJobs that run SCHEDULE at AT (one per step of a pipeline): the template,
    named, labelled, owned."""
    template = schedule.spec.job_template
    meta = template.metadata
    run = run_name(schedule.name, at)
    owner = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": schedule.name,
        "uid": schedule.uid,
        "controller": True,
    }
    out = []
    for step in template.members():
        own = step.metadata
        labels = {
            **((meta.labels if meta else None) or {}),
            **((own.labels if own else None) or {}),
            MANAGED_BY_LABEL: MANAGER,
            SCHEDULE_LABEL: label_value(schedule.name),
            SCHEDULE_UID_LABEL: schedule.uid,
        }
        if step.name:
            labels[STEP_LABEL] = step.name
        annotations = {
            **((meta.annotations if meta else None) or {}),
            **((own.annotations if own else None) or {}),
            SCHEDULED_AT: stamp(at),
            RUN_ANNOTATION: run,
        }
        out.append(
            {
                "apiVersion": API_VERSION,
                "kind": MEDIAJOB_KIND,
                "metadata": {
                    "name": step_job_name(run, step.name),
                    "namespace": schedule.namespace,
                    "labels": labels,
                    "annotations": annotations,
                    "ownerReferences": [owner],
                },
                "spec": _step_spec(step.spec, run),
            }
        )
    return out
