"""Params of the media library's operations: scan, public_scan, move_to_library,
compile_random, compile_mega (run by worker/library/). Same rules as params.py:
a name means one thing, with one type and range, in every operation."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from mediajobs.api.strings import MediaPath
from mediajobs.catalog.params import Crf, EncoderPreset, Fps, Height, Params, Preset, Width


class Orientation(StrEnum):
    """How a video is displayed (rotation metadata applied)."""

    LANDSCAPE = "landscape"  # wider than tall
    PORTRAIT = "portrait"  # taller than wide
    SQUARE = "square"


SkipExisting = Annotated[
    bool,
    Field(
        description="Probe only files that are new or whose size or mtime changed since the "
        "last scan (false: probe every file again)."
    ),
]


Directory = Annotated[
    MediaPath,
    Field(
        description="A directory relative to the media volume, e.g. library/videos: scan walks "
        "it recursively; a compilation chooses only videos under it."
    ),
]


class PublicScanParams(Params):
    """public_scan always walks the public gallery directory (worker/library/scan.py)."""

    skip_existing: SkipExisting = True


class ScanParams(PublicScanParams):
    directory: Directory


class MoveToLibraryParams(Params):
    target_directory: MediaPath = Field(
        description="Where the input goes, a directory relative to the media volume (created "
        "if missing), e.g. library/videos; a file of the same name there is never overwritten."
    )


class _Compilation(Params):
    """Which videos of the library index to join, and how the joined video looks."""

    min_duration: float | None = Field(
        default=None, ge=0, le=86400, description="Only videos at least this long, seconds."
    )
    max_duration: float | None = Field(
        default=None, gt=0, le=86400, description="Only videos at most this long, seconds."
    )
    orientation: Orientation | None = Field(
        default=None, description="Only landscape, portrait or square videos (default: any)."
    )
    directory: Directory | None = None
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**53,
        description="Random seed: the same seed over the same index picks the same videos "
        "(default: a fresh one, reported in the result).",
    )
    width: Width | None = Field(
        default=None, description="Output width; default 1280 (720 for portrait)."
    )
    height: Height | None = Field(
        default=None, description="Output height; default 720 (1280 for portrait)."
    )
    fps: Fps = 30
    crf: Crf = 23
    preset: EncoderPreset = Preset.MEDIUM

    @model_validator(mode="after")
    def _durations(self) -> _Compilation:
        low, high = self.min_duration, self.max_duration
        if low is not None and high is not None and low > high:
            raise ValueError("minDuration is above maxDuration")
        return self


class CompileRandomParams(_Compilation):
    count: int = Field(default=10, ge=1, le=1000, description="How many videos to join.")

    @model_validator(mode="after")
    def _few(self) -> CompileRandomParams:
        if self.count > 64:
            raise ValueError("compile_random joins at most 64 videos: use compile_mega")
        return self


class CompileMegaParams(_Compilation):
    count: int = Field(default=100, ge=1, le=1000, description="How many videos to join.")
