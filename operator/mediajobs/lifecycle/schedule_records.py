"""A MediaJobSchedule and its runs as plain data, and the run's MediaJob.

A run is one MediaJob whose name is derived from the schedule and its scheduled
time (``run_name``): creating it twice is a harmless 409. It carries the
schedule's name and uid as labels (the operator watches runs by the first), its
scheduled time as an annotation, and an owner reference to the schedule (the
garbage collector deletes the runs with it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mediajobs.api.common import API_VERSION
from mediajobs.api.mediajob import KIND as MEDIAJOB_KIND
from mediajobs.api.mediajob import Phase
from mediajobs.api.schedule import KIND, MediaJobScheduleSpec, MediaJobScheduleStatus
from mediajobs.jobs.naming import MANAGED_BY_LABEL, MANAGER, label_value

SCHEDULE_LABEL = "mediajobs.dev/schedule"  # the schedule's name (label_value) on each run
SCHEDULE_UID_LABEL = "mediajobs.dev/schedule-uid"
SCHEDULED_AT = "mediajobs.dev/scheduled-at"  # annotation: the run's scheduled time
NAME_MAX = 253


def stamp(t: datetime) -> str:
    """T as the API writes times: UTC, whole seconds."""
    return f"{t.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


def run_name(schedule: str, at: datetime) -> str:
    """``<schedule>-<yyyymmdd>-<hhmm>`` (UTC: a local time repeats in autumn); a name
    too long for a MediaJob keeps its start and gains a hash of the whole."""
    suffix = at.astimezone(UTC).strftime("-%Y%m%d-%H%M")
    if len(schedule) + len(suffix) <= NAME_MAX:
        return schedule + suffix
    digest = hashlib.sha256(schedule.encode()).hexdigest()[:6]
    stem = schedule[: NAME_MAX - len(suffix) - len(digest) - 1].rstrip("-.")
    return f"{stem}-{digest}{suffix}"


@dataclass(frozen=True)
class Run:
    """One MediaJob a schedule started."""

    name: str
    scheduled: datetime
    phase: Phase | None = None
    completed: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.phase is not None and self.phase.finished


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


def run_body(schedule: Schedule, at: datetime) -> dict[str, Any]:
    """The MediaJob that runs SCHEDULE at AT: the template, named, labelled, owned."""
    template = schedule.spec.job_template
    meta = template.metadata
    labels = {
        **((meta.labels if meta else None) or {}),
        MANAGED_BY_LABEL: MANAGER,
        SCHEDULE_LABEL: label_value(schedule.name),
        SCHEDULE_UID_LABEL: schedule.uid,
    }
    annotations = {
        **((meta.annotations if meta else None) or {}),
        SCHEDULED_AT: stamp(at),
    }
    owner = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": schedule.name,
        "uid": schedule.uid,
        "controller": True,
    }
    return {
        "apiVersion": API_VERSION,
        "kind": MEDIAJOB_KIND,
        "metadata": {
            "name": run_name(schedule.name, at),
            "namespace": schedule.namespace,
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [owner],
        },
        "spec": template.spec.wire(),
    }
