"""FFmpeg argv for every operation: pure functions of params, probes and paths.

Nothing here runs a process or touches a file; each builder returns a
:class:`Command`: the argv list (built with ffmpeg-python, never a shell
string) and the output's expected duration, the progress denominator.
A user's file is always opened the one way :func:`probe.input_options` says
(its sniffed demuxer pinned, plain files only, a pixel ceiling) and named
``file:/abs/path``, so FFmpeg never reads a name as a protocol (``concat:``...),
a pattern (``%d``) or a playlist. Inputs must have distinct paths:
ffmpeg-python merges identical input nodes into one (the caller links a
repeated input under a second name).

Longer than most modules on purpose: every command is assembled from the same
few private pieces (``_input``/``_open``, ``_still``, ``_movie``, ``_scale``,
``_letterbox``), and keeping the builders beside them keeps those private
instead of making them a public API for two modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

import ffmpeg

from mediajobs.catalog import params as p
from mediajobs.catalog.params import FitMode, Position
from mediajobs.worker.containers import Container
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.formats import FASTSTART_SUFFIXES, image_codec_args, suffix
from mediajobs.worker.gpu import LIBX264, Encoder
from mediajobs.worker.probe import Probe, Stream, file_url, input_options

FFMPEG = "ffmpeg"
# Quiet except for errors (their tail classifies a failure); progress as key=value on stdout.
QUIET = ["-hide_banner", "-nostdin", "-loglevel", "error", "-nostats"]
PROGRESS = ["-progress", "pipe:1"]

FADE_S = 0.5
# Quality of stills re-encoded by operations without a quality param (watermark, strip).
STILL_QUALITY = 92
AUDIO_KBPS = 128  # AAC bitrate where the operation has no audioBitrate param
AUDIO_RATE = 48000  # concat normalises every segment's sound to this, stereo
MAX_GRID_FPS = Fraction(60)
DEFAULT_FPS = Fraction(25)


class Graph(Protocol):
    """The part of ffmpeg-python's (untyped) stream and node API used here."""

    def filter(self, filter_name: str, *args: object, **kwargs: object) -> Graph: ...

    def filter_multi_output(self, filter_name: str, *args: object, **kwargs: object) -> Graph: ...

    def __getitem__(self, label: str | int) -> Graph: ...

    @property
    def node(self) -> Graph: ...

    def get_args(self) -> list[str]: ...


Filter = Callable[[Graph], Graph]


@dataclass(frozen=True)
class Source:
    """One input: its local path (absolute), its sniffed container, what ffprobe said."""

    path: str
    probe: Probe
    container: Container
    max_pixels: int  # no decoder allocates a larger frame

    @property
    def video(self) -> Stream:
        """The picture stream; operations check for one before building."""
        stream = self.probe.video
        if stream is None:
            raise InvalidInput("input has no video stream")
        return stream


@dataclass(frozen=True)
class Command:
    argv: list[str]
    duration: float | None  # seconds of output expected: the progress denominator


def command(output: Graph, duration: float | None, *, progress: bool = True) -> Command:
    """ffmpeg-python's output node as an argv, global options first."""
    return Command(
        [FFMPEG, *QUIET, *(PROGRESS if progress else []), "-y", *output.get_args()], duration
    )


def even(n: int) -> int:
    """H.264 4:2:0 needs even dimensions: round down, never below 2."""
    return max(2, n - n % 2)


# ---------------------------------------------------------------- shared pieces


def _input(source: Source, **options: object) -> Graph:
    """SOURCE opened as every user file is: pinned demuxer, files only, pixel ceiling."""
    pinned = input_options(source.container, source.max_pixels)
    node: Graph = ffmpeg.input(file_url(source.path), **pinned, **options)
    return node


def _open(source: Source, **options: object) -> tuple[Graph, Graph | None]:
    """The input's picture stream and its first sound stream (None when silent)."""
    node = _input(source, **options)
    sound = source.probe.audio
    return node[str(source.video.index)], node[str(sound.index)] if sound else None


def _still(picture: Graph, out: str, quality: int, **extra: object) -> Command:
    """One picture into an image file, its encoder chosen by OUT's suffix."""
    options = {"frames:v": 1, "update": 1, "f": "image2", **image_codec_args(out, quality)}
    return command(ffmpeg.output(picture, out, **options, **extra), None)


def _aac(kbps: int = AUDIO_KBPS) -> dict[str, Any]:
    return {"c:a": "aac", "b:a": f"{kbps}k"}


def _movie(
    picture: Graph,
    audio: Graph | None,
    out: str,
    *,
    video_args: dict[str, Any],
    audio_args: dict[str, Any],
    duration: float | None,
    more: Sequence[Graph] = (),
) -> Command:
    """Picture (and sound, when there is some, and MORE tracks) into OUT's container."""
    options = dict(video_args)
    if audio is not None:
        options |= audio_args
    if suffix(out) in FASTSTART_SUFFIXES:
        options["movflags"] = "+faststart"  # moov before mdat: playback starts before download ends
    streams = [picture, *([] if audio is None else [audio]), *more]
    return command(ffmpeg.output(*streams, out, **options), duration)


def _scale(
    picture: Graph, width: int | None, height: int | None, mode: FitMode, *, video: bool
) -> Graph:
    """Fit inside width x height keeping the aspect, or fill it and centre-crop the rest."""
    if video:
        width, height = (even(width) if width else None), (even(height) if height else None)
    if width is None or height is None:
        free = -2 if video else -1  # keep the aspect; -2 also keeps it even
        return picture.filter("scale", width or free, height or free)
    divisible = {"force_divisible_by": 2} if video else {}
    if mode is FitMode.FILL:
        cover = picture.filter(
            "scale", width, height, force_original_aspect_ratio="increase", **divisible
        )
        return cover.filter("crop", width, height)
    return picture.filter(
        "scale", width, height, force_original_aspect_ratio="decrease", **divisible
    )


def _letterbox(picture: Graph, width: int, height: int, fps: Fraction | int) -> Graph:
    """Fit inside width x height, pad black, one frame rate: every cell or segment alike."""
    fitted = _scale(picture, width, height, FitMode.FIT, video=True)
    padded = fitted.filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color="black")
    return padded.filter("setsar", 1).filter("fps", str(fps))


def _crop(picture: Graph, box: p.CropBox, source: Source, *, video: bool) -> Graph:
    """Crop to BOX, which must lie inside the displayed picture (even-sized for video)."""
    width, height = source.video.display_width, source.video.display_height
    if box.left + box.width > width or box.top + box.height > height:
        raise InvalidInput(
            f"crop box {box.width}x{box.height}+{box.left}+{box.top}"
            f" exceeds the {width}x{height} input"
        )
    if video:
        return picture.filter("crop", even(box.width), even(box.height), box.left, box.top)
    # exact: crop would otherwise round a 4:2:0 still's box to even numbers
    return picture.filter("crop", box.width, box.height, box.left, box.top, exact=1)


def _place(position: Position, margin: int, names: tuple[str, str, str, str]) -> dict[str, str]:
    """x/y expressions putting a (w, h) box in a (W, H) frame; NAMES are the filter's words."""
    w, h, frame_w, frame_h = names
    near_x, near_y = str(margin), str(margin)
    far_x, far_y = f"{frame_w}-{w}-{margin}", f"{frame_h}-{h}-{margin}"
    x, y = {
        Position.TOP_LEFT: (near_x, near_y),
        Position.TOP_RIGHT: (far_x, near_y),
        Position.BOTTOM_LEFT: (near_x, far_y),
        Position.BOTTOM_RIGHT: (far_x, far_y),
        Position.CENTER: (f"({frame_w}-{w})/2", f"({frame_h}-{h})/2"),
    }[position]
    return {"x": x, "y": y}


def _clip_length(source: Source, start: float, length: float) -> float:
    """How much of LENGTH seconds from START the input really has."""
    total = source.probe.media_duration
    if total is not None and start >= total:
        raise InvalidInput(f"start {start:g} s is past the end of the {total:.3g} s input")
    return length if total is None else min(length, total - start)


def _decode_options(source: Source, encoder: Encoder) -> dict[str, object]:
    return dict(encoder.input_args(source.video.codec_name))


# ---------------------------------------------------------------- stills


def convert_image(params: p.ConvertImageParams, source: Source, out: str) -> Command:
    picture, _ = _open(source)
    return _still(picture, out, params.quality)


def resize_image(params: p.ResizeImageParams, source: Source, out: str) -> Command:
    picture, _ = _open(source)
    scaled = _scale(picture, params.width, params.height, params.mode, video=False)
    return _still(scaled, out, params.quality)


def crop_image(params: p.CropImageParams, source: Source, out: str) -> Command:
    picture, _ = _open(source)
    return _still(_crop(picture, params.box, source, video=False), out, params.quality)


def thumbnail(params: p.ThumbnailGenerateParams, source: Source, out: str) -> Command:
    """One frame at params.timestamp (default: a quarter in), params.width wide."""
    duration = source.probe.media_duration
    at = params.timestamp
    if source.probe.is_image or not duration:
        at = None  # a still has one frame; an unknown length has no quarter
    elif at is None:
        at = duration / 4
    elif at >= duration:
        raise InvalidInput(f"timestamp {at:g} s is past the end of the {duration:.3g} s input")
    picture, _ = _open(source, **({"ss": f"{at:.3f}"} if at else {}))
    scaled = _scale(picture, params.width, None, FitMode.FIT, video=False)
    return _still(scaled, out, params.quality)


# ---------------------------------------------------------------- video


def _transcode(
    source: Source,
    out: str,
    encoder: Encoder,
    video_args: dict[str, Any],
    picture_filter: Filter = lambda picture: picture,
    *,
    audio_kbps: int = AUDIO_KBPS,
) -> Command:
    """The shape of the one-input video operations: filter the picture, re-encode both."""
    picture, audio = _open(source, **_decode_options(source, encoder))
    return _movie(
        picture_filter(picture),
        audio,
        out,
        video_args=video_args,
        audio_args=_aac(audio_kbps),
        duration=source.probe.media_duration,
    )


def resize_video(
    params: p.ResizeVideoParams, source: Source, out: str, encoder: Encoder
) -> Command:
    def fit(picture: Graph) -> Graph:
        return _scale(picture, params.width, params.height, params.mode, video=True)

    return _transcode(source, out, encoder, encoder.video_args(params.preset, params.crf), fit)


def crop_video(params: p.CropVideoParams, source: Source, out: str, encoder: Encoder) -> Command:
    def crop(picture: Graph) -> Graph:
        return _crop(picture, params.box, source, video=True)

    return _transcode(source, out, encoder, encoder.video_args(params.preset, params.crf), crop)


def compress_video(
    params: p.CompressVideoParams, source: Source, out: str, encoder: Encoder
) -> Command:
    """By CRF (quality) or by a target bitrate (size)."""
    video_args = encoder.video_args(params.preset, params.crf, params.target_bitrate)
    return _transcode(source, out, encoder, video_args, audio_kbps=params.audio_bitrate)


def reencode_streaming(
    params: p.ReencodeStreamingParams, source: Source, out: str, encoder: Encoder
) -> Command:
    """seeds/003's command: H.264 crf/preset, maxrate targetBitrate, bufsize 2x, AAC, faststart."""
    video_args = encoder.video_args(params.preset, params.crf, params.target_bitrate)
    return _transcode(source, out, encoder, video_args, audio_kbps=params.audio_bitrate)


def create_teaser(
    params: p.CreateTeaserParams, source: Source, out: str, encoder: Encoder
) -> Command:
    """params.duration seconds from params.start, optionally faded in and out and narrowed."""
    length = _clip_length(source, params.start, params.duration)
    seek = {"ss": f"{params.start:.3f}", "t": f"{length:.3f}"}
    picture, audio = _open(source, **seek, **_decode_options(source, encoder))
    if params.width is not None:
        picture = _scale(picture, params.width, None, FitMode.FIT, video=True)
    if params.fade:
        fade_out = f"{max(0.0, length - FADE_S):.3f}"
        picture = picture.filter("fade", t="in", st=0, d=FADE_S).filter(
            "fade", t="out", st=fade_out, d=FADE_S
        )
        if audio is not None:
            audio = audio.filter("afade", t="in", st=0, d=FADE_S).filter(
                "afade", t="out", st=fade_out, d=FADE_S
            )
    return _movie(
        picture,
        audio,
        out,
        video_args=encoder.video_args(params.preset, params.crf),
        audio_args=_aac(),
        duration=length,
    )


def compile_gif(params: p.CompileGifParams, source: Source, out: str) -> Command:
    """A palette made for this clip (palettegen), then applied (paletteuse): no banding."""
    length = _clip_length(source, params.start, params.duration)
    picture, _ = _open(source, ss=f"{params.start:.3f}", t=f"{length:.3f}")
    frames = picture.filter("fps", params.fps).filter("scale", params.width, -1, flags="lanczos")
    split = frames.filter_multi_output("split")
    palette = split[0].filter("palettegen", stats_mode="diff")
    gif = ffmpeg.filter([split[1], palette], "paletteuse", dither="sierra2_4a")
    return command(ffmpeg.output(gif, out, f="gif", loop=0), length)


def grid_rate(sources: Sequence[Source]) -> Fraction:
    """One frame rate for a grid: the fastest input's, at most 60 (params have no fps)."""
    rates = [s.video.frame_rate for s in sources if s.video.frame_rate]
    return min(max(rates, default=DEFAULT_FPS), MAX_GRID_FPS)


def compile_quad(
    params: p.CompileQuadParams, sources: Sequence[Source], out: str, encoder: Encoder
) -> Command:
    """Four inputs in a 2x2 grid (xstack) of params.width x params.height; picture only.

    Each cell is letterboxed to a quarter of the frame; the grid lasts as long as
    the longest input (the others hold their last frame).
    """
    width, height = even(params.width), even(params.height)
    cell_w, cell_h = even(width // 2), even(height // 2)
    rate = grid_rate(sources)
    cells = [
        _letterbox(_open(s, **_decode_options(s, encoder))[0], cell_w, cell_h, rate)
        for s in sources
    ]
    grid: Graph = ffmpeg.filter(cells, "xstack", inputs=len(cells), layout="0_0|w0_0|0_h0|w0_h0")
    if (2 * cell_w, 2 * cell_h) != (width, height):
        grid = grid.filter("pad", width, height, "(ow-iw)/2", "(oh-ih)/2", color="black")
    longest = max((s.probe.media_duration or 0.0 for s in sources), default=0.0)
    return _movie(
        grid,
        None,
        out,
        video_args=encoder.video_args(params.preset, params.crf),
        audio_args={},
        duration=longest or None,
    )


def compile_concat(
    params: p.CompileConcatParams,
    sources: Sequence[Source],
    out: str,
    encoder: Encoder,
    *,
    sound: bool | None = None,
) -> Command:
    """Inputs one after another, each letterboxed to width x height at params.fps.

    Sound is resampled to 48 kHz stereo and padded or trimmed to its segment's
    length; an input without sound contributes silence, so picture and sound
    stay in step. When no input has sound the output is picture only, unless
    SOUND says otherwise (a chunk of a longer compilation: every chunk alike).
    """
    width, height = even(params.width), even(params.height)
    with_audio = any(s.probe.audio for s in sources) if sound is None else sound
    segments: list[Graph] = []
    total = 0.0
    for number, source in enumerate(sources):
        length = source.video.duration or source.probe.media_duration or 0.0
        total += length
        picture, audio = _open(source, **_decode_options(source, encoder))
        segments.append(_letterbox(picture, width, height, params.fps))
        if with_audio:
            if audio is None:
                # named per segment: ffmpeg-python merges equal inputs (two silent inputs of
                # one length would share one silence, which FFmpeg cannot feed twice)
                silence = f"anullsrc@silence{number}=r={AUDIO_RATE}:cl=stereo"
                audio = ffmpeg.input(silence, f="lavfi", t=f"{length:.3f}")["a"]
            segments.append(
                audio.filter("aresample", AUDIO_RATE)
                .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
                .filter("apad")
                .filter("atrim", end=f"{length:.3f}")
            )
    joined: Graph = ffmpeg.concat(*segments, v=1, a=int(with_audio)).node
    return _movie(
        joined[0],
        joined[1] if with_audio else None,
        out,
        video_args=encoder.video_args(params.preset, params.crf),
        audio_args=_aac(),
        duration=total or None,
    )


# ---------------------------------------------------------------- video or still


def apply_watermark(
    params: p.ApplyWatermarkParams,
    source: Source,
    out: str,
    encoder: Encoder,
    overlay: Source | None,
) -> Command:
    """Text (drawtext) or an image (overlay) at a corner or the centre, with opacity.

    OVERLAY is the watermark image when params.image is set. A still gives a
    still in its own format; a video is re-encoded as H.264.
    """
    still = source.probe.is_image
    picture, audio = _open(source, **({} if still else _decode_options(source, encoder)))
    if overlay is None:
        marked = picture.filter(
            "drawtext",
            text=params.text,
            expansion="none",  # literal text: no %{...} expansion
            fontsize=params.font_size,
            fontcolor=f"white@{params.opacity:g}",
            borderw=max(1, params.font_size // 16),
            bordercolor=f"black@{params.opacity:g}",
            **_place(params.position, params.margin, ("text_w", "text_h", "w", "h")),
        )
    else:
        mark, _ = _open(overlay)
        faded = mark.filter("format", "rgba").filter("colorchannelmixer", aa=f"{params.opacity:g}")
        names = ("overlay_w", "overlay_h", "main_w", "main_h")
        marked = ffmpeg.overlay(
            picture, faded, format="auto", **_place(params.position, params.margin, names)
        )
    if still:
        return _still(marked, out, STILL_QUALITY)
    return _movie(
        marked,
        audio,
        out,
        video_args=encoder.video_args(params.preset, params.crf),
        audio_args=_aac(),
        duration=source.probe.media_duration,
    )


def copied_streams(source: Source) -> set[int]:
    """The streams strip_metadata copies: every picture and sound track, no cover art."""
    return {
        s.index
        for s in source.probe.streams
        if s.codec_type == "audio" or (s.codec_type == "video" and not s.attached_pic)
    }


def strip_metadata(source: Source, out: str) -> Command:
    """Every tag gone: container and stream tags, chapters, EXIF, GPS.

    Every picture and sound track is stream-copied; data and subtitle tracks
    (where cameras keep GPS) and cover art are left out. A still's EXIF lives
    inside its bitstream, which a copy would keep, so stills are decoded and
    re-encoded (PNG losslessly, JPEG/WebP at STILL_QUALITY). bitexact stops
    FFmpeg adding its own encoder tags.
    """
    picture, audio = _open(source)
    clean = {"map_metadata": -1, "map_chapters": -1, "fflags": "+bitexact", "flags": "+bitexact"}
    if source.probe.is_image:
        return _still(picture, out, STILL_QUALITY, **clean)
    node = _input(source)
    first = {
        source.video.index,
        *([] if source.probe.audio is None else [source.probe.audio.index]),
    }
    more = [node[str(i)] for i in sorted(copied_streams(source) - first)]
    return _movie(
        picture,
        audio,
        out,
        video_args=clean | {"c:v": "copy"},
        audio_args={"c:a": "copy"},
        duration=source.probe.media_duration,
        more=more,
    )


def scene_detect(params: p.SceneDetectParams, source: Source, scores_file: str) -> Command:
    """Every frame's scene-change score; those above the threshold printed to SCORES_FILE.

    Every frame passes through (``gte(scene,0)`` only computes the score), so
    progress moves smoothly; the metadata filter prints the frames that pass.
    """
    picture, _ = _open(source)
    scored = picture.filter("select", "gte(scene,0)").filter(
        "metadata",
        mode="print",
        key="lavfi.scene_score",
        value=f"{params.threshold:g}",
        function="greater",
        file=scores_file,
    )
    return command(ffmpeg.output(scored, "-", f="null"), source.probe.media_duration)


def decode_all(source: Source) -> Command:
    """Every picture and sound stream decoded to nothing: validate's full read of the file."""
    node = _input(source)
    streams = [
        node[str(s.index)] for s in source.probe.streams if s.codec_type in ("video", "audio")
    ]
    if not streams:
        raise InvalidInput("input has no picture or sound stream")
    return command(ffmpeg.output(*streams, "-", f="null"), source.probe.media_duration)


# ---------------------------------------------------------------- raw frames (invisible watermark)


@dataclass(frozen=True)
class FrameLayout:
    """One raw planar YUV frame; the luma plane comes first, full size."""

    width: int
    height: int
    pix_fmt: str  # yuv420p | yuv444p | yuva444p

    @property
    def luma_size(self) -> int:
        return self.width * self.height

    @property
    def size(self) -> int:
        if self.pix_fmt == "yuv420p":
            chroma = -(-self.width // 2) * -(-self.height // 2)  # odd sizes round up
            return self.luma_size + 2 * chroma
        return {"yuv444p": 3, "yuva444p": 4}[self.pix_fmt] * self.luma_size


def frame_rate(source: Source) -> Fraction:
    return source.video.frame_rate or DEFAULT_FPS


def decode_frames(source: Source, layout: FrameLayout) -> Command:
    """The input's pictures as raw frames on stdout (a constant rate for video): no progress."""
    picture, _ = _open(source)
    options: dict[str, object] = {"f": "rawvideo", "pix_fmt": layout.pix_fmt}
    if not source.probe.is_image:
        options |= {"fps_mode": "cfr", "r": str(frame_rate(source))}
    return command(ffmpeg.output(picture, "pipe:1", **options), None, progress=False)


def encode_frames(
    source: Source,
    layout: FrameLayout,
    out: str,
    params: p.ApplySteganographicWatermarkParams,
) -> Command:
    """Raw frames from stdin back into OUT: a still in its format, or H.264 + the input's sound.

    The sound is copied untouched; the picture always goes through libx264 at
    params.crf (the quality the watermark's strength is tuned for).
    """
    raw: Graph = ffmpeg.input(
        "pipe:0",
        f="rawvideo",
        pix_fmt=layout.pix_fmt,
        s=f"{layout.width}x{layout.height}",
        framerate=str(frame_rate(source)),
    )
    if source.probe.is_image:
        return _still(raw["0"], out, params.quality)
    sound = source.probe.audio
    audio: Graph | None = _input(source)[str(sound.index)] if sound else None
    return _movie(
        raw["0"],
        audio,
        out,
        video_args=Encoder(LIBX264).video_args(params.preset, params.crf),
        audio_args={"c:a": "copy"},
        duration=source.probe.media_duration,
    )


# ---------------------------------------------------------------- pieces for builders elsewhere


def open_input(
    source: Source, encoder: Encoder | None = None, **options: object
) -> tuple[Graph, Graph | None]:
    """SOURCE's picture and first sound stream, opened pinned (decoded by ENCODER's GPU)."""
    decode = _decode_options(source, encoder) if encoder is not None else {}
    return _open(source, **decode, **options)


def h264_movie(
    picture: Graph,
    audio: Graph | None,
    out: str,
    encoder: Encoder,
    *,
    settings: tuple[p.Preset, int | None],
    duration: float | None,
) -> Command:
    """Picture (H.264 by ENCODER at SETTINGS' preset and CRF) and sound (AAC) into OUT."""
    preset, crf = settings
    video_args = encoder.video_args(preset, crf)
    return _movie(picture, audio, out, video_args=video_args, audio_args=_aac(), duration=duration)
