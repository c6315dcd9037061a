"""auto_reframe as the worker runs it: sample and find faces, smooth the path, crop and encode.

The first half of the progress is the sampling pass, the second the encode.
Where no sampled frame shows a face the cut is a plain centre crop, and the
result says so (``mode: centre``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mediajobs.api.mediajob import JobResult
from mediajobs.catalog import params as p
from mediajobs.catalog import smart_params as sp
from mediajobs.worker import formats
from mediajobs.worker.argv import Command, Source, h264_movie, open_input
from mediajobs.worker.gpu import Encoder
from mediajobs.worker.reframe import faces
from mediajobs.worker.reframe.path import Crop, aspect_of, crop_for, even, script, smooth, target

if TYPE_CHECKING:  # only its type: smart registers this handler
    from mediajobs.worker.operations import Job


@dataclass(frozen=True)
class Cut:
    """Where the crop is and what size the output is."""

    crop: Crop
    path: Path | None  # the sendcmd script moving it; None: it stays centred
    size: tuple[int, int]  # the output's width and height


def reframe(
    source: Source, cut: Cut, out: str, encoder: Encoder, settings: tuple[p.Preset, int | None]
) -> Command:
    """SOURCE cropped as CUT says, scaled to its size, encoded by ENCODER."""
    crop, path = cut.crop, cut.path
    picture, sound = open_input(source, encoder)
    picture = picture.filter("setpts", "PTS-STARTPTS")  # the script's times count from zero
    if path is not None:
        picture = picture.filter("sendcmd", f=str(path))
    middle = {crop.axis: str((crop.span - crop.size) // 2)}
    cropped = picture.filter("crop", crop.width, crop.height, **middle)
    scaled = cropped.filter("scale", *cut.size).filter("setsar", 1)
    duration = source.probe.media_duration
    return h264_movie(scaled, sound, out, encoder, settings=settings, duration=duration)


def auto_reframe(job: Job, source: Source, params: sp.AutoReframeParams) -> JobResult:
    video = source.video
    crop = crop_for(video.display_width, video.display_height, aspect_of(params.aspect))
    report = job.report
    expected = math.ceil((source.probe.media_duration or 0.0) * faces.SAMPLE_FPS)
    found = faces.detect(source, lambda percent: report(percent // 2), expected)
    centres = smooth([target(f, crop) for f in found], faces.SAMPLE_FPS, crop)
    path = None
    if centres is not None:
        path = job.scratch / "reframe.cmd"
        path.write_text(script(centres, faces.SAMPLE_FPS, crop))
    wide, tall = aspect_of(params.aspect)
    height = even(params.height or crop.height)
    size = (even(height * wide / tall), height)
    encoder = job.encoder(params.crf)
    settings = (params.preset, params.crf)
    job.report = lambda percent: report(50 + percent // 2)
    cut = Cut(crop, path, size)
    write = job.ffmpeg(lambda out: reframe(source, cut, out, encoder, settings))
    data = encoder.data() | {
        "aspect": params.aspect,
        "crop": {"width": crop.width, "height": crop.height, "axis": crop.axis},
        "mode": "faces" if centres is not None else "centre",
        "framesSampled": len(found),
        "framesWithFaces": sum(1 for f in found if f),
    }
    return job.produce(formats.video_suffix(job.output_path), write, data)
