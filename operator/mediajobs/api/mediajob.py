"""MediaJob: one piece of media work, run as a batch/v1 Job by the operator.

Field-level rules that the API server can check live here as CEL
(``x-kubernetes-validations``); rules that depend on the operation catalog
(which params, how many inputs) are added by :mod:`mediajobs.api.crd`.

A little over 400 lines: the whole MediaJob contract, spec and status, with the
description ``kubectl explain`` shows for every field, reads best in one place.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from mediajobs.api.common import (
    ApiModel,
    Category,
    Condition,
    Operation,
    cel,
    immutable,
    rule,
)
from mediajobs.api.strings import MediaPath, ObjectName, ProcessText, SecretKey, Token, WebUrl

KIND = "MediaJob"
PLURAL = "mediajobs"

NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$"
NAME_MAX = 63
PLATFORM_PATTERN = r"^[a-z0-9]([a-z0-9_-]{0,30}[a-z0-9])?$"
PLATFORM_MAX = 32


class InputRef(ApiModel):
    """One input: a file on the media volume (path), an http(s) URL (url), or a file another
    MediaJob of the namespace wrote (fromJob, with output); set exactly one of the three."""

    path: MediaPath | None = Field(
        default=None,
        description="The input file, relative to the media volume, e.g. library/alice/clip.mp4 "
        "(no leading '/', no '..', no control characters; at most 1024 characters).",
    )
    url: WebUrl | None = Field(
        default=None,
        description="An http:// or https:// URL the worker downloads (streamed, with a size cap), "
        "e.g. https://cdn.example.com/clip.mp4; no whitespace or control characters "
        "(percent-encode them); at most 4096 characters.",
    )

    from_job: ObjectName | None = Field(
        default=None,
        description="The MediaJob (same namespace, listed in spec.dependsOn) whose output this "
        "is: resolved to the file it wrote (its status.result.outputs) once it has succeeded.",
    )
    output: int | None = Field(
        default=None,
        ge=0,
        le=1023,
        description="Which of fromJob's outputs, counting from 0 (default 0); only with fromJob.",
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule(
                "(has(self.path) ? 1 : 0) + (has(self.url) ? 1 : 0) + (has(self.fromJob) ? 1 : 0)"
                " == 1",
                "exactly one of path, url or fromJob must be set",
            ),
            rule(
                "!has(self.output) || has(self.fromJob)",
                "output picks one of fromJob's outputs: set it only with fromJob",
                ".output",
            ),
        )
    }


class OutputRef(ApiModel):
    """Where results go: an exact file (path) or a directory (prefix), relative to the media
    volume; set at most one. Without either, outputs go under mediajobs/<namespace>/<name>/."""

    path: MediaPath | None = Field(
        default=None,
        description="The exact output file, relative to the media volume, e.g. "
        "library/alice/clip-720p.mp4 (for operations with one output).",
    )
    prefix: MediaPath | None = Field(
        default=None,
        description="The directory outputs are written under, relative to the media volume, "
        "e.g. library/alice/teasers/.",
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule("!(has(self.path) && has(self.prefix))", "set path or prefix, not both"),
        )
    }


# A Kubernetes quantity or a plain number; the operator parses it (api.quantity).
QuantityText = Annotated[str, Field(max_length=64)]
QUANTITY = cel(
    rule(
        "type(self) == int || isQuantity(self)",
        "must be a Kubernetes quantity, e.g. 2, 500m, 1.5, 512Mi or 2Gi",
    )
)


class Resources(ApiModel):
    """Overrides of the operation's default resources (see the operation catalog in the README)."""

    cpu: int | QuantityText | None = Field(
        default=None,
        description="CPU request (no limit: an encode is not throttled): cores as a number "
        "or a quantity, e.g. 2 or 500m.",
        json_schema_extra=QUANTITY,
    )
    memory: int | QuantityText | None = Field(
        default=None,
        description="Memory request and limit (an attempt that outgrows it is killed and "
        "retried): bytes or a quantity, e.g. 512Mi or 2Gi.",
        json_schema_extra=QUANTITY,
    )
    gpu: int | None = Field(
        default=None,
        ge=0,
        le=8,
        description="Number of nvidia.com/gpu devices, 0 to 8; needs a GPU category.",
    )
    vram_mib: int | None = Field(
        default=None,
        alias="vramMiB",
        ge=0,
        le=1_000_000,
        description="GPU memory needed, in MiB. Kubernetes cannot see VRAM: the operator counts "
        "it per GPU pool and admits a job only when it fits. Needs a GPU category.",
    )


class Backoff(ApiModel):
    """How long to wait before each retry: seconds * factor^(failures - 1), at most maxSeconds."""

    seconds: int = Field(
        default=120, ge=1, le=86400, description="Delay before the first retry, in seconds."
    )
    factor: float = Field(
        default=2.0,
        ge=1,
        le=10,
        description="Multiplier applied to the delay after each failure, 1 to 10 (1: constant).",
    )
    max_seconds: int = Field(
        default=3600, ge=1, le=604800, description="Upper bound on the delay, in seconds."
    )


class RetryPolicy(ApiModel):
    """How a failed attempt is retried. Invalid specs and inputs are never retried."""

    limit: int = Field(
        default=3,
        ge=0,
        le=100,
        description="Retries after the first attempt, 0 to 100 (0: never retry).",
    )
    backoff: Backoff = Field(
        default_factory=Backoff,
        description="The delay between attempts (default: 120 s, doubling, at most 3600 s).",
        json_schema_extra={"default": {}},
    )


class SecretKeyRef(ApiModel):
    """One key of a Secret in the MediaJob's namespace."""

    name: ObjectName = Field(description="Name of the Secret.")
    key: SecretKey = Field(description="Key within the Secret's data.")


class EnvVarSource(ApiModel):
    """Where an environment variable's value comes from."""

    secret_key_ref: SecretKeyRef = Field(
        description="A key of a Secret in the MediaJob's namespace."
    )


class EnvVar(ApiModel):
    """One environment variable of the custom container: a value or a Secret key, not both."""

    name: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=256,
        description="Variable name: letters, digits and '_', not starting with a digit.",
    )
    value: ProcessText | None = Field(
        default=None, max_length=32768, description="The value, at most 32768 characters."
    )
    value_from: EnvVarSource | None = Field(
        default=None, description="Take the value from a Secret instead."
    )

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule("has(self.value) != has(self.valueFrom)", "set exactly one of value or valueFrom"),
        )
    }


class DependencyFailurePolicy(StrEnum):
    FAIL = "Fail"
    RUN = "Run"
    SKIP = "Skip"


# CEL: every fromJob of the spec's inputs is one of its dependsOn.
_FROM_JOB_LISTED = (
    "(!has(self.input) || !has(self.input.fromJob) || "
    "(has(self.dependsOn) && self.input.fromJob in self.dependsOn)) && "
    "(!has(self.inputs) || self.inputs.all(i, !has(i.fromJob) || "
    "(has(self.dependsOn) && i.fromJob in self.dependsOn)))"
)


class ContainerSpec(ApiModel):
    """The user's own container, for operation custom. The media volume is mounted at /media
    and the task is in $MEDIAJOB_TASK (JSON)."""

    image: Token = Field(
        min_length=1,
        max_length=1024,
        description="Container image reference, e.g. registry.example.com/tools/probe:1.2.",
    )
    command: list[Annotated[ProcessText, Field(max_length=4096)]] | None = Field(
        default=None,
        max_length=64,
        description="Entrypoint, replacing the image's (at most 64 items of 4096 characters).",
    )
    args: list[Annotated[ProcessText, Field(max_length=4096)]] | None = Field(
        default=None,
        max_length=256,
        description="Arguments to the entrypoint (at most 256 items of 4096 characters).",
    )
    env: list[EnvVar] | None = Field(
        default=None, max_length=128, description="Environment variables (at most 128)."
    )


class MediaJobSpec(ApiModel):
    """What to do, on which media, and how to run it."""

    operation: Operation = Field(
        description="What to do, from the operation catalog (see the README); immutable.",
        json_schema_extra=immutable("operation"),
    )
    input: InputRef | None = Field(
        default=None,
        description="The one input of single-input operations; immutable.",
        json_schema_extra=immutable("input"),
    )
    inputs: list[InputRef] | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The inputs of compilations (compile_concat, compile_quad), in order; "
        "at most 64; immutable.",
        json_schema_extra=immutable("inputs"),
    )
    output: OutputRef | None = Field(
        default=None,
        description="Where outputs go; default mediajobs/<namespace>/<name>/ on the media "
        "volume; immutable.",
        json_schema_extra=immutable("output"),
    )
    params: dict[str, Any] | None = Field(
        default=None,
        description="Operation parameters; each operation accepts only its own.",
    )
    priority: int = Field(
        default=5,
        ge=1,
        le=10,
        description="Queue priority, 1 (highest) to 10 (lowest); default 5.",
    )
    category: Category | None = Field(
        default=None,
        description="Resource category, with its own concurrency cap and quota: cpu, "
        "gpu_encode or gpu_ai. Default: the operation's (see the catalog).",
    )
    resources: Resources | None = Field(
        default=None, description="Overrides of the operation's default CPU, memory and GPU."
    )
    creator_profile: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        max_length=NAME_MAX,
        description="The creator this work is for (1-63 letters, digits, '.', '_', '-'): "
        "scopes storage, watermarks and platform sessions. Required for watermarks, "
        "scrapes and publishing.",
    )
    platform: str | None = Field(
        default=None,
        pattern=PLATFORM_PATTERN,
        max_length=PLATFORM_MAX,
        description="The platform whose login session scrapes and publishing use, e.g. "
        "onlyfans (1-32 lowercase letters, digits, '_', '-').",
    )
    retry: RetryPolicy = Field(
        default_factory=RetryPolicy,
        description="How failed attempts are retried (default: 3 retries, 120 s doubling "
        "up to 3600 s).",
        json_schema_extra={"default": {}},
    )
    suspend: bool = Field(
        default=False,
        description="Pause: a queued job is held, a running one is stopped and requeued "
        "when suspend is set back to false. Default false.",
    )
    cancel: bool = Field(
        default=False,
        description="Stop for good: the job ends as Cancelled and its record is kept. "
        "Default false.",
    )
    manual_retries: int = Field(
        default=0,
        ge=0,
        le=1_000_000,
        description="Requests to run a Failed job again (kubectl mediajobs retry raises it by "
        "one): while it is above status.manualRetries, a Failed job is queued again with a "
        "fresh retry budget (status.failures back to 0); ignored in other phases. Default 0.",
    )
    start_after: datetime | None = Field(
        default=None,
        description="Do not start before this time (RFC 3339, e.g. 2025-01-31T22:00:00Z).",
    )
    deadline_seconds: int | None = Field(
        default=None,
        ge=1,
        le=604800,
        description="Wall-clock limit of one attempt, in seconds (at most 7 days); "
        "an attempt that runs longer fails.",
    )
    ttl_seconds_after_finished: int | None = Field(
        default=None,
        ge=0,
        le=2_147_483_647,
        description="Delete the MediaJob this many seconds after it finished (like a Job's "
        "ttlSecondsAfterFinished). Default: the operator's retention (as shipped: 1 day after "
        "success, 7 days after failure or cancellation).",
    )
    container: ContainerSpec | None = Field(
        default=None, description="The container to run; only, and required, with operation custom."
    )
    depends_on: list[ObjectName] | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="MediaJobs of the same namespace (at most 32) that must succeed before this "
        "one is queued: until then it waits in Pending (WaitingForDependency), holding no slot. "
        "A name that no MediaJob has, or a cycle, fails it (InvalidSpec); immutable.",
        json_schema_extra={
            **immutable("dependsOn"),
            "x-kubernetes-list-type": "set",
        },
    )
    on_dependency_failure: DependencyFailurePolicy = Field(
        default=DependencyFailurePolicy.FAIL,
        description="When a dependency fails, is cancelled or skipped, or is deleted before it "
        "succeeded: Fail (this job fails, reason DependencyFailed, naming it), Run (it runs "
        "anyway; an input from that job cannot be had and fails it) or Skip (it ends as "
        "Skipped). Default Fail.",
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
            rule(
                _FROM_JOB_LISTED, "every input's fromJob must be listed in dependsOn", ".dependsOn"
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
    SKIPPED = "Skipped"

    @property
    def finished(self) -> bool:
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED, Phase.SKIPPED)

    @property
    def delayed(self) -> bool:
        """Out of the queue for a while (backing off, suspended, waiting for a person):
        what /stats, the web view and `kubectl mediajobs stats` count as delayed."""
        return self in (Phase.BACKING_OFF, Phase.SUSPENDED, Phase.WAITING_FOR_HUMAN)


class OutputFile(ApiModel):
    """One file the job wrote."""

    path: str = Field(description="The file, relative to the media volume.")
    bytes: int = Field(ge=0, description="Size in bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the content, hex.")
    duration: float | None = Field(
        default=None, ge=0, description="Duration in seconds, for audio and video."
    )
    width: int | None = Field(default=None, ge=0, description="Width in pixels, for pictures.")
    height: int | None = Field(default=None, ge=0, description="Height in pixels, for pictures.")
    video_codec: str | None = Field(default=None, description="Video codec, e.g. h264.")
    audio_codec: str | None = Field(default=None, description="Audio codec, e.g. aac.")


class JobResult(ApiModel):
    """What a successful attempt produced."""

    outputs: list[OutputFile] = Field(
        default_factory=list, description="The files written, in order."
    )
    data: dict[str, Any] | None = Field(
        default=None, description="Operation-specific results (scene timestamps, probe data...)."
    )


class MediaJobStatus(ApiModel):
    """What the operator observed; written by the operator only."""

    phase: Phase | None = Field(
        default=None,
        description="Where the job is: Pending (waitingReason WaitingForDependency: its "
        "dependsOn have not all succeeded), Queued, Running, BackingOff (waiting to retry), "
        "WaitingForHuman (a platform login is needed), Suspended, or finished: Succeeded, "
        "Failed, Cancelled, Skipped (a dependency failed and onDependencyFailure is Skip).",
    )
    category: Category | None = Field(default=None, description="The effective resource category.")
    progress: int | None = Field(default=None, ge=0, le=100, description="Percent done, 0-100.")
    queue_position: int | None = Field(
        default=None, ge=0, description="Place in its category's queue while Queued (1: next)."
    )
    waiting_reason: str | None = Field(
        default=None,
        description="Why a Queued job is not running yet (a cap, a quota, VRAM...); while "
        "Pending, WaitingForDependency; while Running, why its worker has not started "
        "(ImagePullBackOff, Unschedulable...).",
    )
    attempts: int | None = Field(
        default=None,
        ge=0,
        description="Attempts started. A worker that found itself logged out (a platform "
        "login needed) does not end its attempt: it goes on, as a new run, once a person has "
        "logged in.",
    )
    runs: int | None = Field(
        default=None,
        ge=0,
        description="Jobs created: one per attempt, and one more for each run after a login.",
    )
    failures: int | None = Field(
        default=None, ge=0, description="Failed attempts that count against spec.retry.limit."
    )
    retry_after: datetime | None = Field(
        default=None, description="When a BackingOff job is retried."
    )
    manual_retries: int | None = Field(
        default=None,
        ge=0,
        description="The spec.manualRetries the operator has acted on (a Failed job queued "
        "again for each request).",
    )
    rate_limited_waits: int | None = Field(
        default=None,
        ge=0,
        description="Waits a platform asked for (HTTP 429 Retry-After, worker exit 75) that "
        "spent no retry; past 5 they count as failures.",
    )
    job_name: str | None = Field(
        default=None, description="The batch/v1 Job running the current attempt."
    )
    started_at: datetime | None = Field(default=None, description="When the first attempt started.")
    completed_at: datetime | None = Field(default=None, description="When the job finished.")
    result: JobResult | None = Field(default=None, description="The outputs, once Succeeded.")
    inputs: list[InputRef] | None = Field(
        default=None,
        max_length=64,
        description="The inputs as its first attempt received them, each fromJob resolved to the "
        "file that job wrote; set when its dependencies succeeded.",
    )
    message: str | None = Field(
        default=None, max_length=4096, description="A one-line human-readable explanation."
    )
    hitl_session: str | None = Field(
        default=None, description="The HitlSession this job waits on (WaitingForHuman)."
    )
    observed_generation: int | None = Field(
        default=None, description="The metadata.generation of the spec this status reflects."
    )
    conditions: list[Condition] | None = Field(
        default=None,
        description="Admitted, Running, Complete, Failed, WaitingForHuman and DependenciesMet, "
        "for kubectl wait --for=condition=...",
    )


class MediaJob(ApiModel):
    api_version: str = Field(default="mediajobs.dev/v1alpha1")
    kind: str = Field(default=KIND)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: MediaJobSpec
    status: MediaJobStatus | None = None
