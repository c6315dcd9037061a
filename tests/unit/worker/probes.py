"""Test builders: synthetic probes and sources, no ffprobe needed."""

from __future__ import annotations

from fractions import Fraction

from mediajobs.worker.argv import Source
from mediajobs.worker.containers import JPEG, MOV
from mediajobs.worker.probe import Probe, Stream

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"


def video_probe(
    width: int = 320,
    height: int = 240,
    *,
    duration: float | None = 2.0,
    audio: bool = True,
    rotation: int = 0,
    codec: str = "h264",
    rate: Fraction | None = Fraction(25),
    format_name: str = MP4,
) -> Probe:
    streams = [
        Stream(
            index=0,
            codec_type="video",
            codec_name=codec,
            width=width,
            height=height,
            pix_fmt="yuv420p",
            frame_rate=rate,
            duration=duration,
            rotation=rotation,
        )
    ]
    if audio:
        streams.append(
            Stream(index=1, codec_type="audio", codec_name="aac", sample_rate=48000, channels=2)
        )
    return Probe(format_name, duration, 1000, 8000, tuple(streams), {})


def image_probe(
    width: int = 320,
    height: int = 240,
    *,
    codec: str = "mjpeg",
    format_name: str = "jpeg_pipe",
    pix_fmt: str = "yuvj420p",
    rotation: int = 0,
) -> Probe:
    picture = Stream(
        index=0,
        codec_type="video",
        codec_name=codec,
        width=width,
        height=height,
        pix_fmt=pix_fmt,
        frame_rate=Fraction(25),
        rotation=rotation,
    )
    return Probe(format_name, None, 1000, None, (picture,), {})


MAX_PIXELS = 50_000_000


def source(probe: Probe, path: str = "/media/in/clip.mp4") -> Source:
    return Source(path, probe, JPEG if probe.is_image else MOV, MAX_PIXELS)
