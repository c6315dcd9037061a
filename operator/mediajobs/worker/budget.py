"""How much memory and time an input will take, judged from its headers before any decode.

A 2 MB PNG can declare 16000x16000 pixels at 16 bits: 2 GB once decoded. The
worker refuses such inputs before FFmpeg decodes a frame, from the memory
limit of its container (the Task's ``memoryLimitBytes``, else the cgroup's,
else the machine's), so raising ``spec.resources.memory`` raises the budget.

Two lines of defence:

- ``max_pixels`` goes to every FFmpeg and ffprobe decoder (``-max_pixels``):
  no frame larger than one worst-case frame (16-bit RGBA) that fits in the
  limit is ever allocated, even when a stream changes size mid-way.
- :func:`footprint` estimates the whole operation from the probed headers
  (frame size x frames held at once, plus FFmpeg's own baseline); over the
  limit, the input is refused with its size and what to raise.

The frames held at once were measured with FFmpeg 5.1 (peak RSS, 2 threads):
a 1280x720 / 1920x1080 / 3840x2160 H.264 re-encode at preset medium peaked at
277 / 518 / 1746 MB, i.e. about 150 input frames beyond a ~60 MB baseline
(x264's lookahead and reference planes); a 48-megapixel JPEG converted to
WebP peaked at 229 MB and a 48-megapixel 16-bit PNG at 732 MB (about two
decoded frames); ffprobe alone on that PNG took 450 MB. The estimates round
these up. To measure again: make a clip with ``ffmpeg -f lavfi -i
testsrc2=s=1920x1080:d=3 -f lavfi -i sine=d=3 -c:v libx264 -preset ultrafast
-c:a aac in.mp4`` (or a still with ``-frames:v 1 -pix_fmt rgba64be x.png``),
then read the peak RSS of ``/usr/bin/time -f %M ffmpeg -i in.mp4 -c:v libx264
-preset medium -crf 23 -c:a aac out.mp4``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mediajobs.api.common import Operation
from mediajobs.api.task import Footprint
from mediajobs.catalog.smart_params import MAX_WINDOWS
from mediajobs.worker.errors import InvalidInput, frame_too_large
from mediajobs.worker.headers import Still
from mediajobs.worker.limits import BASELINE_BYTES, WORST_BYTES_PER_PIXEL, MiB, max_pixels
from mediajobs.worker.probe import Probe, Stream

MAX_MEDIA_SECONDS = 24 * 3600  # longer claims are a lie or a job for a person, not a worker

# Input frames held at once, by what the operation does with them.
STILL_FRAMES = 3  # decoded, converted, encoded
DECODE_FRAMES = 24  # decoder references and threads (thumbnail, scenes, raw frames)
H264_FRAMES = 150  # libx264's lookahead and reference planes (measured, above)
COPY_FRAMES = 1  # stream copy: packets only, after the probe decoded a frame
GIF_BYTES_PER_PIXEL = 4  # paletteuse holds every frame of the clip until the palette exists

_ENCODES = frozenset(
    {
        Operation.RESIZE_VIDEO,
        Operation.CROP_VIDEO,
        Operation.COMPRESS_VIDEO,
        Operation.REENCODE_STREAMING,
        Operation.APPLY_WATERMARK,
        Operation.APPLY_STEGANOGRAPHIC_WATERMARK,
        Operation.CREATE_TEASER,
        Operation.COMPILE_CONCAT,
        Operation.COMPILE_QUAD,
    }
)
_DEEP = re.compile(r"(p|gray|ya)(9|10|12|14|16)(le|be)?$|(48|64)(le|be)?$|p01[06]|f(16|32)")


def bytes_per_pixel(pix_fmt: str | None) -> float:
    """A decoded frame's bytes per pixel, from FFmpeg's pixel format name (worst if unknown)."""
    if not pix_fmt:
        return WORST_BYTES_PER_PIXEL
    name = pix_fmt.lower()
    if name.startswith(("yuv420", "yuvj420", "yuva420", "nv12", "nv21", "p010", "p016")):
        samples = 2.5 if name.startswith("yuva") else 1.5
    elif name.startswith(("yuv422", "yuvj422", "yuva422", "nv16", "yuyv", "uyvy")):
        samples = 3.0 if name.startswith("yuva") else 2.0
    elif name.startswith(("gray", "pal8", "monow", "monob")):
        samples = 4.0 if name == "pal8" else 1.0  # a palette picture is worked on as RGBA
    elif name.startswith(("ya8", "ya16")):
        samples = 2.0
    elif name.startswith(("yuva444", "rgba", "bgra", "argb", "abgr", "gbrap", "rgb0")):
        samples = 4.0
    else:  # yuv444, yuvj444, rgb24, bgr24, gbrp and the rest
        samples = 3.0
    return samples * (2 if _DEEP.search(name) else 1)


def _frame_bytes(stream: Stream) -> float:
    return (stream.width or 0) * (stream.height or 0) * bytes_per_pixel(stream.pix_fmt)


# The smart operations: each encodes H.264 from one input; a join (highlight, digest) also
# opens each crossfade file (highlights/render.py), one decoder thread each. Measured at
# 1080p: 537 MB peak for 2 windows, 940 MB for 30, i.e. about 5 frames per crossfade input
# (bench/highlights.py measures it again).
WINDOW_FRAMES = 8
_SMART_FRAMES: dict[Operation, int] = {
    Operation.SCENE_EXTRACT: H264_FRAMES,  # one scene at a time
    Operation.CLIP_GENERATE: H264_FRAMES,
    Operation.HIGHLIGHT_GENERATE: H264_FRAMES + MAX_WINDOWS * WINDOW_FRAMES,
    Operation.DIGEST_GENERATE: H264_FRAMES + MAX_WINDOWS * WINDOW_FRAMES,
    Operation.AUTO_REFRAME: H264_FRAMES,  # the sampling pass before it holds fewer
}


def _frames_held(operation: Operation, still: bool) -> int:
    if still:
        return STILL_FRAMES
    if operation in _SMART_FRAMES:
        return _SMART_FRAMES[operation]
    if operation in _ENCODES:
        return H264_FRAMES
    if operation is Operation.STRIP_METADATA:
        return COPY_FRAMES
    return DECODE_FRAMES


def _describe(stream: Stream, still: bool) -> str:
    return f"{stream.width}x{stream.height} {'image' if still else 'video'}"


@dataclass(frozen=True)
class Gif:
    """compile_gif's clip: how long, how many frames a second, how wide."""

    seconds: float
    fps: float
    width: int


def footprint(
    operation: Operation, probes: list[Probe], limit: int, gif: Gif | None = None
) -> Footprint:
    """What OPERATION on PROBES' inputs will hold in memory at its peak, under LIMIT.

    Raises InvalidInput, naming the largest input, when that is over LIMIT or
    an input claims a duration beyond MAX_MEDIA_SECONDS.
    """
    total = float(BASELINE_BYTES)
    largest: tuple[float, str] = (0.0, "input")
    for probe in probes:
        seconds = probe.media_duration or 0.0
        if seconds > MAX_MEDIA_SECONDS:
            raise InvalidInput(
                f"input too long ({seconds / 3600:.1f} h; at most {MAX_MEDIA_SECONDS // 3600} h)"
            )
        for stream in probe.streams:
            if stream.codec_type != "video":
                continue
            still = probe.is_image or stream.attached_pic
            frames = _frames_held(operation, still)
            cost = _frame_bytes(stream) * frames
            total += cost
            largest = max(largest, (cost, _describe(stream, still)))
    if gif is not None and probes and probes[0].video is not None:
        video = probes[0].video
        height = gif.width * (video.display_height / max(video.display_width, 1))
        total += math.ceil(gif.seconds * gif.fps) * gif.width * height * GIF_BYTES_PER_PIXEL
    estimate = Footprint(input=largest[1], estimated_bytes=int(total), limit_bytes=limit)
    if estimate.estimated_bytes > limit:
        raise InvalidInput(too_large(estimate))
    return estimate


def check_still(still: Still, limit: int) -> None:
    """Refuse a picture whose header alone shows it cannot be decoded under LIMIT."""
    if still.pixels > max_pixels(limit):
        raise frame_too_large(still.width, still.height)
    estimate = BASELINE_BYTES + still.pixels * still.bytes_per_pixel * STILL_FRAMES
    if estimate > limit:
        size = f"{still.width}x{still.height} image"
        footprint = Footprint(input=size, estimated_bytes=int(estimate), limit_bytes=limit)
        raise InvalidInput(too_large(footprint))


def _gib(n: int) -> str:
    return f"{n / 1024**3:.1f} GiB" if n >= 1024**3 else f"{n / MiB:.0f} MiB"


def too_large(estimate: Footprint) -> str:
    """The refusal for an input that does not fit, with what to raise."""
    kind = "image" if estimate.input.endswith("image") else "input"
    size = estimate.input.split(" ", 1)[0]
    return (
        f"{kind} too large ({size}): needs about {_gib(estimate.estimated_bytes)},"
        f" the memory limit is {_gib(estimate.limit_bytes)}; raise spec.resources.memory"
    )
