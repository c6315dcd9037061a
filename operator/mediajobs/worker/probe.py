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

from mediajobs.worker.containers import Container, Kind
from mediajobs.worker.errors import InvalidInput, from_ffmpeg, oversized

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


def input_options(container: Container, max_pixels: int) -> dict[str, str]:
    """How FFmpeg and ffprobe open a user's file: one pinned demuxer, plain files only.

    ``-f`` stops probing (no playlist or concat demuxer, no image2 pattern
    expansion), the protocol whitelist stops any demuxer from opening anything
    but a file, and ``max_pixels`` stops any decoder from allocating a frame
    larger than the memory budget allows.
    """
    return {"f": container.demuxer, "protocol_whitelist": "file", "max_pixels": str(max_pixels)}


def file_url(path: str) -> str:
    """PATH as FFmpeg's file protocol names it: never read as another protocol."""
    return f"file:{path}"


def probe_argv(path: str, container: Container, max_pixels: int) -> list[str]:
    # A still's first frame carries its EXIF orientation (JPEG); a video's streams say theirs.
    frames = ["-show_frames", "-read_intervals", "%+#1"] if container.kind is Kind.STILL else []
    options = [arg for k, v in input_options(container, max_pixels).items() for arg in (f"-{k}", v)]
    return [
        FFPROBE, "-hide_banner", "-v", "error", "-of", "json",
        "-show_format", "-show_streams", *frames,
        *options, file_url(path),
    ]  # fmt: skip


# ffprobe processes started before the worker's heavier modules loaded (worker/start.py),
# by their argv: probe() takes the answer of one that matches instead of starting another.
_EARLY: dict[tuple[str, ...], subprocess.Popen[str]] = {}


def start_probe(path: str, container: Container, max_pixels: int) -> None:
    """Start ffprobe on PATH now; the probe() with the same arguments collects it."""
    argv = probe_argv(path, container, max_pixels)
    _EARLY[tuple(argv)] = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def discard_early() -> None:
    """Stop and reap the early probes nobody collected (the task turned out otherwise)."""
    while _EARLY:
        _, proc = _EARLY.popitem()
        proc.kill()
        proc.communicate()


def _run(argv: list[str]) -> tuple[int, str, str]:
    early = _EARLY.pop(tuple(argv), None)
    if early is None:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
        return done.returncode, done.stdout, done.stderr
    try:
        out, err = early.communicate(timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        early.kill()
        early.communicate()
        raise
    return early.returncode, out, err


def probe(path: str, container: Container, max_pixels: int) -> Probe:
    """Run ffprobe on a local file; a file it cannot read is an InvalidInput."""
    returncode, stdout, stderr = _run(probe_argv(path, container, max_pixels))
    errors = stderr.splitlines()[-20:]
    too_big = oversized(errors)  # ffprobe reports it and still exits 0
    if too_big is not None:
        raise too_big
    if returncode != 0:
        raise from_ffmpeg(errors, returncode, tool="ffprobe")
    try:
        return parse_probe(json.loads(stdout))
    except (ValueError, KeyError) as err:
        raise InvalidInput(f"ffprobe output unreadable: {err}") from err
