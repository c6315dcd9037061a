"""FFmpeg's ``-progress`` output as a 0-100 percentage.

FFmpeg writes blocks of ``key=value`` lines, each ending with
``progress=continue`` (or ``progress=end`` once). The position is in
``out_time_us`` (microseconds), ``out_time_ms`` (also microseconds, despite the
name) or ``out_time`` (``HH:MM:SS.ffffff``); any of them may be ``N/A`` (before
the first frame, or for outputs without timestamps) or slightly negative.
The percentage never goes down, stays below 100 until ``progress=end``, and is
0 throughout when the duration is unknown.
"""

from __future__ import annotations

import math

_TIME_KEYS = ("out_time_us", "out_time_ms")  # both microseconds; out_time is the fallback


def parse_clock(text: str) -> float | None:
    """``[-]HH:MM:SS.ffffff`` as seconds, or None when FFmpeg wrote N/A or garbage."""
    sign = -1.0 if text.startswith("-") else 1.0
    parts = text.lstrip("-").split(":")
    if len(parts) != 3:
        return None
    try:
        hours, minutes, seconds = int(parts[0]), int(parts[1]), float(parts[2])
    except ValueError:
        return None
    return sign * (hours * 3600 + minutes * 60 + seconds)


def out_time(block: dict[str, str]) -> float | None:
    """The position (seconds) a progress block reports, or None if it reports none."""
    for key in _TIME_KEYS:
        value = block.get(key, "N/A")
        try:
            return int(value) / 1_000_000
        except ValueError:
            continue
    return parse_clock(block.get("out_time", "N/A"))


class FfmpegProgress:
    """Feed it FFmpeg's progress lines; it answers the percentage at each block's end."""

    def __init__(self, duration: float | None) -> None:
        self._duration = duration if duration is not None and duration > 0 else None
        self._block: dict[str, str] = {}
        self.percent = 0
        self.ended = False
        self.reached: float | None = None  # the furthest position reported, in seconds

    def feed(self, line: str) -> int | None:
        """The percentage when LINE closes a block (``progress=...``), else None."""
        key, sep, value = line.strip().partition("=")
        if not sep:
            return None
        if key != "progress":
            self._block[key] = value
            return None
        block, self._block = self._block, {}
        at = out_time(block)
        if at is not None and math.isfinite(at) and (self.reached is None or at > self.reached):
            self.reached = at
        if value == "end":
            self.ended = True
            self.percent = 100
        elif not self.ended:
            self.percent = max(self.percent, self._percent_at(at))
        return self.percent

    def _percent_at(self, seconds: float | None) -> int:
        if seconds is None or self._duration is None or not math.isfinite(seconds):
            return 0
        return min(99, max(0, math.floor(100 * seconds / self._duration)))
