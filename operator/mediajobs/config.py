"""Operator configuration (the Helm chart's values end up here).

Plain data with the reference systems' defaults: at most 5 cpu, 2 gpu_encode and
1 gpu_ai jobs at once cluster-wide, and a 16000 MiB VRAM budget per GPU pool
(Kubernetes cannot see VRAM, so the operator counts it). Loaded from a YAML
file (``MEDIAJOBS_CONFIG``) whose keys are the camelCase names below.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, field_validator, model_validator

from mediajobs.api.common import ApiModel, Category
from mediajobs.api.platform import PlatformConfig


class PreemptionPolicy(StrEnum):
    NEVER = "Never"
    LOWER_PRIORITY = "LowerPriority"


class Preemption(ApiModel):
    """Whether a waiting job of the category may stop running jobs of strictly lower
    priority to take their place (scheduling/preempt.py). Never (the default): its jobs
    neither preempt nor are preempted, across a shared GPU pool too."""

    policy: PreemptionPolicy = PreemptionPolicy.NEVER
    min_runtime_seconds: int = Field(
        default=300, ge=0, description="A job that started less than this ago is not preempted."
    )
    max_victims_per_admission: int = Field(
        default=1, ge=1, description="At most this many jobs are stopped to admit one."
    )
    protect_progress_percent: int = Field(
        default=80, ge=0, le=100, description="A job at or past this progress is not preempted."
    )


class CategoryLimits(ApiModel):
    max_running: int = Field(ge=0, description="Cluster-wide cap on running jobs.")
    starts_per_minute: float | None = Field(
        default=None, gt=0, description="Optional rate limit on starts (jobs per minute)."
    )
    preemption: Preemption = Field(default_factory=Preemption)


class FairSharePreemption(ApiModel):
    """Whether a namespace over its weighted share gives a running slot back to one under
    it (scheduling/fairpreempt.py). It acts only in categories whose preemption policy is
    LowerPriority, with their minRuntimeSeconds and protectProgressPercent, one victim at
    a time, and never where the receiver would end above the donor (no oscillation)."""

    enabled: bool = False


class FairShare(ApiModel):
    """Among waiting jobs of the same priority in a category, the next slot goes to the
    namespace with the lowest running share over its weight (scheduling/fairshare.py).
    A namespace's weight is its ``mediajobs.dev/fair-share-weight`` label, unless WEIGHTS
    names it: the operator config wins (scheduling/weights.py)."""

    enabled: bool = True
    weights: dict[str, float] = Field(
        default_factory=dict,
        description="Namespace -> weight (default 1; larger: more share). Wins over the "
        "namespace's mediajobs.dev/fair-share-weight label.",
    )
    preemption: FairSharePreemption = Field(default_factory=FairSharePreemption)

    @field_validator("weights", mode="after")
    @classmethod
    def _positive(cls, weights: dict[str, float]) -> dict[str, float]:
        bad = sorted(ns for ns, w in weights.items() if not w > 0)
        if bad:
            raise ValueError(f"fair-share weights must be > 0 (namespaces: {', '.join(bad)})")
        return weights


class GpuPool(ApiModel):
    """A set of GPU nodes sharing one VRAM budget."""

    name: str = "default"
    vram_mib: int = Field(default=16000, ge=0, alias="vramMiB")
    node_selector: dict[str, str] = Field(
        default_factory=lambda: {"nvidia.com/gpu.present": "true"}
    )
    tolerations: list[dict[str, Any]] = Field(
        default_factory=lambda: [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ]
    )


def _default_limits() -> dict[Category, CategoryLimits]:
    return {
        Category.CPU: CategoryLimits(max_running=5),
        Category.GPU_ENCODE: CategoryLimits(max_running=2),
        Category.GPU_AI: CategoryLimits(max_running=1),
    }


class Images(ApiModel):
    ffmpeg_worker: str = "docker.io/local/mediajobs-ffmpeg-worker:0.1.0"
    scraper: str = "docker.io/local/mediajobs-scraper:0.1.0"
    pull_policy: str = Field(default="IfNotPresent", pattern="^(Always|IfNotPresent|Never)$")


class MediaVolume(ApiModel):
    """The media library every job reads and writes, as a pod volume source."""

    source: dict[str, Any] = Field(
        default_factory=lambda: {"persistentVolumeClaim": {"claimName": "mediajobs-media"}}
    )
    mount_path: str = "/media"


class Retention(ApiModel):
    """How long finished MediaJobs are kept unless spec.ttlSecondsAfterFinished says."""

    succeeded_seconds: int | None = Field(default=86400, ge=0)
    failed_seconds: int | None = Field(default=7 * 86400, ge=0)
    cancelled_seconds: int | None = Field(default=7 * 86400, ge=0)


class LeaderElection(ApiModel):
    """Two or more replicas elect a leader with a coordination.k8s.io/v1 Lease
    (controller/election.py); client-go's default timings. Off: a lone replica leads."""

    enabled: bool = False
    lease_name: str = "mediajobs-operator"
    lease_namespace: str | None = Field(
        default=None,
        description="Default: $POD_NAMESPACE, else the first watched namespace, else default.",
    )
    lease_duration_seconds: float = Field(default=15.0, gt=0)
    renew_deadline_seconds: float = Field(default=10.0, gt=0)
    retry_period_seconds: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _leader_stops_before_a_standby_starts(self) -> LeaderElection:
        # The leader stops writing renewDeadline after its last renewal; a standby takes
        # over no sooner than leaseDuration - retryPeriod after it (election.py's proof).
        margin = self.lease_duration_seconds - self.renew_deadline_seconds
        if margin <= self.retry_period_seconds:
            raise ValueError("leaseDurationSeconds must exceed renewDeadlineSeconds + retryPeriod")
        if self.retry_period_seconds >= self.renew_deadline_seconds:
            raise ValueError("retryPeriodSeconds must be shorter than renewDeadlineSeconds")
        return self


class WebView(ApiModel):
    """The read-only web view on the operator's HTTP server (/, /events): on by default,
    where the server listens on 127.0.0.1; the chart turns it off unless asked."""

    enabled: bool = True
    namespaces: list[str] = Field(
        default_factory=list,
        description="Show only these namespaces (empty: every namespace the operator watches).",
    )
    interval_seconds: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="How often a change is pushed to the open pages, at most.",
    )


class OperatorConfig(ApiModel):
    limits: dict[Category, CategoryLimits] = Field(default_factory=_default_limits)
    gpu_pools: list[GpuPool] = Field(default_factory=lambda: [GpuPool()], min_length=1)
    images: Images = Field(default_factory=Images)
    media: MediaVolume = Field(default_factory=MediaVolume)
    retention: Retention = Field(default_factory=Retention)
    redis_url: str | None = None
    progress_stream: str = "mediajobs:progress"
    termination_grace_seconds: int = Field(default=30, ge=0)
    start_timeout_seconds: int = Field(
        default=600,
        ge=1,
        description="How long a Job's worker may take to start (scheduling, image pull) "
        "before the attempt is given up with its pod's reason (lifecycle/plan.py says how).",
    )
    job_service_account: str | None = Field(
        default=None, description="Service account of job pods; their token is never mounted."
    )
    allow_private_urls: bool = False
    max_download_bytes: int = Field(default=20 * 1024**3, ge=1)
    leader_election: LeaderElection = Field(default_factory=LeaderElection)
    platforms: dict[str, PlatformConfig] = Field(
        default_factory=dict,
        description="How the scraper reaches each platform (spec.platform): adapter, pages, "
        "login wall, upload endpoint. A scrape or publish job gets its platform's entry.",
    )
    platform_start_rates: dict[str, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict,
        description="Starts per minute per platform of the jobs that act on one (scrapes, "
        "publishing): polite to the platform, whatever the category's slots allow.",
    )
    fair_share: FairShare = Field(default_factory=FairShare)
    web_view: WebView = Field(default_factory=WebView)

    @field_validator("limits", mode="after")
    @classmethod
    def _keep_unnamed_defaults(
        cls, limits: dict[Category, CategoryLimits]
    ) -> dict[Category, CategoryLimits]:
        # Naming one category must not switch the others off: they keep their defaults.
        return _default_limits() | limits

    def limit(self, category: Category) -> CategoryLimits:
        return self.limits[category]


def load_config(path: Path | None) -> OperatorConfig:
    """The config from a YAML file, or the defaults when PATH is None."""
    if path is None:
        return OperatorConfig()
    return OperatorConfig.model_validate(yaml.safe_load(path.read_text()) or {})
