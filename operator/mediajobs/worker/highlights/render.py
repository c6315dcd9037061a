"""The commands that make files from chosen windows: one window cut out, or several joined.

Each window is its own input of the same file, opened at its start (``-ss``
before ``-i``: FFmpeg seeks to the keyframe before and decodes from there,
frame-accurate), so a digest of a long video decodes only the windows it keeps.
Joined windows are brought to one frame rate, pixel format and sound layout,
then crossfaded one into the next (``xfade`` for the picture, ``acrossfade``
for the sound).
"""

from __future__ import annotations

from collections.abc import Sequence

import ffmpeg

from mediajobs.catalog.params import Preset
from mediajobs.worker.argv import (
    AUDIO_RATE,
    Command,
    Graph,
    Source,
    frame_rate,
    h264_movie,
    open_input,
)
from mediajobs.worker.gpu import Encoder
from mediajobs.worker.highlights.windows import Window, joined_length

Settings = tuple[Preset, int | None]  # the encoder's preset and CRF


def _window(source: Source, window: Window, encoder: Encoder) -> tuple[Graph, Graph | None]:
    seek = {"ss": f"{window.start:.3f}", "t": f"{window.length:.3f}"}
    return open_input(source, encoder, **seek)


def cut(
    source: Source, window: Window, out: str, *, encoder: Encoder, settings: Settings
) -> Command:
    """WINDOW of SOURCE re-encoded into OUT."""
    picture, sound = _window(source, window, encoder)
    return h264_movie(picture, sound, out, encoder, settings=settings, duration=window.length)


def join(
    source: Source,
    windows: Sequence[Window],
    out: str,
    encoder: Encoder,
    *,
    fade: float,
    settings: Settings,
) -> Command:
    """WINDOWS of SOURCE one after another, each crossfading into the next over FADE seconds."""
    rate = str(frame_rate(source))
    pictures: list[Graph] = []
    sounds: list[Graph] = []
    for window in windows:
        picture, sound = _window(source, window, encoder)
        seconds = f"{window.length:.3f}"
        # xfade needs every input alike: one rate, format, aspect, clock starting at zero
        pictures.append(
            picture.filter("fps", rate)
            .filter("format", "yuv420p")
            .filter("setsar", 1)
            .filter("trim", duration=seconds)
            .filter("setpts", "PTS-STARTPTS")
        )
        if sound is not None:
            sounds.append(
                sound.filter("aresample", AUDIO_RATE)
                .filter("aformat", sample_fmts="fltp", channel_layouts="stereo")
                .filter("apad")  # a window whose sound ends early still lasts its length
                .filter("atrim", duration=seconds)
                .filter("asetpts", "PTS-STARTPTS")
            )
    picture, offset = pictures[0], windows[0].length - fade
    for following, window in zip(pictures[1:], windows[1:], strict=True):
        picture = ffmpeg.filter(
            [picture, following], "xfade", transition="fade", duration=fade, offset=f"{offset:.3f}"
        )
        offset += window.length - fade
    sound_out: Graph | None = sounds[0] if sounds else None
    for following in sounds[1:]:
        sound_out = ffmpeg.filter([sound_out, following], "acrossfade", d=fade)
    length = joined_length(windows, fade)
    return h264_movie(picture, sound_out, out, encoder, settings=settings, duration=length)
