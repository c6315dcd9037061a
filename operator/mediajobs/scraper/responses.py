"""What a platform's answer means, decided from plain data: go on, log in, wait, or fail.

Both adapters ask the same questions of every answer: is it a login wall (401, 403,
a redirect to the login page, a marker only a logged-out page shows), a 429 (and how
long the platform asked us to wait), a temporary failure (5xx, 408), or a refusal
(another 4xx: the profile or post does not exist)? URLs in messages are redacted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

from mediajobs.api.platform import PlatformConfig
from mediajobs.scraper.errors import MAX_RETRY_AFTER_S, LoginRequired, RateLimited
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, redact_url

LOGIN_STATUSES = frozenset({401, 403})
TEMPORARY_STATUSES = frozenset({408, 425})


def retry_after(value: str | None, now: datetime) -> int | None:
    """A Retry-After header (seconds, or an HTTP date) as whole seconds from NOW, at least 1."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+", value):
        seconds = int(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = int((when - now).total_seconds() + 0.999)
    return min(max(seconds, 1), MAX_RETRY_AFTER_S)


def is_login_page(platform: PlatformConfig, url: str) -> bool:
    """Whether URL is the platform's login page (same host, path under the login path)."""
    if platform.login.url is None:
        return False
    login = urlsplit(urljoin(platform.base_url, platform.login.url))
    target = urlsplit(url)
    if (target.hostname or "").lower() != (login.hostname or "").lower():
        return False
    login_path = login.path.rstrip("/") or "/"
    path = target.path or "/"
    return path == login_path or path.startswith(login_path.rstrip("/") + "/")


def login_marker(platform: PlatformConfig, body: str) -> str | None:
    """The first configured logged-out marker BODY shows."""
    return next((m for m in platform.login.markers if m and m in body), None)


def check_answer(
    platform_name: str,
    platform: PlatformConfig,
    *,
    status: int,
    url: str,
    body: str,
    retry_after_header: str | None,
    now: datetime,
) -> None:
    """Raise what a final (not redirecting) answer at URL means; return if it is usable."""
    shown = redact_url(url)
    if status in LOGIN_STATUSES:
        raise LoginRequired(f"login required: {platform_name} answered HTTP {status} ({shown})")
    if is_login_page(platform, url):
        raise LoginRequired(f"login required: {platform_name} sent the job to its login page")
    if status == 429:
        wait = retry_after(retry_after_header, now)
        said = f", Retry-After {wait}s" if wait is not None else ""
        raise RateLimited(f"rate limited: {platform_name} answered HTTP 429{said} ({shown})", wait)
    if status >= 500 or status in TEMPORARY_STATUSES:
        raise TemporaryFailure(f"{platform_name} answered HTTP {status} ({shown})")
    if status >= 400:
        raise InvalidInput(f"{platform_name} answered HTTP {status} ({shown})")
    marker = login_marker(platform, body)
    if marker is not None:
        raise LoginRequired(f"login required: {platform_name}'s page says {marker[:80]!r}")


def check_redirect(platform_name: str, platform: PlatformConfig, location: str) -> None:
    """A redirect to the login page means logged out: it is not followed."""
    if is_login_page(platform, location):
        raise LoginRequired(f"login required: {platform_name} redirected to its login page")
