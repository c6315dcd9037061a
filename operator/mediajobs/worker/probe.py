"""ffprobe's JSON as typed data, and the one function that runs ffprobe.

Dimensions are as displayed: FFmpeg rotates a picture by its display matrix
(phone videos, EXIF-oriented JPEGs) before any filter sees it, so every
size-dependent decision (crop boxes, fit/fill, concat cells) uses
``display_width`` x ``display_height``.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from mediajobs.worker.errors import InvalidInput, from_ffmpeg

FFPROBE = "ffprobe"
PROBE_TIMEOUT_S = 120

# Demuxers that hold one still picture (ffprobe names them <codec>_pipe or image2).
_STILL_IMAGE_FORMATS = frozenset({"image2", "image2pipe"})


def _float(value: object) -> float | None:
    try:
        number = float(str(value))
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _rate(value: object) -> Fraction | None:
    """``"30000/1001"`` as a Fraction; None for ``0/0`` and garbage."""
    try:
        rate = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        return None
    return rate if rate > 0 else None


def _rotation(side_data: object) -> int:
    for item in side_data if isinstance(side_data, list) else ():
        if isinstance(item, dict) and "rotation" in item:
            return int(float(item["rotation"])) % 360
    return 0


@dataclass(frozen=True)
class Stream:
    index: int
    codec_type: str  # video | audio | subtitle | data | attachment
    codec_name: str | None
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    frame_rate: Fraction | None = None  # average; None when unknown
    duration: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    rotation: int = 0  # degrees, 0/90/180/270
    attached_pic: bool = False  # cover art, not a picture track

    @property
    def display_width(self) -> int:
        return (self.height if self.rotation in (90, 270) else self.width) or 0

    @property
    def display_height(self) -> int:
        return (self.width if self.rotation in (90, 270) else self.height) or 0


@dataclass(frozen=True)
class Probe:
    format_name: str
    duration: float | None
    size: int | None
    bit_rate: int | None
    streams: tuple[Stream, ...]
    tags: dict[str, str]

    @property
    def video(self) -> Stream | None:
        """The first picture stream that is not cover art."""
        return next(
            (s for s in self.streams if s.codec_type == "video" and not s.attached_pic), None
        )

    @property
    def audio(self) -> Stream | None:
        return next((s for s in self.streams if s.codec_type == "audio"), None)

    @property
    def is_image(self) -> bool:
        """One still picture (JPEG, PNG, WebP...), as opposed to a video or animation."""
        names = set(self.format_name.split(","))
        return self.video is not None and bool(
            names & _STILL_IMAGE_FORMATS or any(n.endswith("_pipe") for n in names)
        )

    @property
    def media_duration(self) -> float | None:
        """The container's duration, else the longest stream's."""
        if self.duration:
            return self.duration
        durations = [s.duration for s in self.streams if s.duration]
        return max(durations) if durations else None


def _stream(raw: dict[str, Any], frame_rotation: int) -> Stream:
    kind = str(raw.get("codec_type", "unknown"))
    rotation = _rotation(raw.get("side_data_list")) or _int(raw.get("tags", {}).get("rotate"))
    return Stream(
        index=int(raw["index"]),
        codec_type=kind,
        codec_name=raw.get("codec_name"),
        width=_int(raw.get("width")),
        height=_int(raw.get("height")),
        pix_fmt=raw.get("pix_fmt"),
        frame_rate=_rate(raw.get("avg_frame_rate")) or _rate(raw.get("r_frame_rate")),
        duration=_float(raw.get("duration")),
        sample_rate=_int(raw.get("sample_rate")),
        channels=_int(raw.get("channels")),
        rotation=(rotation or frame_rotation) % 360 if kind == "video" else 0,
        attached_pic=bool(raw.get("disposition", {}).get("attached_pic")),
    )


def parse_probe(doc: dict[str, Any]) -> Probe:
    """ffprobe's ``-show_format -show_streams -show_frames`` JSON as a Probe."""
    fmt = doc.get("format", {})
    # JPEGs carry their EXIF orientation on the decoded frame, not on the stream.
    frame_rotation = {
        int(f["stream_index"]): _rotation(f.get("side_data_list"))
        for f in doc.get("frames", [])
        if "stream_index" in f
    }
    streams = tuple(
        _stream(s, frame_rotation.get(int(s["index"]), 0)) for s in doc.get("streams", [])
    )
    return Probe(
        format_name=str(fmt.get("format_name", "")),
        duration=_float(fmt.get("duration")),
        size=_int(fmt.get("size")),
        bit_rate=_int(fmt.get("bit_rate")),
        streams=streams,
        tags={str(k): str(v) for k, v in fmt.get("tags", {}).items()},
    )


def probe_argv(path: str) -> list[str]:
    return [
        FFPROBE, "-hide_banner", "-v", "error", "-of", "json",
        "-show_format", "-show_streams",
        # The first packet's frame is enough for a still image's orientation.
        "-show_frames", "-read_intervals", "%+#1",
        path,
    ]  # fmt: skip


def probe(path: str) -> Probe:
    """Run ffprobe on a local file; a file it cannot read is an InvalidInput."""
    done = subprocess.run(
        probe_argv(path), capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
    )
    if done.returncode != 0:
        raise from_ffmpeg(done.stderr.splitlines()[-20:], done.returncode, tool="ffprobe")
    try:
        return parse_probe(json.loads(done.stdout))
    except (ValueError, KeyError) as err:
        raise InvalidInput(f"ffprobe output unreadable: {err}") from err
