"""The invisible watermark's pipeline: decode to raw frames, mark each luma plane, re-encode.

One FFmpeg decodes the input to raw planar YUV on its stdout; Python marks
each frame's Y plane (``stego.embed_luma``) and writes the frame to a second
FFmpeg's stdin, which encodes it (and copies the input's sound). Progress
comes from the encoder. Either process failing fails the job with the
encoder's or decoder's own classified error.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from mediajobs.catalog.params import ImageFormat
from mediajobs.worker.argv import Command, FrameLayout, Source
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.formats import has_alpha
from mediajobs.worker.run import Ffmpeg, Report

Luma = npt.NDArray[np.uint8]
Mark = Callable[[Luma], Luma]


def frame_layout(source: Source, still: ImageFormat | None) -> FrameLayout:
    """4:2:0 for video and JPEG; 4:4:4 (with alpha when there is some) for PNG and WebP
    stills, whose colour detail and transparency must survive the round trip."""
    picture = source.video
    pix_fmt = "yuv420p"
    if still in (ImageFormat.PNG, ImageFormat.WEBP):
        pix_fmt = "yuva444p" if has_alpha(picture) else "yuv444p"
    return FrameLayout(picture.display_width, picture.display_height, pix_fmt)


def mark_frames(
    decode: Command, encode: Command, layout: FrameLayout, mark: Mark, report: Report
) -> None:
    """Run decode → MARK on every luma plane → encode, to the end."""
    with Ffmpeg(decode, raw_stdout=True) as decoder, Ffmpeg(encode, report, stdin=True) as encoder:
        frames, sink = decoder.proc.stdout, encoder.proc.stdin
        if frames is None or sink is None:
            raise RuntimeError("FFmpeg pipes are missing")
        try:
            # a buffered read returns a whole frame unless the stream has ended
            while frame := bytearray(frames.read(layout.size)):
                if len(frame) < layout.size:
                    decoder.wait()  # the decoder's own error, if it has one
                    raise InvalidInput("input is truncated or corrupt")
                pixels = np.frombuffer(frame, dtype=np.uint8)
                luma = pixels[: layout.luma_size].reshape(layout.height, layout.width)
                pixels[: layout.luma_size] = mark(luma).ravel()
                sink.write(frame)
            sink.close()
        except BrokenPipeError:
            encoder.wait()  # the encoder died: its own error says why
            raise RuntimeError("the encoder stopped reading frames") from None
        decoder.wait()
        encoder.wait()
