"""The commands that make files from chosen windows: one window cut out, or several joined.

A window cut out is the input opened at its start (``-ss`` before ``-i``:
FFmpeg seeks to the keyframe before and decodes from there, frame-accurate)
for its length.

Joined windows are made in two steps, so that memory stays flat however many
windows there are. First each crossfade is rendered on its own into a short
lossless file (the last FADE seconds of one window and the first of the next,
``xfade`` + ``acrossfade``). Then one decode of the input, from the first
window's start to the last one's end, is split and trimmed into each window's
body (the window less its crossfaded ends), and ``concat`` plays body,
crossfade, body... in order, each brought to one frame rate, pixel format and
sound layout. Measured at 1080p (FFmpeg 5.1): an ``xfade`` chain over the
whole windows held frames of every window at once (6.3 GB for 30 windows),
and ``xfade`` fed from a split input stalls; split + trim + concat stays
at about 80 MB whatever the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ffmpeg

from mediajobs.catalog.params import Preset
from mediajobs.worker.argv import (
    AUDIO_RATE,
    Command,
    Graph,
    Source,
    command,
    frame_rate,
    h264_movie,
    open_input,
)
from mediajobs.worker.gpu import Encoder
from mediajobs.worker.highlights.windows import Window, joined_length

Settings = tuple[Preset, int | None]  # the encoder's preset and CRF
LOSSLESS = {"c:v": "libx264", "qp": 0, "preset": "ultrafast", "pix_fmt": "yuv420p"}
PCM = {"c:a": "pcm_s16le"}
FADE_SUFFIX = ".mkv"  # a crossfade's file: lossless H.264 and PCM sound


def cut(
    source: Source, window: Window, out: str, *, encoder: Encoder, settings: Settings
) -> Command:
    """WINDOW of SOURCE re-encoded into OUT."""
    seek = {"ss": f"{window.start:.3f}", "t": f"{window.length:.3f}"}
    picture, sound = open_input(source, encoder, **seek)
    return h264_movie(picture, sound, out, encoder, settings=settings, duration=window.length)


def _alike(picture: Graph, rate: str) -> Graph:
    """A picture segment as concat and xfade need every one: one rate, format and aspect."""
    return picture.filter("fps", rate).filter("format", "yuv420p").filter("setsar", 1)


def _sound_alike(sound: Graph, seconds: float) -> Graph:
    """A sound segment at 48 kHz stereo lasting exactly SECONDS (padded with silence)."""
    return (
        sound.filter("asetpts", "PTS-STARTPTS")
        .filter("aresample", AUDIO_RATE)
        .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
        .filter("apad", whole_dur=f"{seconds:.3f}")
        .filter("atrim", duration=f"{seconds:.3f}")
    )


def crossfade(source: Source, before: Window, after: Window, fade: float, out: str) -> Command:
    """The last FADE seconds of BEFORE fading into the first of AFTER, losslessly into OUT."""
    rate = str(frame_rate(source))
    ends = []
    for start in (before.end - fade, after.start):
        picture, sound = open_input(source, ss=f"{start:.3f}", t=f"{fade:.3f}")
        ends.append((_alike(picture, rate), sound))
    (picture_a, sound_a), (picture_b, sound_b) = ends
    faded = ffmpeg.filter(
        [picture_a, picture_b], "xfade", transition="fade", duration=fade, offset=0
    )
    streams = [faded]
    if sound_a is not None and sound_b is not None:
        pair = [_sound_alike(sound_a, fade), _sound_alike(sound_b, fade)]
        streams.append(ffmpeg.filter(pair, "acrossfade", d=fade))
    return command(ffmpeg.output(*streams, out, **LOSSLESS, **PCM), fade)


@dataclass(frozen=True)
class Body:
    """A window less its crossfaded ends, in seconds from the first window's start."""

    start: float
    end: float

    @property
    def length(self) -> float:
        return self.end - self.start


def bodies(windows: Sequence[Window], fade: float) -> list[Body]:
    """What each window contributes outside the crossfades on either side of it."""
    origin, last = windows[0].start, len(windows) - 1
    return [
        Body(
            w.start - origin + (fade if k > 0 else 0.0),
            w.end - origin - (fade if k < last else 0.0),
        )
        for k, w in enumerate(windows)
    ]


def join(
    source: Source,
    windows: Sequence[Window],
    fades: Sequence[Source],
    out: str,
    encoder: Encoder,
    *,
    fade: float,
    settings: Settings,
) -> Command:
    """WINDOWS of SOURCE in order with the crossfade files FADES between them, into OUT."""
    rate = str(frame_rate(source))
    parts = bodies(windows, fade)
    picture, sound = open_input(source, encoder, ss=f"{windows[0].start:.3f}")
    pictures = _copies(picture.filter("setpts", "PTS-STARTPTS"), len(parts), "split")
    sounds = (
        []
        if sound is None
        else _copies(sound.filter("asetpts", "PTS-STARTPTS"), len(parts), "asplit")
    )
    segments: list[Graph] = []
    for k, part in enumerate(parts):
        trimmed = pictures[k].filter("trim", start=part.start, end=part.end)
        segments.append(_alike(trimmed.filter("setpts", "PTS-STARTPTS"), rate))
        if sounds:
            heard = sounds[k].filter("atrim", start=part.start, end=part.end)
            segments.append(_sound_alike(heard, part.length))
        if k < len(fades):
            faded, faded_sound = open_input(fades[k], threads=1)
            segments.append(_alike(faded, rate))
            if sounds and faded_sound is not None:
                segments.append(_sound_alike(faded_sound, fade))
    joined: Graph = ffmpeg.concat(*segments, v=1, a=int(bool(sounds))).node
    length = joined_length(windows, fade)
    heard_all = joined[1] if sounds else None
    return h264_movie(joined[0], heard_all, out, encoder, settings=settings, duration=length)


def _copies(stream: Graph, count: int, name: str) -> list[Graph]:
    """COUNT copies of STREAM (``split`` or ``asplit``), or STREAM itself for one."""
    if count == 1:
        return [stream]
    copies = stream.filter_multi_output(name, count)
    return [copies[i] for i in range(count)]
