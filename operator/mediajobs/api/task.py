"""The worker contract: what the operator hands the job container, and what comes back.

The operator serialises a :class:`Task` into the container's ``MEDIAJOB_TASK``
environment variable (or a file named by ``MEDIAJOB_TASK_FILE``). The worker
answers with its exit code and a :class:`TerminationMessage` written to
``/dev/termination-log``; Kubernetes delivers that file in the pod status, so
no side channel is needed. The full result also goes to Redis (best effort).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from mediajobs.api.common import ApiModel, Operation
from mediajobs.api.contract import (
    TASK_ENV,
    TASK_FILE_ENV,
    TERMINATION_LOG,
    TERMINATION_MESSAGE_LIMIT,
    ExitCode,
)
from mediajobs.api.mediajob import InputRef, JobResult, OutputRef
from mediajobs.api.platform import PlatformConfig

__all__ = [
    "TASK_ENV",
    "TASK_FILE_ENV",
    "TERMINATION_LOG",
    "TERMINATION_MESSAGE_LIMIT",
    "ExitCode",
    "Footprint",
    "ProgressSink",
    "Task",
    "TerminationMessage",
]


class ProgressSink(ApiModel):
    """Where progress goes: a Redis stream. Absent or unreachable: no progress, no failure."""

    redis_url: str | None = None
    stream: str = "mediajobs:progress"


class Task(ApiModel):
    """One attempt of one MediaJob, as the worker sees it."""

    uid: str = Field(description="The MediaJob's metadata.uid.")
    namespace: str
    name: str
    attempt: int = Field(default=1, ge=1)
    operation: Operation
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[InputRef] = Field(default_factory=list)
    output: OutputRef
    media_root: str = Field(default="/media", description="Where the media volume is mounted.")
    scratch_dir: str = Field(default="/tmp", description="Writable scratch space.")  # noqa: S108
    gpu: bool = Field(default=False, description="The pod holds a GPU: try NVENC.")
    creator_profile: str | None = None
    platform: str | None = None
    platform_config: PlatformConfig | None = Field(
        default=None,
        description="Scrape and publish jobs: the operator config's entry for the platform.",
    )
    cookies_file: str | None = Field(
        default=None,
        description="Scrape and publish jobs: the platform session's cookies.json "
        "(the Secret, mounted read-only); absent or unreadable: login required.",
    )
    progress: ProgressSink = Field(default_factory=ProgressSink)
    allow_private_urls: bool = Field(
        default=False, description="Allow URLs that resolve to private or loopback addresses."
    )
    max_download_bytes: int = Field(default=20 * 1024**3, ge=1)
    memory_limit_bytes: int | None = Field(
        default=None,
        ge=1,
        description="The container's memory limit: the worker's decode budget comes from it.",
    )


class Footprint(ApiModel):
    """What the worker expects its inputs to take, left in the termination message first.

    Written before FFmpeg decodes anything and replaced by the final message, so
    an attempt the kernel kills for memory still says what it was working on.
    """

    input: str = Field(max_length=200, description='e.g. "3840x2160 video"')
    estimated_bytes: int = Field(ge=0)
    limit_bytes: int = Field(ge=1)


class TerminationMessage(ApiModel):
    """What the worker leaves in /dev/termination-log: a result, or a one-line error."""

    result: JobResult | None = None
    error: str | None = Field(default=None, max_length=1024)
    footprint: Footprint | None = None
    retry_after_seconds: int | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="With exit 75: the platform asked for this wait (an HTTP 429's "
        "Retry-After); the next attempt starts no sooner.",
    )
