"""Strings a user writes (media paths, URLs, names, free text), checked alike by both sides.

Each type here is an ``Annotated[str, ...]`` carrying one rule in two renderings:
a pydantic validator (the operator and the worker parse specs with the models)
and a CEL rule with a message a person understands (the API server refuses the
manifest at ``kubectl apply``). The characters refused are listed once, as
code-point ranges, and become one character class that Python's ``re`` and RE2
(CEL's ``matches``) read alike; CEL gets it as an escaped string literal.

The strings these rules check carry a ``maxLength``: besides bounding what a
user may store, the API server estimates each CEL rule's cost from it (string
length times the regex's length, times the list's maxItems) and refuses a CRD
whose rules could cost too much. That is also why the class holds the
characters themselves, not RE2's five times longer ``\\x{202E}`` spelling.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from mediajobs.api.common import rule

Ranges = Sequence[tuple[int, int]]

# C0 and C1 control characters (NUL, tab, newline, ESC...), DEL, the Unicode
# line and paragraph separators, and the bidirectional controls that make a
# name display as something else ("clip\u202egpj.exe" shows as "clipexe.jpg").
CONTROL: Ranges = (
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0x061C, 0x061C),
    (0x200E, 0x200F),
    (0x2028, 0x202E),  # LS, PS, then LRE RLE PDF LRO RLO
    (0x2066, 0x2069),
)
# CONTROL but tab, newline and carriage return: free text may span lines.
CONTROL_BUT_LINES: Ranges = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), *CONTROL[1:])
# Unicode White_Space that CONTROL does not already cover.
SPACE: Ranges = (
    (0x20, 0x20),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)

# Regexes that Python's re and RE2 read alike.
DOT_DOT = r"(^|/)[.][.](/|$)"
HTTP_URL = r"^[hH][tT][tT][pP][sS]?://[^/?#]+"


def char_class(ranges: Ranges) -> str:
    """RANGES as a character class of the characters themselves, unescaped: none of
    them is special to a regex, so Python's re and RE2 read it alike."""
    return "[" + "".join(chr(lo) + (f"-{chr(hi)}" if hi != lo else "") for lo, hi in ranges) + "]"


def cel_literal(text: str) -> str:
    """TEXT as the inside of a single-quoted CEL string: printable ASCII as it is, the
    rest escaped (CEL's escapes are Python's: \\uXXXX, \\UXXXXXXXX, \\\\, \\')."""
    out = []
    for char in text:
        if char in "\\'":
            out.append("\\" + char)
        elif " " <= char <= "~":
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(f"\\U{ord(char):08X}")
    return "".join(out)


@dataclass(frozen=True)
class Check:
    """One rule: CEL for the API server, a predicate for the models, one message for both."""

    cel: str
    valid: Callable[[str], bool]
    message: str


def refuses(ranges: Ranges, message: str) -> Check:
    """A Check that refuses any character in RANGES."""
    klass = char_class(ranges)
    pattern = re.compile(klass)
    return Check(
        cel=f"!self.matches('{cel_literal(klass)}')",
        valid=lambda text: pattern.search(text) is None,
        message=message,
    )


NO_CONTROL = refuses(
    CONTROL,
    "must not contain control characters (NUL, tab, newline, escape...), "
    "line separators or direction overrides",
)
NO_CONTROL_BUT_LINES = refuses(
    CONTROL_BUT_LINES,
    "must not contain control characters (NUL, escape...) other than tab and newline, "
    "nor direction overrides",
)
NO_SPACE = refuses((*CONTROL, *SPACE), "must not contain whitespace or control characters")
URL_CHARACTERS = refuses(
    (*CONTROL, *SPACE),
    "must not contain whitespace or control characters (percent-encode them: a space is %20)",
)
NO_NUL = Check(
    cel=f"!self.contains('{cel_literal(chr(0))}')",
    valid=lambda text: "\x00" not in text,
    message="must not contain a NUL character (a process cannot be given one)",
)
RELATIVE = Check(
    cel=f"!self.startsWith('/') && !self.matches('{DOT_DOT}')",
    valid=lambda text: not text.startswith("/") and re.search(DOT_DOT, text) is None,
    message="must be a relative path inside the media volume (no leading '/', no '..')",
)
HTTP = Check(
    cel=f"self.matches('{HTTP_URL}')",
    valid=lambda text: re.search(HTTP_URL, text) is not None,
    message="must be an http:// or https:// URL with a host",
)


@dataclass(frozen=True)
class Checked:
    """Annotated metadata: CHECKS run by pydantic and written into the schema as CEL."""

    checks: tuple[Check, ...]

    def __get_pydantic_core_schema__(
        self,
        source: Any,  # noqa: ANN401 - pydantic's hook signature
        handler: GetCoreSchemaHandler,
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        out = handler(schema)
        rules = out.setdefault("x-kubernetes-validations", [])
        rules.extend(rule(c.cel, c.message) for c in self.checks)
        return out

    def _validate(self, text: str) -> str:
        failed = [c.message for c in self.checks if not c.valid(text)]
        if failed:
            raise ValueError("; ".join(failed))
        return text


PATH_MAX = 1024
URL_MAX = 4096
NAME_MAX = 253

# A file or directory on the media volume.
MediaPath = Annotated[
    str, Field(min_length=1, max_length=PATH_MAX), Checked((NO_CONTROL, RELATIVE))
]
WebUrl = Annotated[str, Field(min_length=1, max_length=URL_MAX), Checked((URL_CHARACTERS, HTTP))]
# One line of text shown or embedded somewhere: a watermark, a tag.
Line = Annotated[str, Checked((NO_CONTROL,))]
# Text that may span lines: a caption, a message to a person.
Text = Annotated[str, Checked((NO_CONTROL_BUT_LINES,))]
# What the user's own container receives (argv, environment): its business, but
# execve cannot carry a NUL. A cheap rule, too: env values are long and many.
ProcessText = Annotated[str, Checked((NO_NUL,))]
# A reference without spaces: a container image, a post id.
Token = Annotated[str, Checked((NO_SPACE,))]

# Kubernetes object names (RFC 1123 subdomain) and Secret keys.
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
SECRET_KEY = r"^[-._a-zA-Z0-9]+$"  # noqa: S105 - a pattern, not a password
ObjectName = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=DNS_SUBDOMAIN)]
SecretKey = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=SECRET_KEY)]
