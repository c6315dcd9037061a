"""MediaJobSchedule: a MediaJob template run on a cron schedule.

CronJob's vocabulary (schedule, timeZone, concurrencyPolicy, startingDeadlineSeconds,
suspend, history limits) plus BullMQ's job schedulers' startDate / endDate / limit,
and Argo's several schedules. What the schema cannot check (a cron field out of
range, a time zone the tz database does not know) the operator checks
(lifecycle/schedule.py): the status says InvalidSpec and a Warning Event says why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from mediajobs.api.common import ApiModel, Condition, cel, rule
from mediajobs.api.mediajob import MediaJobSpec

KIND = "MediaJobSchedule"
PLURAL = "mediajobschedules"

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Five fields, or a macro: the shape only (the values are the operator's to check).
CRON_SHAPE = r"^(@[a-z]+|[^ ]+( +[^ ]+){4})$"
CRON_MAX = 128

Cron = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CRON_MAX,
        json_schema_extra=cel(
            rule(
                f"self.matches('{CRON_SHAPE}')",
                "must be a cron expression of five fields (minute hour day-of-month month "
                "day-of-week, e.g. '30 2 * * *') or a macro: " + ", ".join(MACROS),
            ),
            rule(
                "!self.startsWith('@') || self in [" + ", ".join(f"'{m}'" for m in MACROS) + "]",
                "unknown macro: use one of " + ", ".join(MACROS),
            ),
        ),
    ),
]


class ConcurrencyPolicy(StrEnum):
    ALLOW = "Allow"
    FORBID = "Forbid"
    REPLACE = "Replace"


class TemplateMetadata(ApiModel):
    """What each run's metadata starts from (its name is derived, never given)."""

    labels: dict[str, str] | None = Field(default=None, description="Labels of each run.")
    annotations: dict[str, str] | None = Field(default=None, description="Annotations of each run.")


STEP_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
# Each step holds a whole MediaJob spec: the API server's CEL cost estimate of its rules
# grows with the number of steps, and 5 keeps every rule within its budget.
STEPS_MAX = 5


class PipelineStep(ApiModel):
    """One MediaJob of each run of a pipeline."""

    name: str = Field(
        pattern=STEP_PATTERN,
        max_length=32,
        description="The step's name (1-32 lowercase letters, digits, '-'): its MediaJob is "
        "named <run>-<name>, and the other steps' dependsOn and fromJob name it.",
    )
    metadata: TemplateMetadata | None = Field(
        default=None, description="Labels and annotations of this step's MediaJob."
    )
    spec: MediaJobSpec = Field(
        description="The step's MediaJob spec; its dependsOn and fromJob name other steps."
    )


class MediaJobTemplate(ApiModel):
    """What each run creates: one MediaJob (spec), or a small pipeline of them (steps)."""

    metadata: TemplateMetadata | None = Field(
        default=None, description="Labels and annotations of each run's MediaJobs."
    )
    spec: MediaJobSpec | None = Field(
        default=None,
        description="The spec of each run, as a MediaJob's. Exactly one of spec and steps.",
    )
    steps: list[PipelineStep] | None = Field(
        default=None,
        min_length=1,
        max_length=STEPS_MAX,
        description="A pipeline: the MediaJobs each run creates together (at most 5), their "
        "order set by their dependsOn. Exactly one of spec and steps.",
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule("has(self.spec) != has(self.steps)", "give exactly one of spec and steps"),
            rule(
                "!has(self.steps) || self.steps.all(s, !has(s.spec.dependsOn) || "
                "s.spec.dependsOn.all(d, d != s.name && self.steps.exists(t, t.name == d)))",
                "a step's dependsOn must name other steps of the pipeline",
                ".steps",
            ),
        )
    }

    def members(self) -> list[PipelineStep]:
        """The MediaJobs of one run: the steps, or the spec as a step with no name."""
        if self.steps:
            return list(self.steps)
        if self.spec is None:
            raise ValueError("a template has spec or steps (the CRD requires one)")
        return [PipelineStep.model_construct(name="", metadata=None, spec=self.spec)]


class MediaJobScheduleSpec(ApiModel):
    """When to run, and what: one MediaJob per scheduled time."""

    schedule: Cron | None = Field(
        default=None,
        description="A cron expression (minute hour day-of-month month day-of-week, read as "
        "Debian's cron reads it) or a macro (@hourly, @daily, @weekly, @monthly, @yearly), "
        "in timeZone. Exactly one of schedule and schedules.",
    )
    schedules: list[Cron] | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        description="Several cron expressions: a run at each time any of them names (a time "
        "two of them name runs once). Exactly one of schedule and schedules.",
    )
    time_zone: str = Field(
        default="UTC",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z][-A-Za-z0-9_+]*(/[-A-Za-z0-9_+]+)*$",
        description="The IANA time zone the schedule is read in, e.g. Europe/Berlin; default "
        "UTC. A daylight-saving change neither repeats nor drops a run.",
    )
    concurrency_policy: ConcurrencyPolicy = Field(
        default=ConcurrencyPolicy.ALLOW,
        description="When a run is due while an earlier one is still active: Allow (run "
        "both), Forbid (skip the new one) or Replace (delete the active one, run the new). "
        "Default Allow.",
    )
    starting_deadline_seconds: int | None = Field(
        default=None,
        ge=1,
        le=31_536_000,
        description="A run that could not start within this many seconds of its scheduled "
        "time (the operator was down, say) is skipped. Default: no deadline.",
    )
    suspend: bool = Field(
        default=False,
        description="Start no runs; times passed while suspended are not made up after. "
        "Active runs are left alone. Default false.",
    )
    successful_jobs_history_limit: int = Field(
        default=3, ge=0, le=1000, description="Succeeded runs kept (older ones deleted); default 3."
    )
    failed_jobs_history_limit: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="Failed or cancelled runs kept (older ones deleted); default 1.",
    )
    start_date: datetime | None = Field(
        default=None, description="No run is scheduled before this time (RFC 3339)."
    )
    end_date: datetime | None = Field(
        default=None, description="No run is scheduled after this time (RFC 3339)."
    )
    limit: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Stop after this many runs have been started.",
    )
    job_template: MediaJobTemplate = Field(description="The MediaJob each run creates.")

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule(
                "has(self.schedule) != has(self.schedules)",
                "give exactly one of schedule and schedules",
            ),
            rule(
                "!has(self.startDate) || !has(self.endDate) || self.endDate > self.startDate",
                "endDate must be after startDate",
                ".endDate",
            ),
        )
    }

    @property
    def crons(self) -> list[str]:
        """Every cron expression, macros spelt out."""
        given = [self.schedule] if self.schedule is not None else list(self.schedules or [])
        return [MACROS.get(c, c) for c in given]

    @property
    def shown(self) -> str:
        """The schedule as the SCHEDULE column shows it."""
        return self.schedule if self.schedule is not None else ", ".join(self.schedules or [])


class MediaJobScheduleStatus(ApiModel):
    """What the operator observed and did; written by the operator only."""

    schedule: str | None = Field(
        default=None, description="The schedule (or schedules), for the SCHEDULE column."
    )
    last_schedule_time: datetime | None = Field(
        default=None,
        description="The latest scheduled time acted on: its run started, or it was skipped.",
    )
    next_schedule_time: datetime | None = Field(
        default=None, description="When the next run is due (none once finished or suspended)."
    )
    last_successful_time: datetime | None = Field(
        default=None, description="When the latest run that succeeded finished."
    )
    active: list[str] | None = Field(
        default=None, description="The runs (MediaJob names) started and not finished yet."
    )
    active_count: int | None = Field(
        default=None, ge=0, description="How many runs are active (the ACTIVE column)."
    )
    runs: int | None = Field(default=None, ge=0, description="Runs started (counted by limit).")
    succeeded: int | None = Field(default=None, ge=0, description="Runs that succeeded.")
    failed: int | None = Field(
        default=None, ge=0, description="Runs that failed or were cancelled."
    )
    skipped: int | None = Field(
        default=None,
        ge=0,
        description="Scheduled times not run: missed while the operator was down (only the "
        "latest of them is started), past startingDeadlineSeconds, or refused by Forbid.",
    )
    message: str | None = Field(
        default=None, max_length=1024, description="A one-line explanation."
    )
    observed_generation: int | None = Field(
        default=None, description="The metadata.generation of the spec this status reflects."
    )
    conditions: list[Condition] | None = Field(
        default=None,
        description="Ready: True while runs are being scheduled; False with InvalidSpec, "
        "Suspended or Finished.",
    )


class MediaJobSchedule(ApiModel):
    api_version: str = Field(default="mediajobs.dev/v1alpha1")
    kind: str = Field(default=KIND)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: MediaJobScheduleSpec
    status: MediaJobScheduleStatus | None = None
