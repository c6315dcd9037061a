"""The platform session's cookies: read once, checked, sent only where they belong.

The file is the platform session Secret's ``cookies.json`` (lifecycle/hitl.py's format,
checked by the same :func:`cookies_problem` the operator uses before it resolves a
HitlSession). A missing, unreadable or expired set means a person must log in (exit 3).
A cookie goes only to hosts its ``domain`` matches (RFC 6265 domain and path matching;
without a domain, to the platform's own host), and a ``secure`` one only over https.
Cookie values never reach a message: :func:`secret_values` lists them for the scrubber.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mediajobs.lifecycle.hitl import cookies_problem
from mediajobs.scraper.errors import LoginRequired


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    domain: str | None = None  # None: host-only, the platform's base host
    path: str = "/"
    secure: bool = False
    http_only: bool = False
    expires: float | None = None
    same_site: str | None = None


def _cookie(raw: dict[str, Any]) -> Cookie:
    domain = raw.get("domain")
    expires = raw.get("expires")
    same_site = raw.get("sameSite")
    return Cookie(
        name=raw["name"],
        value=raw["value"],
        domain=domain.lower() if isinstance(domain, str) and domain.strip(".") else None,
        path=raw["path"] if isinstance(raw.get("path"), str) and raw["path"] else "/",
        secure=raw.get("secure") is True,
        http_only=raw.get("httpOnly") is True,
        expires=float(expires) if isinstance(expires, int | float) and expires >= 0 else None,
        same_site=same_site if same_site in ("Strict", "Lax", "None") else None,
    )


def parse_cookies(raw: bytes | None, now: datetime) -> list[Cookie]:
    """The usable cookies in RAW (None: the file is missing); LoginRequired saying why not."""
    problem = cookies_problem(raw, now)
    if problem is not None:
        raise LoginRequired(f"login required: the platform session cannot be used: {problem}")
    parsed = json.loads(raw or b"[]")  # cookies_problem refused None
    listed = parsed.get("cookies") if isinstance(parsed, dict) else parsed
    return [_cookie(c) for c in listed or []]


def load_cookies(path: str | None, now: datetime) -> list[Cookie]:
    """The cookies in the file PATH (the Task's cookiesFile)."""
    if path is None:
        raise LoginRequired(
            "login required: the job has no platform session (it needs creatorProfile and platform)"
        )
    try:
        raw: bytes | None = Path(path).read_bytes()
    except OSError:
        raw = None  # the Secret is optional in the pod: missing means nobody logged in yet
    return parse_cookies(raw, now)


def _domain_matches(host: str, domain: str) -> bool:
    domain = domain.lstrip(".")
    return host == domain or host.endswith("." + domain)


def _path_matches(path: str, cookie_path: str) -> bool:
    if path == cookie_path:
        return True
    return path.startswith(cookie_path) and (
        cookie_path.endswith("/") or path[len(cookie_path)] == "/"
    )


def cookie_header(cookies: list[Cookie], url: str, base_url: str) -> str | None:
    """The Cookie header for a request to URL (None: no cookie belongs there)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    base_host = (urlsplit(base_url).hostname or "").lower()
    path = parts.path or "/"
    https = parts.scheme.lower() == "https"
    sent = [
        f"{c.name}={c.value}"
        for c in cookies
        if (_domain_matches(host, c.domain) if c.domain else host == base_host)
        and _path_matches(path, c.path)
        and (https or not c.secure)
    ]
    return "; ".join(sent) or None


def browser_cookies(cookies: list[Cookie], base_url: str) -> list[dict[str, Any]]:
    """COOKIES as Playwright's ``BrowserContext.add_cookies`` takes them."""
    out: list[dict[str, Any]] = []
    for c in cookies:
        where: dict[str, Any] = (
            {"domain": c.domain, "path": c.path} if c.domain else {"url": base_url.rstrip("/")}
        )
        cookie: dict[str, Any] = {"name": c.name, "value": c.value, **where}
        cookie |= {"secure": c.secure, "httpOnly": c.http_only}
        if c.expires is not None:
            cookie["expires"] = c.expires
        if c.same_site is not None:
            cookie["sameSite"] = c.same_site
        out.append(cookie)
    return out


def secret_values(cookies: list[Cookie]) -> list[str]:
    """What must never be shown: each cookie's value of 4 characters or more (a shorter
    one, "1" or "yes", would blank out ordinary text and is no credential)."""
    return sorted({c.value for c in cookies if len(c.value) >= 4}, key=len, reverse=True)
