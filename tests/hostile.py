"""Hostile strings, with a fragment of why each is refused: shared by the unit tests of
the models and the integration tests of the CRD, so both sides see the same input."""

from __future__ import annotations

NO_CONTROL = "must not contain control characters"
RELATIVE = "must be a relative path inside the media volume"
NO_SPACE = "must not contain whitespace or control characters"
HTTP = "must be an http:// or https:// URL with a host"

HOSTILE_PATHS: list[tuple[str, str]] = [
    ("in/clip\x00.mp4", NO_CONTROL),  # NUL: truncates the path in C
    ("in/clip.mp4\n", NO_CONTROL),
    ("in/\tclip.mp4", NO_CONTROL),
    ("in/\x1b[2Jclip.mp4", NO_CONTROL),  # a terminal escape
    ("in/clip\x7f.mp4", NO_CONTROL),  # DEL
    ("in/clip\x85.mp4", NO_CONTROL),  # a C1 control (NEL)
    ("in/clip\u2028.mp4", NO_CONTROL),  # LINE SEPARATOR
    ("in/clip\u202egpj.exe", NO_CONTROL),  # RIGHT-TO-LEFT OVERRIDE: shows as "exe.jpg"
    ("in/clip\u2066.mp4", NO_CONTROL),  # LEFT-TO-RIGHT ISOLATE
    ("/etc/passwd", RELATIVE),
    ("in/../../etc/passwd", RELATIVE),
    ("..", RELATIVE),
]

HOSTILE_URLS: list[tuple[str, str]] = [
    ("https://cdn.example.com/a\x00.mp4", NO_SPACE),
    ("https://cdn.example.com/a.mp4\r\nX-Injected: 1", NO_SPACE),  # header injection
    ("https://cdn.example.com/a b.mp4", NO_SPACE),
    ("https://cdn.example.com/a\u00a0b.mp4", NO_SPACE),  # NO-BREAK SPACE
    ("https://cdn.example.com/a\u3000b.mp4", NO_SPACE),  # IDEOGRAPHIC SPACE
    ("https://cdn.example.com/\u202emp4.exe", NO_SPACE),
    ("file:///etc/passwd", HTTP),
    ("https://", HTTP),
]
