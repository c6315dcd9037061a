"""``compile_random`` and ``compile_mega``: videos chosen from the index, joined normalised.

The choice is :func:`~mediajobs.worker.library.choose.choose` (criteria and a
seed; the result lists the files and the seed). Every chosen file is opened
the way every input is (:func:`~mediajobs.worker.sources.open_source`), so a
file replaced since the scan is refused, not trusted.

Joining is chunked, so memory and scratch stay bounded however many files
are chosen: each chunk of at most :data:`CHUNK_INPUTS` files (fewer when
their frames would not fit the decode budget: worker/budget.py) is normalised by
the same command as ``compile_concat`` (one size and frame rate, 48 kHz
stereo sound, silence for silent inputs) into an intermediate file in the
scratch directory, with the encoder of the NVENC trial; then FFmpeg's concat
demuxer joins the intermediates with ``-c copy``. One FFmpeg process decodes
at most CHUNK_INPUTS inputs, so its memory does not grow with the count; the
scratch directory holds the intermediates, about the size of the output. The
concat demuxer only ever reads the list and files the worker wrote itself
(``safe`` mode: names relative to the list, files only).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import ffmpeg

from mediajobs.api.common import Operation
from mediajobs.api.mediajob import JobResult
from mediajobs.catalog import library_params as lp
from mediajobs.catalog import params as p
from mediajobs.catalog.library_params import Orientation
from mediajobs.worker import argv, budget, formats
from mediajobs.worker.argv import Command, Source
from mediajobs.worker.errors import InvalidInput, WorkerError
from mediajobs.worker.formats import FASTSTART_SUFFIXES, suffix
from mediajobs.worker.gpu import Encoder
from mediajobs.worker.inputs import media_file, relative_path
from mediajobs.worker.library.choose import Criteria, choose
from mediajobs.worker.library.index import read_rows
from mediajobs.worker.library.scan import PROBES_AT_ONCE, playable
from mediajobs.worker.operations import VIDEOS, Job, Write
from mediajobs.worker.probe import file_url
from mediajobs.worker.run import Report, run
from mediajobs.worker.sources import open_source

CHUNK_INPUTS = 16  # most inputs one FFmpeg process decodes: the memory bound (tests/worker)
CHUNK_SUFFIX = ".mkv"  # intermediates: H.264 + AAC, no faststart rewrite needed
JOINING_SHARE = 95  # progress percent reached when every chunk is encoded
SEED_BOUND = 2**53


def settings(params: lp.CompileRandomParams | lp.CompileMegaParams) -> p.CompileConcatParams:
    """The output's size, rate and quality; the default size follows the orientation."""
    portrait = params.orientation is Orientation.PORTRAIT
    return p.CompileConcatParams(
        width=params.width or (720 if portrait else 1280),
        height=params.height or (1280 if portrait else 720),
        fps=params.fps,
        crf=params.crf,
        preset=params.preset,
    )


def chunks(sources: Sequence[Source], fits: Callable[[list[Source]], bool]) -> list[list[Source]]:
    """SOURCES in order, in runs of at most CHUNK_INPUTS that FITS the memory budget."""
    runs: list[list[Source]] = []
    current: list[Source] = []
    for source in sources:
        if current and (len(current) == CHUNK_INPUTS or not fits([*current, source])):
            runs.append(current)
            current = []
        current.append(source)
    return [*runs, current] if current else runs


def _footprint(job: Job, chunk: list[Source]) -> None:
    """Refuse a chunk whose decode would not fit the budget (as compile_concat's inputs)."""
    budget.footprint(Operation.COMPILE_CONCAT, [s.probe for s in chunk], job.limit)


def _fits(job: Job) -> Callable[[list[Source]], bool]:
    def fits(chunk: list[Source]) -> bool:
        try:
            _footprint(job, chunk)
        except InvalidInput:
            return False
        return True

    return fits


def concat_list(parts: Sequence[Path]) -> str:
    """The concat demuxer's list of the worker's own intermediates, by name beside it."""
    return "ffconcat version 1.0\n" + "".join(f"file {part.name}\n" for part in parts)


def concat_copy(listing: Path, out: str, duration: float) -> Command:
    """The intermediates named in LISTING joined into OUT without re-encoding."""
    joined = ffmpeg.input(file_url(str(listing)), f="concat", safe=1, protocol_whitelist="file")
    options: dict[str, Any] = {"c": "copy"}
    if suffix(out) in FASTSTART_SUFFIXES:
        options["movflags"] = "+faststart"
    return argv.command(ffmpeg.output(joined, out, **options), duration)


def _share(report: Report, before: float, length: float, total: float) -> Report:
    """A chunk's own percent as a share of the whole compilation's progress."""

    def scaled(percent: int) -> None:
        done = before + length * percent / 100
        report(int(JOINING_SHARE * done / total) if total else 0)

    return scaled


def _open_one(job: Job, path: str) -> Source:
    """PATH through the door every input takes; a file changed since the scan is refused."""
    try:
        source = open_source(media_file(job.root, path), VIDEOS, "compilation", job.limit)
        playable(source)
    except WorkerError as err:
        raise type(err)(f"library video {path}: {err} (scan it again)") from err
    return source


def _open(job: Job, paths: Sequence[str]) -> None:
    with ThreadPoolExecutor(PROBES_AT_ONCE) as pool:
        job.sources.extend(pool.map(lambda path: _open_one(job, path), paths))
    job.names.extend(paths)


def _joiner(
    job: Job, parts: list[list[Source]], shape: p.CompileConcatParams, encoder: Encoder
) -> Write:
    """A WRITE joining PARTS: one command for one chunk, else chunks then a copy."""
    sound = any(s.probe.audio for s in job.sources)

    def write(temp: Path) -> float | None:
        if len(parts) == 1:
            return job.ffmpeg(
                lambda out: argv.compile_concat(shape, parts[0], out, encoder, sound=sound)
            )(temp)
        total = sum(s.video.duration or s.probe.media_duration or 0.0 for s in job.sources)
        done, written = 0.0, []
        for number, chunk in enumerate(parts):
            part = job.scratch / f"chunk-{number:04d}{CHUNK_SUFFIX}"
            cmd = argv.compile_concat(shape, chunk, str(part), encoder, sound=sound)
            run(cmd, _share(job.report, done, cmd.duration or 0.0, total))
            done += cmd.duration or 0.0
            written.append(part)
        listing = job.scratch / "chunks.ffconcat"
        listing.write_text(concat_list(written))
        run(concat_copy(listing, str(temp), done))
        return done

    return write


def compile_from_index(
    job: Job, params: lp.CompileRandomParams | lp.CompileMegaParams
) -> JobResult:
    rows = read_rows(job.root).values()
    directory = None if params.directory is None else relative_path(params.directory).as_posix()
    criteria = Criteria(
        params.min_duration,
        params.max_duration,
        params.orientation,
        None if directory == "." else directory,
    )
    seed = params.seed if params.seed is not None else secrets.randbelow(SEED_BOUND)
    chosen = choose(rows, criteria, params.count, seed)
    if not chosen:
        raise InvalidInput(
            f"no video in the library index matches ({criteria.describe()}): scan first"
        )
    _open(job, [row.path for row in chosen])
    parts = chunks(job.sources, _fits(job))
    for chunk in parts:  # a chunk of one input over the budget is refused, naming its size
        _footprint(job, chunk)
    encoder = job.encoder(params.crf)
    data: dict[str, Any] = encoder.data() | {
        "seed": seed,
        "matched": sum(criteria.matches(row) for row in rows),
        "chunks": len(parts),
        "chosen": [row.path for row in chosen],
    }
    write = _joiner(job, parts, settings(params), encoder)
    return job.produce(formats.video_suffix(job.output_path), write, data)
