"""Choosing highlights: pure functions from per-sample measurements to windows.

The analysis pass (:mod:`.measure`) prints three series at a fixed rate: each
frame's scene-change score, its motion (mean luma difference from the previous
frame) and the sound's momentary loudness (LUFS). Here candidate windows slide
over the video; each gets those three figures, normalised across the
candidates to 0-1 and averaged into its score. Then the best non-overlapping
windows are picked (anywhere, or the best of each part of the video for a
digest) and returned in the video's order.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate, pairwise

Series = Sequence[tuple[float, float]]  # (seconds, value), in time order

SILENCE_LUFS = -70.0  # EBU R128's absolute gate: quieter counts as silence
HOPS_PER_WINDOW = 4  # candidates start every quarter window


@dataclass(frozen=True)
class Measures:
    """What the analysis pass printed, as plain data."""

    scene: Series
    motion: Series
    loudness: Series  # empty when the video has no sound


@dataclass(frozen=True)
class Window:
    """A stretch of the video with the figures its score comes from."""

    start: float
    end: float
    cuts: int = 0  # scene changes over the threshold inside it
    motion: float = 0.0  # mean luma difference between frames, 0-255
    loudness: float = SILENCE_LUFS  # mean momentary loudness, LUFS
    score: float = 0.0  # 0-1, the three normalised and averaged

    @property
    def length(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2

    def data(self) -> dict[str, float | int]:
        """The result's entry: where it is and why it was chosen."""
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "score": round(self.score, 3),
            "cuts": self.cuts,
            "motion": round(self.motion, 2),
            "loudness": round(self.loudness, 1),
        }


class _Sums:
    """Prefix sums over a series: the sum and count of samples in [start, end) in O(log n)."""

    def __init__(self, series: Series) -> None:
        self.times = [t for t, _ in series]
        self.sums = [0.0, *accumulate(v for _, v in series)]

    def total(self, start: float, end: float) -> tuple[float, int]:
        lo, hi = bisect.bisect_left(self.times, start), bisect.bisect_left(self.times, end)
        return self.sums[hi] - self.sums[lo], hi - lo


def starts(duration: float, length: float) -> list[float]:
    """Where candidate windows of LENGTH start: every quarter window, the last ending at the end."""
    if duration <= length:
        return [0.0]
    hop = length / HOPS_PER_WINDOW
    count = math.floor((duration - length) / hop + 1e-9)
    found = [round(i * hop, 3) for i in range(count + 1)]
    last = round(duration - length, 3)
    return found if found[-1] >= last else [*found, last]


def candidates(
    measures: Measures, duration: float, length: float, threshold: float
) -> list[Window]:
    """Every candidate window of LENGTH seconds with its raw figures (unscored)."""
    cuts = _Sums([(t, 1.0 if s > threshold else 0.0) for t, s in measures.scene])
    motion = _Sums(measures.motion)
    energy = _Sums([(t, _energy(v)) for t, v in measures.loudness])
    windows = []
    for start in starts(duration, length):
        end = min(duration, start + length)
        moved, frames = motion.total(start, end)
        loud, samples = energy.total(start, end)
        windows.append(
            Window(
                start=start,
                end=end,
                cuts=int(cuts.total(start, end)[0]),
                motion=moved / frames if frames else 0.0,
                loudness=_lufs(loud / samples) if samples else SILENCE_LUFS,
            )
        )
    return windows


def _energy(lufs: float) -> float:
    """Loudness averages as energy, not as decibels (a loud second outweighs a quiet one)."""
    return 10 ** (max(lufs, SILENCE_LUFS) / 10)


def _lufs(energy: float) -> float:
    return max(SILENCE_LUFS, 10 * math.log10(energy)) if energy > 0 else SILENCE_LUFS


def _normalised(values: Sequence[float]) -> list[float]:
    low, high = min(values, default=0.0), max(values, default=0.0)
    return [(v - low) / (high - low) if high > low else 0.0 for v in values]


def scored(windows: Sequence[Window]) -> list[Window]:
    """WINDOWS with their scores: each figure scaled 0-1 across them, then averaged."""
    figures = [
        _normalised([float(w.cuts) for w in windows]),
        _normalised([w.motion for w in windows]),
        _normalised([w.loudness for w in windows]),
    ]
    return [
        replace(w, score=sum(f[i] for f in figures) / len(figures)) for i, w in enumerate(windows)
    ]


def _overlaps(window: Window, chosen: Sequence[Window]) -> bool:
    return any(window.start < c.end and c.start < window.end for c in chosen)


def best(windows: Sequence[Window], count: int) -> list[Window]:
    """The COUNT best-scoring windows that do not overlap, in the video's order.

    Ties go to the earlier window, so the choice is the same every time.
    """
    chosen: list[Window] = []
    for window in sorted(windows, key=lambda w: (-w.score, w.start)):
        if len(chosen) == count:
            break
        if not _overlaps(window, chosen):
            chosen.append(window)
    return sorted(chosen, key=lambda w: w.start)


def spread(windows: Sequence[Window], count: int, duration: float) -> list[Window]:
    """The best window centred in each of COUNT equal parts of the video: a digest.

    A part whose every window overlaps the one chosen before it gives none.
    """
    chosen: list[Window] = []
    part = duration / count
    for n in range(count):
        inside = [w for w in windows if n * part <= w.middle < (n + 1) * part]
        free = [w for w in inside if not _overlaps(w, chosen)]
        if free:
            chosen.append(max(free, key=lambda w: (w.score, -w.start)))
    return chosen


def joined_length(windows: Sequence[Window], fade: float) -> float:
    """How long WINDOWS last once joined with crossfades of FADE seconds."""
    return sum(w.length for w in windows) - fade * max(0, len(windows) - 1)


def highlight_count(target: float, length: float, fade: float) -> int:
    """How many windows of LENGTH, crossfaded by FADE, fit in TARGET seconds (at least one)."""
    return max(1, math.floor((target - fade) / (length - fade) + 1e-9))


def digest_plan(target: float, length: float, fade: float) -> tuple[int, float]:
    """A digest's window count and exact window length, so that joined it lasts TARGET.

    About TARGET / LENGTH windows; each is stretched a little so that n windows
    minus (n - 1) crossfades add up to TARGET exactly.
    """
    count = max(1, round(target / length))
    return count, (target + (count - 1) * fade) / count


def scenes(cuts: Sequence[float], duration: float, min_length: float) -> list[tuple[float, float]]:
    """The video split at CUTS: (start, end) of each scene, none shorter than MIN_LENGTH.

    A cut sooner than MIN_LENGTH after the last kept one is ignored; a last
    scene shorter than MIN_LENGTH joins the one before it.
    """
    bounds = [0.0]
    for cut in sorted(cuts):
        if min_length <= cut - bounds[-1] and cut < duration:
            bounds.append(cut)
    if len(bounds) > 1 and duration - bounds[-1] < min_length:
        bounds.pop()
    bounds.append(duration)
    return list(pairwise(bounds))
