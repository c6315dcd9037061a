"""Results that are data, not files: scene-change times, probe reports."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from mediajobs.worker.probe import Probe, Stream


@dataclass(frozen=True)
class Scene:
    time: float  # seconds from the start
    score: float  # 0-1, how different the frame is from the previous one


def parse_scenes(text: str) -> list[Scene]:
    """scene_detect's print-out of the frames over its threshold."""
    return [
        Scene(round(at, 3), round(score, 4))
        for at, score in parse_metadata(text.splitlines(), "lavfi.scene_score")
    ]


def parse_metadata(lines: Iterable[str], key: str) -> list[tuple[float, float]]:
    """The (a)metadata filter's print-out of KEY: (time, value) for each frame.

    Each frame is a ``frame:N pts:P pts_time:T`` line, then its ``KEY=value``.
    """
    samples: list[tuple[float, float]] = []
    at: float | None = None
    prefix = key + "="
    for line in lines:
        if line.startswith("frame:"):
            fields = dict(part.split(":", 1) for part in line.split() if ":" in part)
            at = _finite(fields.get("pts_time"))
        elif line.startswith(prefix) and at is not None:
            value = _finite(line[len(prefix) :])
            if value is not None:
                samples.append((at, value))
            at = None
    return samples


def _finite(text: str | None) -> float | None:
    try:
        value = float(text or "nan")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _stream_report(s: Stream) -> dict[str, Any]:
    out: dict[str, Any] = {"index": s.index, "type": s.codec_type, "codec": s.codec_name}
    if s.codec_type == "video":
        out |= {
            "width": s.display_width,
            "height": s.display_height,
            "pixFmt": s.pix_fmt,
            "frameRate": round(float(s.frame_rate), 3) if s.frame_rate else None,
            "rotation": s.rotation or None,
        }
    elif s.codec_type == "audio":
        out |= {"sampleRate": s.sample_rate, "channels": s.channels}
    out["duration"] = round(s.duration, 3) if s.duration is not None else None
    return {k: v for k, v in out.items() if v is not None}


def probe_report(probe: Probe) -> dict[str, Any]:
    """validate's result.data: what ffprobe found, in the API's camelCase."""
    kind = "image" if probe.is_image else "video" if probe.video else "audio"
    duration = probe.media_duration
    report: dict[str, Any] = {
        "format": probe.format_name,
        "kind": kind if probe.streams else "none",
        "duration": round(duration, 3) if duration is not None else None,
        "size": probe.size,
        "bitRate": probe.bit_rate,
        "streams": [_stream_report(s) for s in probe.streams],
    }
    return {k: v for k, v in report.items() if v is not None}


def stream_choice(inputs: Sequence[tuple[Probe, Collection[int]]]) -> dict[str, list[str]]:
    """Which streams of each input an output keeps and which it leaves out.

    INPUTS: each input's probe with the indexes of the streams kept. Entries
    read ``input:index type codec`` (inputs counted from 1), e.g. ``1:2 audio ac3``.
    """
    choice: dict[str, list[str]] = {"kept": [], "dropped": []}
    for number, (probe, kept) in enumerate(inputs, start=1):
        for s in probe.streams:
            what = "cover art" if s.attached_pic else s.codec_type
            entry = f"{number}:{s.index} {what} {s.codec_name or 'unknown'}"
            choice["kept" if s.index in kept else "dropped"].append(entry)
    return choice
