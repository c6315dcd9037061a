"""Per-operation parameter models.

Each model is the whole truth about one operation's ``spec.params``: the CRD
schema is generated from the union of these models (a name means the same thing,
with the same type and range, in every operation that uses it: the generator
refuses a conflict) and CEL rules reject a param that the operation does not
take. Defaults are applied here, not in the CRD, because they differ between
operations (a thumbnail is 640 wide by default, a GIF 480).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from mediajobs.api.common import ApiModel
from mediajobs.api.strings import Line, MediaPath, Text, Token


class Params(ApiModel):
    """Base of every params model (camelCase, unknown keys rejected)."""


class ImageFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"


class Preset(StrEnum):
    """x264 presets (NVENC maps them onto p1..p7)."""

    ULTRAFAST = "ultrafast"
    SUPERFAST = "superfast"
    VERYFAST = "veryfast"
    FASTER = "faster"
    FAST = "fast"
    MEDIUM = "medium"
    SLOW = "slow"
    SLOWER = "slower"
    VERYSLOW = "veryslow"


class FitMode(StrEnum):
    FIT = "fit"  # scale to fit inside width x height, keep aspect
    FILL = "fill"  # scale to cover width x height, keep aspect, centre-crop the rest


class Position(StrEnum):
    TOP_LEFT = "top_left"
    TOP_RIGHT = "top_right"
    BOTTOM_LEFT = "bottom_left"
    BOTTOM_RIGHT = "bottom_right"
    CENTER = "center"


class CropBox(ApiModel):
    """The box to keep, in pixels from the top-left corner. The corner is left/top, not
    x/y: YAML 1.1 (kubectl) reads a bare `y:` key as the boolean true."""

    left: int = Field(default=0, ge=0, le=16384, description="Left edge, pixels (default 0).")
    top: int = Field(default=0, ge=0, le=16384, description="Top edge, pixels (default 0).")
    width: int = Field(ge=1, le=16384, description="Width of the box, pixels.")
    height: int = Field(ge=1, le=16384, description="Height of the box, pixels.")


# Shared field types, so that one name has one meaning in every operation.
Width = Annotated[int, Field(ge=16, le=16384, description="Width in pixels.")]
Height = Annotated[int, Field(ge=16, le=16384, description="Height in pixels.")]
Crf = Annotated[
    int,
    Field(ge=0, le=51, description="Constant rate factor, 0-51: lower is better and bigger."),
]
Quality = Annotated[
    int, Field(ge=1, le=100, description="Image encoder quality, 1-100 (higher is better).")
]
Kbps = Annotated[int, Field(ge=8, le=200_000, description="Bitrate in kbit/s.")]
Start = Annotated[float, Field(ge=0, le=86400, description="Start offset in seconds.")]
Duration = Annotated[float, Field(gt=0, le=86400, description="Length in seconds.")]
Fps = Annotated[int, Field(ge=1, le=120, description="Frames per second.")]
EncoderPreset = Annotated[
    Preset,
    Field(description="Encoder speed/size trade-off, ultrafast to veryslow (x264 presets)."),
]
TargetFormat = Annotated[ImageFormat, Field(description="Target image format: jpeg, png or webp.")]
Mode = Annotated[
    FitMode,
    Field(
        description="fit: scale to fit inside width x height; fill: cover it and crop the rest "
        "(needs both)."
    ),
]


class NoParams(Params):
    pass


class ConvertImageParams(Params):
    format: TargetFormat
    quality: Quality = 85


class _ScaleBox(Params):
    """width and/or height, and how to fit the picture into them."""

    width: Width | None = None
    height: Height | None = None
    mode: Mode = FitMode.FIT

    @model_validator(mode="after")
    def _a_side(self) -> _ScaleBox:
        if self.width is None and self.height is None:
            raise ValueError("set width, height or both")
        if self.mode is FitMode.FILL and (self.width is None or self.height is None):
            raise ValueError("mode fill needs both width and height")
        return self


class ResizeImageParams(_ScaleBox):
    format: TargetFormat | None = None
    quality: Quality = 85


class CropImageParams(Params):
    box: CropBox
    format: TargetFormat | None = None
    quality: Quality = 85


class ResizeVideoParams(_ScaleBox):
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM


class CropVideoParams(Params):
    box: CropBox
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM


class CompressVideoParams(Params):
    crf: Crf | None = None
    target_bitrate: Kbps | None = None
    preset: EncoderPreset = Preset.MEDIUM
    audio_bitrate: Kbps = 128

    @model_validator(mode="after")
    def _one_target(self) -> CompressVideoParams:
        if self.crf is not None and self.target_bitrate is not None:
            raise ValueError("set crf or targetBitrate, not both")
        if self.crf is None and self.target_bitrate is None:
            self.crf = 28
        return self


class ReencodeStreamingParams(Params):
    """H.264 + AAC for web playback (the reference system's command, with +faststart)."""

    preset: EncoderPreset = Preset.MEDIUM
    crf: Crf = 23
    target_bitrate: Kbps | None = 2000  # maxrate; bufsize is twice it
    audio_bitrate: Kbps = 128


class ApplyWatermarkParams(Params):
    text: Line | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Watermark text, one line of at most 200 characters (or set image).",
    )
    image: MediaPath | None = Field(
        default=None,
        description="Watermark image (or set text): a path relative to the media volume, "
        "e.g. brand/alice-logo.png.",
    )
    opacity: float = Field(
        default=0.5, ge=0, le=1, description="Opacity, 0 (invisible) to 1 (opaque)."
    )
    position: Position = Field(
        default=Position.BOTTOM_RIGHT,
        description="Where: top_left, top_right, bottom_left, bottom_right or center.",
    )
    margin: int = Field(default=16, ge=0, le=4096, description="Distance from the edge, pixels.")
    font_size: int = Field(default=32, ge=4, le=512, description="Text height, pixels.")
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM

    @model_validator(mode="after")
    def _text_or_image(self) -> ApplyWatermarkParams:
        if (self.text is None) == (self.image is None):
            raise ValueError("set exactly one of text or image")
        return self


class ApplySteganographicWatermarkParams(Params):
    fan_id: Line = Field(
        min_length=1,
        max_length=128,
        description="Who this copy is for (at most 128 characters); an 80-bit id derived "
        "from it is embedded invisibly.",
    )
    strength: float = Field(default=1.0, gt=0, le=4, description="Embedding strength multiplier.")
    crf: Crf = 18
    preset: EncoderPreset = Preset.MEDIUM
    quality: Quality = 92


class CreateTeaserParams(Params):
    start: Start = 0
    duration: Duration = 15
    fade: bool = Field(default=False, description="Fade in and out (0.5 s each).")
    width: Width | None = None
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM


class ThumbnailGenerateParams(Params):
    timestamp: float | None = Field(
        default=None, ge=0, le=86400, description="Seconds; default 25 % of the duration."
    )
    width: Width = 640
    format: TargetFormat = ImageFormat.JPEG
    quality: Quality = 85


class CompileGifParams(Params):
    start: Start = 0
    duration: Duration = 5
    fps: Fps = 10
    width: Width = 480


class CompileConcatParams(Params):
    width: Width = 1280
    height: Height = 720
    fps: Fps = 30
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM


class CompileQuadParams(Params):
    width: Width = 1280
    height: Height = 720
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM


Threshold = Annotated[float, Field(gt=0, lt=1, description="Scene-change score, 0-1.")]


class SceneDetectParams(Params):
    threshold: Threshold = 0.3


MaxPosts = Annotated[int, Field(ge=1, le=10000, description="Most posts to read, 1-10000.")]


class ScrapeProfileParams(Params):
    max_posts: MaxPosts = 50


class ScrapePostPerformanceParams(Params):
    post_ids: list[Annotated[Token, Field(min_length=1, max_length=128)]] | None = Field(
        default=None,
        max_length=1000,
        description="The platform's ids of the posts to read (at most 1000, of 128 characters "
        "each).",
    )
    max_posts: MaxPosts = 50


class PublishPostParams(Params):
    caption: Text = Field(
        default="", max_length=5000, description="Post text, at most 5000 characters."
    )
    tags: list[Annotated[Line, Field(min_length=1, max_length=100)]] | None = Field(
        default=None,
        max_length=100,
        description="Tags to add (at most 100, of 100 characters each).",
    )
    publish_at: datetime | None = Field(
        default=None, description="Ask the platform to schedule the post for this time."
    )
