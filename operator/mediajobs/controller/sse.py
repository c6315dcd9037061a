"""Server-Sent Events framing (the WHATWG HTML spec, "Server-sent events"), pure.

A frame is ``event:`` and one ``data:`` line per line of the payload, ended by a blank
line; a comment line (``:``) keeps an idle connection open through proxies; ``retry:``
tells EventSource how long to wait before it reconnects by itself.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def frame(event: str, data: str) -> bytes:
    """One event named EVENT carrying DATA (any text: each of its lines is a data line)."""
    if not _NAME.fullmatch(event):
        raise ValueError(f"not an event name: {event!r}")
    lines = data.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return (f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n").encode()


def comment(text: str) -> bytes:
    """A comment line, which EventSource ignores (a keep-alive)."""
    return "".join(f": {line}\n" for line in text.splitlines() or [""]).encode() + b"\n"


def retry(milliseconds: int) -> bytes:
    """How long EventSource waits before it reconnects after the stream ends."""
    if milliseconds < 0:
        raise ValueError("retry must be >= 0 ms")
    return f"retry: {milliseconds}\n\n".encode()
