"""The one small interface every platform adapter implements, and what it is given.

``read`` a page (or JSON endpoint) into an :class:`Extracted`, ``publish`` a media file
and say what the platform answered (postId, url). Adapters raise the worker's errors:
:class:`LoginRequired` (exit 3), :class:`RateLimited` (exit 75 with Retry-After),
InvalidInput (2), TemporaryFailure (75).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from mediajobs.api.platform import Page, PlatformConfig, Upload
from mediajobs.scraper.cookies import Cookie
from mediajobs.scraper.extract import Extracted

MAX_BODY_BYTES = 10 * 1024 * 1024  # a page or an answer bigger than this is refused
MAX_REDIRECTS = 5


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """What an adapter works with: the platform, the session's cookies, the task's rules."""

    platform_name: str
    platform: PlatformConfig
    cookies: list[Cookie]
    allow_private: bool
    scratch_dir: Path
    now: Callable[[], datetime] = utc_now


@dataclass(frozen=True)
class Post:
    """What publish_post sends with the media."""

    caption: str
    tags: list[str]
    publish_at: str | None  # RFC 3339

    def values(self) -> dict[str, str]:
        """The post's template values ({caption}, {tags} comma-separated, {publishAt})."""
        return {"caption": self.caption, "tags": ", ".join(self.tags),
                "publishAt": self.publish_at or ""}  # fmt: skip


class Adapter(Protocol):
    def read(self, page: Page, values: Mapping[str, str]) -> Extracted: ...

    def publish(
        self, upload: Upload, media: Path, post: Post, values: Mapping[str, str]
    ) -> Extracted: ...

    def close(self) -> None: ...
