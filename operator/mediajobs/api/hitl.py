"""HitlSession: a human-in-the-loop gate for platform logins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from mediajobs.api.common import ApiModel, Condition, cel, rule
from mediajobs.api.mediajob import NAME_PATTERN, PLATFORM_PATTERN

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
    method: ResolutionMethod


class SecretRef(ApiModel):
    """The Secret that holds the platform cookies; they never enter a status or a log."""

    name: str = Field(min_length=1, max_length=253)
    key: str | None = Field(default=None, min_length=1, max_length=253)


class HitlSessionSpec(ApiModel):
    creator_profile: str = Field(pattern=NAME_PATTERN)
    platform: str = Field(pattern=PLATFORM_PATTERN)
    session_type: SessionType
    alert_message: str | None = Field(default=None, max_length=1024)
    ttl_seconds: int = Field(default=86400, ge=60, le=2_592_000)
    credentials_secret_ref: SecretRef | None = None
    resolution: Resolution | None = Field(
        default=None, description="Written by a person or their tool once they have logged in."
    )
    cancel: bool = Field(default=False, description="Give up: waiting jobs fail.")

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
    phase: HitlPhase | None = None
    resolution_method: ResolutionMethod | None = None
    resolved_at: datetime | None = None
    expires_at: datetime | None = None
    waiting_jobs: list[str] | None = None
    observed_generation: int | None = None
    conditions: list[Condition] | None = None


class HitlSession(ApiModel):
    api_version: str = Field(default="mediajobs.dev/v1alpha1")
    kind: str = Field(default=KIND)
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: HitlSessionSpec
    status: HitlSessionStatus | None = None
