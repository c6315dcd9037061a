"""MediaJob: one piece of media work, run as a batch/v1 Job by the operator.

Field-level rules that the API server can check live here as CEL
(``x-kubernetes-validations``); rules that depend on the operation catalog
(which params, how many inputs) are added by :mod:`mediajobs.api.crd`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from mediajobs.api.common import (
    SAFE_PATH,
    ApiModel,
    Category,
    Condition,
    Operation,
    cel,
    immutable,
    rule,
)

KIND = "MediaJob"
PLURAL = "mediajobs"

NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$"
PLATFORM_PATTERN = r"^[a-z0-9]([a-z0-9_-]{0,30}[a-z0-9])?$"


class InputRef(ApiModel):
    """One input: a path on the media volume or an http(s) URL, never both."""

    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Path relative to the media volume.",
        json_schema_extra=SAFE_PATH,
    )
    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="An http or https URL; the worker streams it with a size cap.",
        json_schema_extra=cel(
            rule(
                "self.matches('^[hH][tT][tT][pP][sS]?://[^/?#]+')",
                "must be an http:// or https:// URL with a host",
            )
        ),
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule("has(self.path) != has(self.url)", "exactly one of path or url must be set"),
        )
    }


class OutputRef(ApiModel):
    """Where results go: an exact file path or a directory prefix, relative."""

    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Exact output file, relative to the media volume.",
        json_schema_extra=SAFE_PATH,
    )
    prefix: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="Directory the outputs are written under, relative to the media volume.",
        json_schema_extra=SAFE_PATH,
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule("!(has(self.path) && has(self.prefix))", "set path or prefix, not both"),
        )
    }


class Resources(ApiModel):
    """Overrides of the catalog's default resources."""

    cpu: int | str | None = Field(default=None, description="CPU request, e.g. 2 or 500m.")
    memory: int | str | None = Field(default=None, description="Memory request, e.g. 2Gi.")
    gpu: int | None = Field(default=None, ge=0, le=8, description="nvidia.com/gpu count.")
    vram_mib: int | None = Field(
        default=None,
        alias="vramMiB",
        ge=0,
        le=1_000_000,
        description="VRAM needed in MiB; Kubernetes cannot see VRAM, the operator counts it.",
    )


class Backoff(ApiModel):
    seconds: int = Field(default=120, ge=1, le=86400, description="Delay before the first retry.")
    factor: float = Field(default=2.0, ge=1, le=10, description="Growth of the delay per retry.")
    max_seconds: int = Field(default=3600, ge=1, le=604800, description="Cap on the delay.")


class RetryPolicy(ApiModel):
    limit: int = Field(default=3, ge=0, le=100, description="Retries after the first attempt.")
    backoff: Backoff = Field(default_factory=Backoff, json_schema_extra={"default": {}})


class SecretKeyRef(ApiModel):
    name: str = Field(min_length=1, max_length=253)
    key: str = Field(min_length=1, max_length=253)


class EnvVarSource(ApiModel):
    secret_key_ref: SecretKeyRef


class EnvVar(ApiModel):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=256)
    value: str | None = Field(default=None, max_length=32768)
    value_from: EnvVarSource | None = None

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule("has(self.value) != has(self.valueFrom)", "set exactly one of value or valueFrom"),
        )
    }


class ContainerSpec(ApiModel):
    """The user's own container, for ``operation: custom``."""

    image: str = Field(min_length=1, max_length=1024)
    command: list[str] | None = Field(default=None, max_length=64)
    args: list[str] | None = Field(default=None, max_length=256)
    env: list[EnvVar] | None = Field(default=None, max_length=128)


class MediaJobSpec(ApiModel):
    operation: Operation = Field(
        description="What to do; one of the operation catalog.",
        json_schema_extra=immutable("operation"),
    )
    input: InputRef | None = Field(
        default=None,
        description="The one input of single-input operations.",
        json_schema_extra=immutable("input"),
    )
    inputs: list[InputRef] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The inputs of compilations, in order.",
        json_schema_extra=immutable("inputs"),
    )
    output: OutputRef | None = Field(
        default=None,
        description="Where outputs go; defaults to mediajobs/<namespace>/<name>/.",
        json_schema_extra=immutable("output"),
    )
    params: dict[str, Any] | None = Field(
        default=None,
        description="Operation parameters; each operation accepts only its own.",
    )
    priority: int = Field(default=5, ge=1, le=10, description="1 is the highest, 10 the lowest.")
    category: Category | None = Field(
        default=None, description="Resource category; defaults to the operation's."
    )
    resources: Resources | None = None
    creator_profile: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="The creator this work is for: scopes storage, watermarks and sessions.",
    )
    platform: str | None = Field(
        default=None,
        pattern=PLATFORM_PATTERN,
        description="The platform whose session scrape and publish use.",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy, json_schema_extra={"default": {}})
    suspend: bool = Field(
        default=False, description="Pause: a running job is stopped and requeued on resume."
    )
    cancel: bool = Field(
        default=False, description="Stop for good and keep the record as Cancelled."
    )
    start_after: datetime | None = Field(default=None, description="Do not start before this time.")
    deadline_seconds: int | None = Field(
        default=None, ge=1, le=604800, description="Wall-clock limit of one attempt."
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None, ge=0, description="Delete the MediaJob this long after it finished."
    )
    container: ContainerSpec | None = Field(
        default=None, description="Only with operation custom: the container to run."
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule(
                "!has(self.container) || self.operation == 'custom'",
                "container is allowed only with operation custom",
                ".container",
            ),
            rule(
                "self.operation != 'custom' || has(self.container)",
                "operation custom requires container",
                ".container",
            ),
        )
    }


class Phase(StrEnum):
    PENDING = "Pending"
    QUEUED = "Queued"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    WAITING_FOR_HUMAN = "WaitingForHuman"
    SUSPENDED = "Suspended"
    BACKING_OFF = "BackingOff"

    @property
    def finished(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED)


class OutputFile(ApiModel):
    path: str
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    duration: float | None = Field(default=None, ge=0, description="Seconds, for audio/video.")
    width: int | None = Field(default=None, ge=0)
    height: int | None = Field(default=None, ge=0)
    video_codec: str | None = None
    audio_codec: str | None = None


class JobResult(ApiModel):
    outputs: list[OutputFile] = Field(default_factory=list)
    data: dict[str, Any] | None = Field(
        default=None, description="Operation-specific results (scene timestamps, probe data...)."
    )


class MediaJobStatus(ApiModel):
    phase: Phase | None = None
    category: Category | None = Field(default=None, description="The effective category.")
    progress: int | None = Field(default=None, ge=0, le=100)
    queue_position: int | None = Field(default=None, ge=0)
    waiting_reason: str | None = None
    attempts: int | None = Field(default=None, ge=0, description="Attempts started (Jobs created).")
    failures: int | None = Field(
        default=None, ge=0, description="Failed attempts that count against spec.retry.limit."
    )
    retry_after: datetime | None = None
    job_name: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: JobResult | None = None
    message: str | None = Field(default=None, max_length=4096)
    hitl_session: str | None = None
    observed_generation: int | None = None
    conditions: list[Condition] | None = None


class MediaJob(ApiModel):
    api_version: str = Field(default="mediajobs.dev/v1alpha1")
    kind: str = Field(default=KIND)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: MediaJobSpec
    status: MediaJobStatus | None = None
