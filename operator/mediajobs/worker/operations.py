"""Each FFmpeg operation as the worker runs it: check, build, run, describe.

:mod:`execute` fetches and checks the inputs and picks the handler: here for the
plain operations, in :mod:`smart` and :mod:`library.handlers` for the others. The
handlers are glue: the decisions live in :mod:`argv` (the command),
:mod:`formats` (the output's format), :mod:`gpu` (the encoder) and
:mod:`inputs`/:mod:`outputs` (where files may be). A handler reads its
inputs' probes, refuses the wrong kind of input with a clear message, and
hands :meth:`Job.produce` a function that writes the output file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from mediajobs.api.common import Operation
from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import Task
from mediajobs.catalog import params as p
from mediajobs.catalog.params import ImageFormat
from mediajobs.worker import argv, formats, limits
from mediajobs.worker.analysis import parse_scenes, probe_report, stream_choice
from mediajobs.worker.argv import Command, Source
from mediajobs.worker.containers import Kind
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.gpu import LIBX264, Encoder, choose_encoder, nvenc_trial
from mediajobs.worker.outputs import describe, final_path, output_relpath, safe_stem, staged
from mediajobs.worker.run import Report, run
from mediajobs.worker.sources import probe_output

# Writes the output file; returns the seconds of media it promised (None for a still).
Write = Callable[[Path], float | None]

STILLS = frozenset({Kind.STILL})
VIDEOS = frozenset({Kind.VIDEO})
PICTURES = STILLS | VIDEOS
# An output shorter than promised by more than this is a truncated input, not rounding.
SHORT_OUTPUT_S = 0.5
SHORT_OUTPUT_SHARE = 0.05


@dataclass
class Job:
    """One task with its inputs fetched and probed."""

    task: Task
    root: Path  # the media root, resolved
    scratch: Path
    report: Report
    limit: int  # the container's memory limit, bytes: the decode budget
    sources: list[Source] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # each input's own name, for output names
    overlay: Source | None = None  # apply_watermark's image

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
            promised = write(stage.temp)
            ceiling = limits.max_pixels(self.limit)
            written = describe(stage.temp, rel, probe_output(stage.temp, ceiling))
            _check_length(written.duration, promised)
            stage.commit()
        return JobResult(outputs=[written], data=data)

    def ffmpeg(self, build: Callable[[str], Command]) -> Write:
        """A WRITE that runs the command BUILD makes for the temporary path."""

        def write(temp: Path) -> float | None:
            cmd = build(str(temp))
            run(cmd, self.report)
            return cmd.duration

        return write


def _check_length(actual: float | None, promised: float | None) -> None:
    """An output much shorter than the input promised means the input ends early."""
    if promised is None or actual is None:
        return
    if promised - actual > max(SHORT_OUTPUT_S, SHORT_OUTPUT_SHARE * promised):
        raise InvalidInput(
            f"input is truncated or corrupt: the output lasts {actual:.1f} s"
            f" where the input promised {promised:.1f} s"
        )


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


def _kept(source: Source, sound: bool = True) -> set[int]:
    """The streams a re-encode keeps: the picture, and the first sound track when SOUND."""
    audio = source.probe.audio if sound else None
    return {source.video.index, *([] if audio is None else [audio.index])}


def _h264(
    inputs: Callable[[Job], In],
    builder: Callable[[V, In, str, Encoder], Command],
    *,
    sound: bool = True,
) -> Callable[[Job, V], JobResult]:
    """The handler of an operation that encodes H.264: they differ in builder and inputs.

    SOUND: whether the output carries the inputs' first sound track.
    """

    def handle(job: Job, params: V) -> JobResult:
        checked = inputs(job)
        encoder = job.encoder(params.crf)
        write = job.ffmpeg(lambda out: builder(params, checked, out, encoder))
        streams = stream_choice([(s.probe, _kept(s, sound)) for s in job.sources])
        data = encoder.data() | {"streams": streams}
        return job.produce(formats.video_suffix(job.output_path), write, data)

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
    overlay = None if job.overlay is None else _picture(job.overlay)
    if source.probe.is_image:
        suffix = formats.image_suffix(None, job.output_path, source.probe)
        encoder, data = Encoder(LIBX264), None  # a still is not H.264-encoded
    else:
        _video(source)
        suffix = formats.video_suffix(job.output_path)
        encoder = job.encoder(params.crf)
        data = encoder.data()
    if data is not None:
        data["streams"] = stream_choice([(source.probe, _kept(source))])
    write = job.ffmpeg(lambda out: argv.apply_watermark(params, source, out, encoder, overlay))
    return job.produce(suffix, write, data)


def _strip_metadata(job: Job, params: p.NoParams) -> JobResult:
    source = _picture(job.source)
    suffix = formats.same_suffix(job.output_path, job.names[0], source.probe)
    write = job.ffmpeg(lambda out: argv.strip_metadata(source, out))
    if source.probe.is_image:
        return job.produce(suffix, write)
    kept = argv.copied_streams(source)
    return job.produce(suffix, write, {"streams": stream_choice([(source.probe, kept)])})


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

    def write(temp: Path) -> float | None:
        frames.mark_frames(
            argv.decode_frames(source, layout),
            argv.encode_frames(source, layout, str(temp), params),
            layout,
            lambda luma: stego.embed_luma(luma, payload, params.strength),
            job.report,
        )
        return None if still is not None else source.probe.media_duration

    data: dict[str, Any] = {"watermarkId": payload.hex()}
    if still is None:
        streams = stream_choice([(source.probe, _kept(source))])
        data |= Encoder(LIBX264).data() | {"streams": streams}
    return job.produce(suffix, write, data)


def _scene_detect(job: Job, params: p.SceneDetectParams) -> JobResult:
    source = _video(job.source)
    scores = job.scratch / "scenes.txt"
    run(argv.scene_detect(params, source, str(scores)), job.report)
    text = scores.read_text() if scores.exists() else ""
    scenes = [{"time": s.time, "score": s.score} for s in parse_scenes(text)]
    return JobResult(data={"threshold": params.threshold, "scenes": scenes})


def _validate(job: Job, params: p.NoParams) -> JobResult:
    """The probe's report, after decoding every stream to the end without a complaint."""
    source = job.source
    reached = run(argv.decode_all(source), job.report)
    declared = source.probe.media_duration
    if not source.probe.is_image:
        _check_length(reached, declared)
    report = probe_report(source.probe)
    if reached is not None and not source.probe.is_image:
        report["decodedDuration"] = round(reached, 3)
    return JobResult(data=report)


Op = Operation
Handler = Callable[[Job, Any], JobResult]
# Each operation's handler, and the kinds of input it opens (refused before any probe).
HandlerTable = dict[Operation, tuple[Handler, frozenset[Kind]]]
HANDLERS: HandlerTable = {
    Op.CONVERT_IMAGE: (_image(argv.convert_image), STILLS),
    Op.RESIZE_IMAGE: (_image(argv.resize_image), STILLS),
    Op.CROP_IMAGE: (_image(argv.crop_image), STILLS),
    Op.RESIZE_VIDEO: (_h264(_one_video, argv.resize_video), VIDEOS),
    Op.CROP_VIDEO: (_h264(_one_video, argv.crop_video), VIDEOS),
    Op.COMPRESS_VIDEO: (_h264(_one_video, argv.compress_video), VIDEOS),
    Op.REENCODE_STREAMING: (_h264(_one_video, argv.reencode_streaming), VIDEOS),
    Op.APPLY_WATERMARK: (_apply_watermark, PICTURES),
    Op.APPLY_STEGANOGRAPHIC_WATERMARK: (_steganographic_watermark, PICTURES),
    Op.CREATE_TEASER: (_h264(_one_video, argv.create_teaser), VIDEOS),
    Op.STRIP_METADATA: (_strip_metadata, PICTURES),
    Op.THUMBNAIL_GENERATE: (_image(argv.thumbnail, check=_picture), PICTURES),
    Op.COMPILE_GIF: (_compile_gif, VIDEOS),
    Op.COMPILE_CONCAT: (_h264(_videos, argv.compile_concat), VIDEOS),
    Op.COMPILE_QUAD: (_h264(_videos, argv.compile_quad, sound=False), VIDEOS),
    Op.SCENE_DETECT: (_scene_detect, VIDEOS),
    Op.VALIDATE: (_validate, PICTURES),
}


def on_video(handler: Callable[[Job, Source, Any], JobResult]) -> Handler:
    """The handler of an operation in its own module, given the job's checked video."""
    return lambda job, params: handler(job, _video(job.source), params)
