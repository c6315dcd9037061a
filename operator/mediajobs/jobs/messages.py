"""Human messages bound for a status, an Event or a log: one line, bounded, no credentials.

What a worker prints can hold a signed URL, a cookie or a bearer token (a
scraper's error quoting its request, FFmpeg echoing an input URL). Anything
that reaches the MediaJob's status goes through :func:`clean` first.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 1024
REDACTED = "<redacted>"

_REDACTIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    # URL userinfo and query strings (signed URLs carry their signature there).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@"), rf"\1{REDACTED}@"),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s?#]*)\?[^\s#]*"), rf"\1?{REDACTED}"),
    # Headers whose whole value is the secret; a cookie value runs over its `;`s.
    (
        re.compile(r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*)(?:(?:bearer|basic|token)\s+)?\S+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b((?:set-)?cookies?\s*[:=]\s*)[^\s;]+(?:;\s*[^\s;]+)*"), rf"\1{REDACTED}"),
    (re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]+"), rf"\1{REDACTED}"),
    # key=value and "key": "value" pairs whose key names a secret.
    (
        re.compile(
            r"""(?ix)
            \b([\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|session[_-]?id|sessionid)[\w-]*
            ["']?\s*[=:]\s*)
            ("[^"]*"|'[^']*'|[^\s&;,]+)
            """
        ),
        rf"\1{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """TEXT with URL credentials, query strings and secret-looking values replaced."""
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def clean(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """TEXT redacted, its whitespace runs (newlines too) made single spaces, at most LIMIT chars."""
    text = " ".join(redact(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
