"""Output formats: which container or image format each output gets, and its codec options.

Pure decisions from the params, the requested output path and the input's
probe. An explicit output path that contradicts the format is an invalid spec
(exit 2), never silently renamed.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from mediajobs.catalog.params import ImageFormat
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.probe import Probe, Stream

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")  # containers that take H.264 + AAC
FASTSTART_SUFFIXES = (".mp4", ".m4v", ".mov")  # ISO BMFF: the moov atom can move to the front
IMAGE_SUFFIXES: dict[str, ImageFormat] = {
    ".jpg": ImageFormat.JPEG,
    ".jpeg": ImageFormat.JPEG,
    ".png": ImageFormat.PNG,
    ".webp": ImageFormat.WEBP,
}
DEFAULT_IMAGE_SUFFIX = {
    ImageFormat.JPEG: ".jpg",
    ImageFormat.PNG: ".png",
    ImageFormat.WEBP: ".webp",
}
_CODEC_FORMAT = {"mjpeg": ImageFormat.JPEG, "png": ImageFormat.PNG, "webp": ImageFormat.WEBP}
# Container names ffprobe reports, for inputs whose file name has no usable suffix.
_FORMAT_SUFFIX = {"mov": ".mov", "mp4": ".mp4", "matroska": ".mkv", "webm": ".webm", "gif": ".gif"}
_ALPHA_PIX_FMTS = ("rgba", "bgra", "argb", "abgr", "ya8", "ya16", "yuva", "gbrap")


def suffix(path: str) -> str:
    return PurePath(path).suffix.lower()


def image_format_of(probe: Probe) -> ImageFormat:
    """The format a still is in; other stills (BMP, TIFF...) are treated as PNG."""
    codec = probe.video.codec_name if probe.video else None
    return _CODEC_FORMAT.get(codec or "", ImageFormat.PNG)


def image_suffix(requested: ImageFormat | None, output_path: str | None, probe: Probe) -> str:
    """An image output's suffix: the requested format, else the output path's, else the input's."""
    from_path = IMAGE_SUFFIXES.get(suffix(output_path)) if output_path else None
    if output_path is not None and from_path is None:
        raise InvalidInput(f"image output path must end in one of {', '.join(IMAGE_SUFFIXES)}")
    fmt = requested or from_path or image_format_of(probe)
    if from_path is not None and from_path is not fmt:
        raise InvalidInput(f"output path {suffix(output_path or '')} does not match {fmt.value}")
    return suffix(output_path or "") if from_path is not None else DEFAULT_IMAGE_SUFFIX[fmt]


def video_suffix(output_path: str | None, keep: str | None = None, otherwise: str = ".mp4") -> str:
    """An H.264 file's suffix: the output path's (checked), else KEEP if usable, or OTHERWISE."""
    if output_path is not None:
        if suffix(output_path) not in VIDEO_SUFFIXES:
            raise InvalidInput(f"video output path must end in one of {', '.join(VIDEO_SUFFIXES)}")
        return suffix(output_path)
    return keep if keep in VIDEO_SUFFIXES else otherwise


def input_suffix(input_name: str, probe: Probe) -> str:
    """The input's own suffix, or one derived from its container when the name has none."""
    own = suffix(input_name)
    if own:
        return own
    names = probe.format_name.split(",")
    return next((_FORMAT_SUFFIX[n] for n in names if n in _FORMAT_SUFFIX), ".mkv")


def same_suffix(output_path: str | None, input_name: str, probe: Probe) -> str:
    """For a copy of the input in its own format (strip_metadata): the input's suffix.

    An explicit output path must keep it; a stream copy cannot change container.
    """
    if probe.is_image:
        return image_suffix(None, output_path, probe)
    own = input_suffix(input_name, probe)
    if output_path is not None and suffix(output_path) != own:
        raise InvalidInput(f"output path must keep the input's {own} suffix")
    return own


def jpeg_qscale(quality: int) -> int:
    """Quality 1-100 onto MJPEG's -q:v 31 (worst) .. 2 (best)."""
    return round(31 - (quality - 1) * 29 / 99)


def image_codec_args(out: str, quality: int) -> dict[str, Any]:
    """Encoder options for a still, by the output's suffix."""
    fmt = IMAGE_SUFFIXES[suffix(out)]
    if fmt is ImageFormat.JPEG:
        return {"c:v": "mjpeg", "q:v": jpeg_qscale(quality)}
    if fmt is ImageFormat.WEBP:
        return {"c:v": "libwebp", "quality": quality}
    return {"c:v": "png"}


def has_alpha(stream: Stream) -> bool:
    return any(marker in (stream.pix_fmt or "") for marker in _ALPHA_PIX_FMTS)
