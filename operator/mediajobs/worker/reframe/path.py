"""Where the crop goes: pure functions from face boxes to a smooth path and FFmpeg commands.

The crop is as tall (or as wide) as the picture and slides along the one free
axis. Each sampled frame gives a target centre (its faces, or nothing); the
gaps are filled, single wrong detections voted out by a running median, and
the rest smoothed by a centred moving average over SMOOTH_S seconds, so the
virtual camera glides instead of twitching. FFmpeg then gets the path as a
``sendcmd`` script: at each sample a linear expression in ``t`` that runs to
the next one, so the crop moves every frame, not in steps.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

MEDIAN_SAMPLES = 5  # a face missed or misplaced in up to two samples running is outvoted
SMOOTH_S = 2.0

Box = tuple[float, float, float, float]  # left, top, width, height, in the picture's pixels


def even(n: float) -> int:
    whole = int(n)
    return max(2, whole - whole % 2)


def aspect_of(text: str) -> tuple[int, int]:
    """``"9:16"`` as (9, 16); the params' pattern has already checked it."""
    width, height = text.split(":")
    return int(width), int(height)


@dataclass(frozen=True)
class Crop:
    """The crop box, and the axis it slides along in a picture SPAN pixels long that way."""

    width: int
    height: int
    axis: str  # "x" (a narrower cut of a wide picture) or "y"
    span: int

    @property
    def size(self) -> int:
        """The crop's own length along its axis."""
        return self.width if self.axis == "x" else self.height

    @property
    def lowest(self) -> float:
        return self.size / 2

    @property
    def highest(self) -> float:
        return self.span - self.size / 2


def crop_for(width: int, height: int, aspect: tuple[int, int]) -> Crop:
    """The largest box of ASPECT inside a WIDTH x HEIGHT picture (even sides)."""
    wide, tall = aspect
    if width * tall > height * wide:  # the picture is wider than the cut
        return Crop(min(even(height * wide / tall), even(width)), even(height), "x", width)
    return Crop(even(width), min(even(width * tall / wide), even(height)), "y", height)


def target(faces: Sequence[Box], crop: Crop) -> float | None:
    """Where to centre the crop for FACES: all of them when they fit, else the largest."""
    if not faces:
        return None
    spans = [(f[0], f[0] + f[2]) if crop.axis == "x" else (f[1], f[1] + f[3]) for f in faces]
    low, high = min(s[0] for s in spans), max(s[1] for s in spans)
    if high - low <= crop.size:
        return (low + high) / 2
    largest = max(range(len(faces)), key=lambda i: faces[i][2] * faces[i][3])
    return sum(spans[largest]) / 2


def _filled(samples: Sequence[float | None]) -> list[float]:
    """Gaps bridged linearly between the detections around them, held at either end."""
    known = [(i, v) for i, v in enumerate(samples) if v is not None]
    filled: list[float] = []
    ahead = 0  # known[ahead] is the first detection at or after i
    for i, value in enumerate(samples):
        while known[ahead][0] < i and ahead + 1 < len(known):
            ahead += 1
        if value is not None:
            filled.append(value)
            continue
        (i1, v1), behind = known[ahead], known[ahead - 1] if ahead else None
        if i1 < i or behind is None:  # past the last detection, or before the first
            filled.append(v1)
            continue
        i0, v0 = behind
        filled.append(v0 + (v1 - v0) * (i - i0) / (i1 - i0))
    return filled


def _running(values: Sequence[float], width: int, mean: bool) -> list[float]:
    """Each value replaced by the median (or mean) of the WIDTH values centred on it."""
    half = width // 2
    out = []
    for i in range(len(values)):
        around = values[max(0, i - half) : i + half + 1]
        out.append(statistics.fmean(around) if mean else statistics.median(around))
    return out


def smooth(samples: Sequence[float | None], rate: float, crop: Crop) -> list[float] | None:
    """The crop's centre at each of SAMPLES (RATE a second); None when no sample saw a face."""
    if all(s is None for s in samples):
        return None
    voted = _running(_filled(samples), MEDIAN_SAMPLES, mean=False)
    glided = _running(voted, max(1, round(rate * SMOOTH_S)) | 1, mean=True)
    return [min(max(c, crop.lowest), crop.highest) for c in glided]


def script(centres: Sequence[float], rate: float, crop: Crop) -> str:
    """A ``sendcmd`` script moving the crop's corner linearly from each sample to the next."""
    lines = []
    for k, centre in enumerate(centres):
        following = centres[k + 1] if k + 1 < len(centres) else centre
        at = k / rate
        corner = centre - crop.size / 2
        slope = (following - centre) * rate
        lines.append(f"{at:.3f} crop {crop.axis} {corner:.2f}{slope:+.3f}*(t-{at:.3f});")
    return "\n".join(lines) + "\n"
