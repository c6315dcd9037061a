"""Params of the smart operations: scene_extract, highlight_generate, clip_generate,
digest_generate (worker/highlights/) and auto_reframe (worker/reframe/). Same rules
as params.py: a name means one thing, with one type and range, in every operation."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from mediajobs.catalog.params import Crf, EncoderPreset, Height, Params, Preset, Threshold

# Windows joined or cut at most: each is one more input FFmpeg opens (the decode budget).
MAX_WINDOWS = 30
TargetLength = Annotated[
    float, Field(ge=2, le=1800, description="Length of the result in seconds, 2-1800.")
]
ClipLength = Annotated[
    float, Field(ge=1, le=120, description="Length of each chosen window in seconds, 1-120.")
]
Crossfade = Annotated[
    float,
    Field(ge=0.1, le=2, description="Crossfade between joined windows, seconds (0.1-2)."),
]


class WindowParams(Params):
    """Windows of clipLength seconds, scored by scene changes, motion and loudness."""

    target_length: TargetLength = 30
    clip_length: ClipLength = 5
    threshold: Threshold = 0.3
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM

    @model_validator(mode="after")
    def _few_windows(self) -> WindowParams:
        if self.target_length / self.clip_length > MAX_WINDOWS:
            raise ValueError(
                f"targetLength / clipLength is over {MAX_WINDOWS} windows:"
                " raise clipLength or lower targetLength"
            )
        return self


class JoinedParams(WindowParams):
    crossfade: Crossfade = 0.5

    @model_validator(mode="after")
    def _fade_fits(self) -> JoinedParams:
        if 2 * self.crossfade >= self.clip_length:
            raise ValueError("crossfade must be shorter than half of clipLength")
        return self


class HighlightGenerateParams(JoinedParams):
    """The best windows anywhere, up to targetLength, in their order, crossfaded."""


class ClipGenerateParams(WindowParams):
    """The same windows as highlight_generate, each its own file."""


class DigestGenerateParams(JoinedParams):
    """The best window of each part of the video: exactly targetLength, crossfaded."""

    target_length: TargetLength = 60


class SceneExtractParams(Params):
    threshold: Threshold = 0.3
    min_length: float = Field(
        default=1,
        ge=0.1,
        le=600,
        description="Shortest scene in seconds: a cut sooner after the last is ignored.",
    )
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM


class AutoReframeParams(Params):
    aspect: str = Field(
        default="9:16",
        pattern=r"^[1-9][0-9]?:[1-9][0-9]?$",
        max_length=5,
        description="Aspect of the cut, width:height (e.g. 9:16, 4:5, 1:1).",
    )
    height: Height | None = None  # default: the crop's own
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM
