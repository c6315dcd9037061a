"""Opening a file for FFmpeg: sniff its signature, check its kind, probe it pinned.

Every file FFmpeg reads goes through here first: the media volume's inputs,
downloads in the scratch directory, the watermark image, each compilation
input, and the worker's own outputs when it describes them.
"""

from __future__ import annotations

from pathlib import Path

from mediajobs.worker import containers as c
from mediajobs.worker.argv import Source
from mediajobs.worker.budget import check_still
from mediajobs.worker.containers import HEAD_BYTES, Kind, expect, sniff
from mediajobs.worker.errors import from_os_error
from mediajobs.worker.headers import READABLE, Still, still_header
from mediajobs.worker.limits import max_pixels
from mediajobs.worker.probe import Probe, Stream, probe

# A JPEG's frame header follows its EXIF block (thumbnails included): up to 64 KiB each.
HEADER_BYTES = 256 * 1024
_STILL_CODECS = {c.JPEG: "mjpeg", c.PNG: "png", c.WEBP: "webp", c.BMP: "bmp", c.TIFF: "tiff"}


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError as err:
        raise from_os_error(err, "reading the input") from err


def _still(path: Path, container: c.Container) -> Still | None:
    """A still's (or a GIF's) header, read only for those formats: a video needs none."""
    if container not in READABLE:
        return None
    return still_header(container, _head(path, HEADER_BYTES))


def open_source(path: Path, kinds: frozenset[Kind], operation: str, limit: int) -> Source:
    """PATH as a Source OPERATION can use under the memory LIMIT.

    It must be one of KINDS; a picture whose header shows it too large for
    LIMIT is refused before anything decodes it; then ffprobe reads it with
    its demuxer pinned and a pixel ceiling.
    """
    container = sniff(_head(path, HEAD_BYTES))
    expect(container, kinds, operation)
    still = _still(path, container)
    if still is not None:
        check_still(still, limit)
    ceiling = max_pixels(limit)
    return Source(str(path), probe(str(path), container, ceiling), container, ceiling)


def probe_output(path: Path, ceiling: int) -> Probe:
    """A file the worker wrote, probed the same guarded way as any input.

    A still is described from its header (ffprobe would cost a process start,
    a third of a thumbnail's fixed cost, to say what the header already says).
    """
    container = sniff(_head(path, HEAD_BYTES))
    still = _still(path, container) if container.kind is Kind.STILL else None
    if still is None:
        return probe(str(path), container, ceiling)
    picture = Stream(index=0, codec_type="video", codec_name=_STILL_CODECS.get(container),
                     width=still.width, height=still.height)  # fmt: skip
    return Probe(container.demuxer, None, None, None, (picture,), {})
