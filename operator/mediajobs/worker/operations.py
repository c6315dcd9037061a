"""Each FFmpeg operation as the worker runs it: fetch, check, build, run, describe.

The handlers are glue: the decisions live in :mod:`argv` (the command),
:mod:`formats` (the output's format), :mod:`gpu` (the encoder) and
:mod:`inputs`/:mod:`outputs` (where files may be). A handler reads its
inputs' probes, refuses the wrong kind of input with a clear message, and
hands :meth:`Job.produce` a function that writes the output file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from mediajobs.api.common import Operation
from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import Task
from mediajobs.catalog import Runner, entry, parse_params
from mediajobs.catalog import params as p
from mediajobs.catalog.params import ImageFormat
from mediajobs.worker import argv, formats
from mediajobs.worker.analysis import parse_scenes, probe_report
from mediajobs.worker.argv import Command, Source
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, WorkerError, from_os_error
from mediajobs.worker.gpu import LIBX264, Encoder, choose_encoder, nvenc_trial
from mediajobs.worker.inputs import media_file
from mediajobs.worker.outputs import describe, final_path, output_relpath, safe_stem, staged
from mediajobs.worker.probe import probe
from mediajobs.worker.run import Report, run

Write = Callable[[Path], None]


@dataclass
class Job:
    """One task with its inputs fetched and probed."""

    task: Task
    root: Path  # the media root, resolved
    scratch: Path
    report: Report
    sources: list[Source] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # each input's own name, for output names

    @property
    def source(self) -> Source:
        return self.sources[0]

    @property
    def output_path(self) -> str | None:
        return self.task.output.path

    def encoder(self, crf: int | None) -> Encoder:
        trial = nvenc_trial() if self.task.gpu else None
        return choose_encoder(self.task.gpu, trial, crf)

    def produce(self, suffix: str, write: Write, data: dict[str, Any] | None = None) -> JobResult:
        """Let WRITE fill a temporary file, describe it, then give it its final name."""
        stem = self.task.name if len(self.sources) > 1 else safe_stem(self.names[0], "output")
        rel = output_relpath(self.task.output, self.task.namespace, self.task.name, stem + suffix)
        final = final_path(self.root, rel)
        if final.resolve() in {Path(s.path).resolve() for s in self.sources}:
            raise InvalidInput(f"output {rel} would overwrite the input")
        with staged(final) as stage:
            write(stage.temp)
            written = describe(stage.temp, rel, probe(str(stage.temp)))
            stage.commit()
        return JobResult(outputs=[written], data=data)

    def ffmpeg(self, build: Callable[[str], Command]) -> Write:
        """A WRITE that runs the command BUILD makes for the temporary path."""
        return lambda temp: run(build(str(temp)), self.report)


# ---------------------------------------------------------------- input checks


_UNKNOWN_CODECS = (None, "none", "unknown")


def _picture(source: Source) -> Source:
    """An input with a picture FFmpeg can decode (a still or a video)."""
    if source.probe.video is None:
        raise InvalidInput("input has no video stream")
    if source.probe.video.codec_name in _UNKNOWN_CODECS:
        raise InvalidInput("unsupported codec")
    return source


def _video(source: Source) -> Source:
    if source.probe.is_image:
        raise InvalidInput("input is an image, not a video")
    _picture(source)
    if not source.probe.media_duration:
        raise InvalidInput("input has no duration (empty or not a video)")
    return source


def _still(source: Source) -> Source:
    _picture(source)
    if not source.probe.is_image:
        raise InvalidInput("input is a video, not an image")
    return source


def _videos(job: Job) -> list[Source]:
    checked = []
    for number, source in enumerate(job.sources, start=1):
        try:
            checked.append(_video(source))
        except InvalidInput as err:
            raise InvalidInput(f"input {number}: {err}") from err
    return checked


# ---------------------------------------------------------------- handlers


class _ToImage(Protocol):
    """Params of an operation that writes a still."""

    @property
    def format(self) -> ImageFormat | None: ...


class _ToH264(Protocol):
    """Params of an operation that encodes H.264."""

    @property
    def crf(self) -> int | None: ...


S = TypeVar("S", bound=_ToImage)
V = TypeVar("V", bound=_ToH264)
In = TypeVar("In")  # what a builder takes: one Source or a list of them


def _image(
    builder: Callable[[S, Source, str], Command], check: Callable[[Source], Source] = _still
) -> Callable[[Job, S], JobResult]:
    """The handler of an operation that writes a still: they differ in builder and input."""

    def handle(job: Job, params: S) -> JobResult:
        source = check(job.source)
        suffix = formats.image_suffix(params.format, job.output_path, source.probe)
        return job.produce(suffix, job.ffmpeg(lambda out: builder(params, source, out)))

    return handle


def _h264(
    inputs: Callable[[Job], In], builder: Callable[[V, In, str, Encoder], Command]
) -> Callable[[Job, V], JobResult]:
    """The handler of an operation that encodes H.264: they differ in builder and inputs."""

    def handle(job: Job, params: V) -> JobResult:
        checked = inputs(job)
        encoder = job.encoder(params.crf)
        write = job.ffmpeg(lambda out: builder(params, checked, out, encoder))
        return job.produce(formats.video_suffix(job.output_path), write, encoder.data())

    return handle


def _one_video(job: Job) -> Source:
    return _video(job.source)


def _compile_gif(job: Job, params: p.CompileGifParams) -> JobResult:
    source = _video(job.source)
    if job.output_path is not None and formats.suffix(job.output_path) != ".gif":
        raise InvalidInput("GIF output path must end in .gif")
    return job.produce(".gif", job.ffmpeg(lambda out: argv.compile_gif(params, source, out)))


def _apply_watermark(job: Job, params: p.ApplyWatermarkParams) -> JobResult:
    source = _picture(job.source)
    overlay = None
    if params.image is not None:
        mark = media_file(job.root, params.image)
        overlay = _picture(Source(str(mark), probe(str(mark))))
    if source.probe.is_image:
        suffix = formats.image_suffix(None, job.output_path, source.probe)
        encoder, data = Encoder(LIBX264), None  # a still is not H.264-encoded
    else:
        _video(source)
        suffix = formats.video_suffix(job.output_path)
        encoder = job.encoder(params.crf)
        data = encoder.data()
    write = job.ffmpeg(lambda out: argv.apply_watermark(params, source, out, encoder, overlay))
    return job.produce(suffix, write, data)


def _strip_metadata(job: Job, params: p.NoParams) -> JobResult:
    source = _picture(job.source)
    suffix = formats.same_suffix(job.output_path, job.names[0], source.probe)
    return job.produce(suffix, job.ffmpeg(lambda out: argv.strip_metadata(source, out)))


def _steganographic_watermark(job: Job, params: p.ApplySteganographicWatermarkParams) -> JobResult:
    # numpy and the watermark code load only for this operation.
    from mediajobs.worker import frames, stego  # noqa: PLC0415

    source = _picture(job.source)
    still = formats.image_format_of(source.probe) if source.probe.is_image else None
    if still is not None:
        suffix = formats.image_suffix(still, job.output_path, source.probe)
    else:
        _video(source)
        keep = formats.input_suffix(job.names[0], source.probe)
        suffix = formats.video_suffix(job.output_path, keep, otherwise=".mkv")  # copies any sound
    payload = stego.payload_for(job.task.creator_profile, params.fan_id)
    layout = frames.frame_layout(source, still)

    def write(temp: Path) -> None:
        frames.mark_frames(
            argv.decode_frames(source, layout),
            argv.encode_frames(source, layout, str(temp), params),
            layout,
            lambda luma: stego.embed_luma(luma, payload, params.strength),
            job.report,
        )

    data: dict[str, Any] = {"watermarkId": payload.hex()}
    if still is None:
        data |= Encoder(LIBX264).data()
    return job.produce(suffix, write, data)


def _scene_detect(job: Job, params: p.SceneDetectParams) -> JobResult:
    source = _video(job.source)
    scores = job.scratch / "scenes.txt"
    run(argv.scene_detect(params, source, str(scores)), job.report)
    text = scores.read_text() if scores.exists() else ""
    scenes = [{"time": s.time, "score": s.score} for s in parse_scenes(text)]
    return JobResult(data={"threshold": params.threshold, "scenes": scenes})


def _validate(job: Job, params: p.NoParams) -> JobResult:
    return JobResult(data=probe_report(job.source.probe))


Op = Operation
HANDLERS: dict[Operation, Callable[[Job, Any], JobResult]] = {
    Op.CONVERT_IMAGE: _image(argv.convert_image),
    Op.RESIZE_IMAGE: _image(argv.resize_image),
    Op.CROP_IMAGE: _image(argv.crop_image),
    Op.RESIZE_VIDEO: _h264(_one_video, argv.resize_video),
    Op.CROP_VIDEO: _h264(_one_video, argv.crop_video),
    Op.COMPRESS_VIDEO: _h264(_one_video, argv.compress_video),
    Op.REENCODE_STREAMING: _h264(_one_video, argv.reencode_streaming),
    Op.APPLY_WATERMARK: _apply_watermark,
    Op.APPLY_STEGANOGRAPHIC_WATERMARK: _steganographic_watermark,
    Op.CREATE_TEASER: _h264(_one_video, argv.create_teaser),
    Op.STRIP_METADATA: _strip_metadata,
    Op.THUMBNAIL_GENERATE: _image(argv.thumbnail, check=_picture),
    Op.COMPILE_GIF: _compile_gif,
    Op.COMPILE_CONCAT: _h264(_videos, argv.compile_concat),
    Op.COMPILE_QUAD: _h264(_videos, argv.compile_quad),
    Op.SCENE_DETECT: _scene_detect,
    Op.VALIDATE: _validate,
}


# ---------------------------------------------------------------- the task


def validation_summary(err: ValidationError) -> str:
    """pydantic's errors as ``field: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}" for e in err.errors()
    )


def _params(task: Task) -> p.Params:
    try:
        return parse_params(task.operation, task.params)
    except ValidationError as err:
        raise InvalidInput(f"invalid params: {validation_summary(err)}") from err


def _media_root(task: Task) -> Path:
    try:
        return Path(task.media_root).resolve(strict=True)
    except OSError as err:
        raise TemporaryFailure(f"media volume {task.media_root} is not mounted") from err


def _download(job: Job, url: str, number: int) -> tuple[Path, str]:
    """URL saved in the scratch dir, and the name it had."""
    # The HTTP and TLS modules load only when a task has a URL.
    from mediajobs.worker.download import download, url_name  # noqa: PLC0415

    name = url_name(url) or f"input-{number}"
    ext = formats.suffix(name)  # a hint for FFmpeg's probing, if it looks like one
    dest = job.scratch / f"input-{number}{ext if ext[1:].isalnum() else ''}"
    task = job.task
    download(url, dest, max_bytes=task.max_download_bytes, allow_private=task.allow_private_urls)
    return dest, name


def _fetch(job: Job) -> None:
    """Resolve or download every input, check it is not empty, probe it."""
    task = job.task
    for number, ref in enumerate(task.inputs, start=1):
        try:
            if ref.path is not None:
                local, name = media_file(job.root, ref.path), ref.path
            else:
                local, name = _download(job, ref.url or "", number)
            if local.stat().st_size == 0:
                raise InvalidInput("input is empty (0 bytes)")
            if any(Path(s.path) == local for s in job.sources):
                # ffmpeg-python merges inputs with equal paths: give the repeat its own name.
                link = job.scratch / f"repeat-{number}{local.suffix}"
                link.symlink_to(local)
                local = link
            job.sources.append(Source(str(local), probe(str(local))))
            job.names.append(name)
        except WorkerError as err:
            if len(task.inputs) == 1:
                raise
            raise type(err)(f"input {number}: {err}") from err


def execute(task: Task, report: Report) -> JobResult:
    """Run TASK to its result; every failure is a classified WorkerError."""
    catalog_entry = entry(task.operation)
    if catalog_entry.runner is not Runner.FFMPEG:
        raise InvalidInput(f"operation {task.operation.value} is not run by the FFmpeg worker")
    params = _params(task)
    count, wanted = len(task.inputs), catalog_entry.inputs
    if not wanted.min <= count <= wanted.max:
        raise InvalidInput(
            f"{task.operation.value} takes {wanted.min}-{wanted.max} inputs, got {count}"
        )
    root = _media_root(task)
    try:
        scratch = tempfile.TemporaryDirectory(prefix="mediajob-", dir=task.scratch_dir)
    except OSError as err:
        raise from_os_error(err, "creating the scratch directory") from err
    with scratch:
        job = Job(task, root, Path(scratch.name), report)
        _fetch(job)
        report(0)
        return HANDLERS[task.operation](job, params)
