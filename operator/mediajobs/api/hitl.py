"""HitlSession: a human-in-the-loop gate for platform logins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from mediajobs.api.common import ApiModel, Condition, cel, rule
from mediajobs.api.mediajob import NAME_MAX, NAME_PATTERN, PLATFORM_MAX, PLATFORM_PATTERN
from mediajobs.api.strings import ObjectName, SecretKey, Text

KIND = "HitlSession"
PLURAL = "hitlsessions"


class SessionType(StrEnum):
    LOGIN_REQUIRED = "login_required"
    COOKIES_EXPIRED = "cookies_expired"
    TWO_FA_REQUIRED = "2fa_required"


class ResolutionMethod(StrEnum):
    BROWSER_EXTENSION = "browser_extension"
    MANUAL_COOKIES = "manual_cookies"
    OAUTH = "oauth"


class HitlPhase(StrEnum):
    PENDING = "Pending"
    IN_PROGRESS = "InProgress"
    RESOLVED = "Resolved"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"


class Resolution(ApiModel):
    """How the person resolved the session."""

    method: ResolutionMethod = Field(
        description="browser_extension, manual_cookies or oauth: how the new login was provided."
    )


class SecretRef(ApiModel):
    """The Secret that holds the platform cookies; they never enter a status or a log."""

    name: ObjectName = Field(description="Name of a Secret in the session's namespace.")
    key: SecretKey | None = Field(
        default=None, description="Key within the Secret's data that holds the cookies."
    )


class HitlSessionSpec(ApiModel):
    """A platform login that a person must renew before jobs for this creator can go on."""

    creator_profile: str = Field(
        pattern=NAME_PATTERN,
        max_length=NAME_MAX,
        description="The creator whose login this is (1-63 letters, digits, '.', '_', '-'); "
        "immutable.",
    )
    platform: str = Field(
        pattern=PLATFORM_PATTERN,
        max_length=PLATFORM_MAX,
        description="The platform to log in to, e.g. onlyfans (1-32 lowercase letters, digits, "
        "'_', '-'); immutable.",
    )
    session_type: SessionType = Field(
        description="What happened: login_required, cookies_expired or 2fa_required."
    )
    alert_message: Text | None = Field(
        default=None,
        max_length=1024,
        description="What to tell the person, at most 1024 characters.",
    )
    ttl_seconds: int = Field(
        default=86400,
        ge=60,
        le=2_592_000,
        description="Seconds the session waits for a person before it expires "
        "(60 to 2592000, i.e. 30 days; default 86400, one day).",
    )
    credentials_secret_ref: SecretRef | None = Field(
        default=None, description="Where the renewed cookies are stored."
    )
    resolution: Resolution | None = Field(
        default=None, description="Written by a person or their tool once they have logged in."
    )
    cancel: bool = Field(default=False, description="Give up: waiting jobs fail. Default false.")

    model_config = ApiModel.model_config | {
        "json_schema_extra": cel(
            rule(
                "!(has(self.resolution) && self.cancel)",
                "a session is either resolved or cancelled, not both",
            ),
            rule(
                "self.creatorProfile == oldSelf.creatorProfile"
                " && self.platform == oldSelf.platform",
                "creatorProfile and platform are immutable",
            ),
        )
    }


class HitlSessionStatus(ApiModel):
    """What the operator observed; written by the operator only."""

    phase: HitlPhase | None = Field(
        default=None,
        description="Pending, InProgress, or finished: Resolved, Cancelled, Expired.",
    )
    resolution_method: ResolutionMethod | None = Field(
        default=None, description="How it was resolved."
    )
    resolved_at: datetime | None = Field(default=None, description="When it was resolved.")
    closed_at: datetime | None = Field(
        default=None, description="When it left Pending/InProgress (Resolved, Cancelled, Expired)."
    )
    message: str | None = Field(
        default=None,
        max_length=1024,
        description="A one-line explanation: what the session waits for, or why the stored "
        "cookies were refused. It never holds a cookie value.",
    )
    expires_at: datetime | None = Field(
        default=None, description="When it expires unless resolved (ttlSeconds after creation)."
    )
    waiting_jobs: list[str] | None = Field(
        default=None, description="Names of the MediaJobs waiting on this session."
    )
    observed_generation: int | None = Field(
        default=None, description="The metadata.generation of the spec this status reflects."
    )
    conditions: list[Condition] | None = Field(
        default=None, description="Kubernetes-style conditions."
    )


class HitlSession(ApiModel):
    api_version: str = Field(default="mediajobs.dev/v1alpha1")
    kind: str = Field(default=KIND)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: HitlSessionSpec
    status: HitlSessionStatus | None = None
