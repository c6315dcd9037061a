"""Faces in sampled frames: FFmpeg decodes (pinned, like every input), OpenCV's cascade looks.

FFmpeg thins the picture to SAMPLE_FPS, shrinks it to at most SAMPLE_HEIGHT
lines of grey and writes raw frames to its stdout; each is handed to the
frontal-face Haar cascade that ships inside ``opencv-python-headless``
(``cv2.data.haarcascades``: nothing is downloaded at run time). OpenCV never
opens the user's file itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import ffmpeg

from mediajobs.worker.argv import Command, Source, command, open_input
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.reframe.path import Box, even
from mediajobs.worker.run import Ffmpeg, Report

SAMPLE_FPS = 5
SAMPLE_HEIGHT = 360  # a face 20 lines tall here is 60 in 1080p: closer than a wide shot
CASCADE = "haarcascade_frontalface_default.xml"
MIN_FACE = 20  # pixels of the sampled frame
NEIGHBOURS = 5  # overlapping hits a face needs: fewer finds more, and more that are not faces


@dataclass(frozen=True)
class Sampling:
    """The grey frames FFmpeg writes, and how they map back to the picture."""

    width: int
    height: int
    scale: float  # picture pixels per sampled pixel

    @property
    def frame_bytes(self) -> int:
        return self.width * self.height


def sampling(width: int, height: int) -> Sampling:
    """Frames of at most SAMPLE_HEIGHT lines for a WIDTH x HEIGHT picture."""
    lines = min(SAMPLE_HEIGHT, height)
    scale = height / lines
    return Sampling(even(width / scale), even(lines), scale)


def sample_command(source: Source, frames: Sampling) -> Command:
    """SOURCE's picture as grey raw frames, SAMPLE_FPS a second from t = 0, on stdout."""
    picture, _ = open_input(source)
    grey = (
        picture.filter("setpts", "PTS-STARTPTS")
        .filter("fps", SAMPLE_FPS)
        .filter("scale", frames.width, frames.height)
        .filter("format", "gray")
    )
    output = ffmpeg.output(grey, "pipe:1", f="rawvideo", pix_fmt="gray")
    return command(output, None, progress=False)


def _frames(cmd: Command, size: int) -> Iterator[bytes]:
    with Ffmpeg(cmd, raw_stdout=True) as decoder:
        pipe = decoder.proc.stdout
        if pipe is None:
            raise RuntimeError("FFmpeg's stdout is missing")
        while frame := pipe.read(size):  # a buffered read returns a whole frame until the end
            if len(frame) < size:
                decoder.wait()  # the decoder's own error, if it has one
                raise InvalidInput("input is truncated or corrupt")
            yield frame
        decoder.wait()


def detect(source: Source, report: Report, expected: int) -> list[list[Box]]:
    """The faces in each sampled frame of SOURCE, in the picture's pixels.

    REPORT hears the share of the EXPECTED frames done, 0-100.
    """
    # OpenCV and numpy load only for this operation.
    import cv2  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415

    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {CASCADE} did not load")
    video = source.video
    frames = sampling(video.display_width, video.display_height)
    found: list[list[Box]] = []
    for raw in _frames(sample_command(source, frames), frames.frame_bytes):
        grey = np.frombuffer(raw, dtype=np.uint8).reshape(frames.height, frames.width)
        hits = cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=NEIGHBOURS, minSize=(MIN_FACE, MIN_FACE)
        )
        scale = frames.scale
        found.append([(x * scale, y * scale, w * scale, h * scale) for x, y, w, h in hits])
        report(min(100, 100 * len(found) // max(1, expected)))
    return found
