"""Opening a file for FFmpeg: sniff its signature, check its kind, probe it pinned.

Every file FFmpeg reads goes through here first: the media volume's inputs,
downloads in the scratch directory, the watermark image, each compilation
input, and the worker's own outputs when it describes them.
"""

from __future__ import annotations

from pathlib import Path

from mediajobs.worker.argv import Source
from mediajobs.worker.budget import check_still, max_pixels
from mediajobs.worker.containers import HEAD_BYTES, Container, Kind, expect, sniff
from mediajobs.worker.errors import from_os_error
from mediajobs.worker.headers import still_header
from mediajobs.worker.probe import Probe, probe

# A JPEG's frame header follows its EXIF block (thumbnails included): up to 64 KiB each.
HEADER_BYTES = 256 * 1024


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(size)
    except OSError as err:
        raise from_os_error(err, "reading the input") from err


def open_source(path: Path, kinds: frozenset[Kind], operation: str, limit: int) -> Source:
    """PATH as a Source OPERATION can use under the memory LIMIT.

    It must be one of KINDS; a picture whose header shows it too large for
    LIMIT is refused before anything decodes it; then ffprobe reads it with
    its demuxer pinned and a pixel ceiling.
    """
    head = _head(path, HEADER_BYTES)
    container = sniff(head[:HEAD_BYTES])
    expect(container, kinds, operation)
    still = still_header(container, head)
    if still is not None:
        check_still(still, limit)
    ceiling = max_pixels(limit)
    return Source(str(path), probe(str(path), container, ceiling), container, ceiling)


def container_of(path: Path) -> Container:
    """PATH's container, from its first bytes; InvalidInput when it is none we open."""
    return sniff(_head(path, HEAD_BYTES))


def probe_output(path: Path, ceiling: int) -> Probe:
    """A file the worker wrote, probed the same guarded way as any input."""
    return probe(str(path), container_of(path), ceiling)
