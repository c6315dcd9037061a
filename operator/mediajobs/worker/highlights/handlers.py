"""scene_extract, highlight_generate, clip_generate and digest_generate as the worker runs them.

Each analyses the video first (the first half of its progress), chooses its
windows, then writes its file or files (the second half). The result's data
lists every window with its start, end, score and the figures behind the
score, so a person can see why it was chosen.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediajobs.api.mediajob import JobResult
from mediajobs.catalog import params as p
from mediajobs.catalog import smart_params as sp
from mediajobs.worker import argv, formats
from mediajobs.worker.analysis import parse_scenes
from mediajobs.worker.argv import Source
from mediajobs.worker.containers import Kind
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.highlights import render
from mediajobs.worker.highlights import windows as w
from mediajobs.worker.highlights.measure import measure
from mediajobs.worker.run import Report, run
from mediajobs.worker.sources import open_source

if TYPE_CHECKING:  # only its type: smart registers these handlers
    from mediajobs.worker.operations import Job

VIDEOS = frozenset({Kind.VIDEO})
MAX_SCENES = 500  # scene_extract's files at most: more is a flicker, not scenes


def _share(report: Report, start: float, width: float) -> Report:
    """REPORT for a step that spans WIDTH percent of the job from START."""
    return lambda percent: report(int(start + width * percent / 100))


def _candidates(job: Job, source: Source, params: sp.WindowParams, length: float) -> list[w.Window]:
    measures = measure(source, job.scratch, _share(job.report, 0, 50))
    duration = source.probe.media_duration or 0.0
    return w.scored(w.candidates(measures, duration, length, params.threshold))


def _one_file(
    job: Job, params: sp.JoinedParams, source: Source, chosen: list[w.Window]
) -> JobResult:
    """CHOSEN joined with crossfades into the job's one output (render.py says how)."""
    encoder = job.encoder(params.crf)
    settings = (params.preset, params.crf)
    fade, report = params.crossfade, job.report
    fades = []
    for k, (before, after) in enumerate(itertools.pairwise(chosen)):
        path = job.scratch / f"crossfade-{k}{render.FADE_SUFFIX}"
        run(render.crossfade(source, before, after, fade, str(path)))
        fades.append(open_source(path, VIDEOS, "a crossfade", job.limit))
        report(50 + 10 * (k + 1) // len(chosen))
    job.report = _share(report, 60, 40)
    write = job.ffmpeg(
        lambda out: render.join(source, chosen, fades, out, encoder, fade=fade, settings=settings)
    )
    data = encoder.data() | {
        "length": round(w.joined_length(chosen, fade), 3),
        "windows": [c.data() for c in chosen],
    }
    return job.produce(formats.video_suffix(job.output_path), write, data)


def _many_files(
    job: Job,
    params: sp.WindowParams | sp.SceneExtractParams,
    source: Source,
    chosen: list[w.Window],
    data: dict[str, Any],
) -> JobResult:
    """Each of CHOSEN cut into a file of its own, numbered in the video's order."""
    if job.output_path is not None:
        raise InvalidInput(f"{job.task.operation.value} writes several files: set output.prefix")
    encoder = job.encoder(params.crf)
    settings = (params.preset, params.crf)
    report, outputs, each = job.report, [], 50 / len(chosen)
    for number, window in enumerate(chosen, start=1):
        job.report = _share(report, 50 + each * (number - 1), each)
        write = job.ffmpeg(
            functools.partial(render.cut, source, window, encoder=encoder, settings=settings)
        )
        outputs.extend(job.produce(f"-{number:03d}.mp4", write).outputs)
    return JobResult(outputs=outputs, data=encoder.data() | data)


def highlight_generate(job: Job, source: Source, params: sp.HighlightGenerateParams) -> JobResult:
    length = min(params.clip_length, params.target_length)
    count = w.highlight_count(params.target_length, length, params.crossfade)
    chosen = w.best(_candidates(job, source, params, length), count)
    return _one_file(job, params, source, chosen)


def clip_generate(job: Job, source: Source, params: sp.ClipGenerateParams) -> JobResult:
    length = min(params.clip_length, params.target_length)
    count = max(1, int(params.target_length // length))
    chosen = w.best(_candidates(job, source, params, length), count)
    return _many_files(job, params, source, chosen, {"windows": [c.data() for c in chosen]})


def digest_generate(job: Job, source: Source, params: sp.DigestGenerateParams) -> JobResult:
    duration = source.probe.media_duration or 0.0
    if duration <= params.target_length:
        raise InvalidInput(
            f"the video lasts {duration:.1f} s: a digest needs one longer than"
            f" targetLength ({params.target_length:g} s)"
        )
    count, length = w.digest_plan(params.target_length, params.clip_length, params.crossfade)
    chosen = w.spread(_candidates(job, source, params, length), count, duration)
    return _one_file(job, params, source, chosen)


def scene_extract(job: Job, source: Source, params: sp.SceneExtractParams) -> JobResult:
    """The video split at its scene changes (scene_detect's own pass), one file per scene."""
    scores = job.scratch / "scenes.txt"
    detect = p.SceneDetectParams(threshold=params.threshold)
    run(argv.scene_detect(detect, source, str(scores)), _share(job.report, 0, 50))
    cuts = [s.time for s in parse_scenes(_text(scores))]
    duration = source.probe.media_duration or 0.0
    spans = w.scenes(cuts, duration, params.min_length)
    if len(spans) > MAX_SCENES:
        raise InvalidInput(
            f"{len(spans)} scenes, more than {MAX_SCENES}: raise threshold or minLength"
        )
    chosen = [w.Window(start, end) for start, end in spans]
    scenes = [{"start": round(c.start, 3), "end": round(c.end, 3)} for c in chosen]
    return _many_files(
        job, params, source, chosen, {"threshold": params.threshold, "scenes": scenes}
    )


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""
