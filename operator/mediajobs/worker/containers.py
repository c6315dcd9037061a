"""What an input file really is, decided from its first bytes before FFmpeg sees it.

FFmpeg picks a demuxer by probing content and name, and some demuxers open
other files: an HLS or DASH playlist, a concat list, the image2 demuxer's
``%d`` patterns. A playlist named ``clip.mp4`` would make FFmpeg read files
outside the media volume. So the worker sniffs the file's signature itself,
refuses anything that is not one of the media formats below (naming what it
found: "input is an HLS playlist, not a media file"), and pins FFmpeg to the
matching demuxer (``-f``), which then never probes, never follows a playlist
and never expands a pattern.

Pure: bytes in, a :class:`Container` or an :class:`InvalidInput` out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from mediajobs.worker.errors import InvalidInput

HEAD_BYTES = 512  # enough for every signature below, and for a text sniff


class Kind(Enum):
    STILL = "still"  # one picture
    VIDEO = "video"  # moving pictures (an animated GIF counts), usually with sound


@dataclass(frozen=True)
class Container:
    label: str  # what a person reads
    demuxer: str  # FFmpeg's -f name
    kind: Kind


MOV = Container("MP4/QuickTime video", "mov", Kind.VIDEO)
MATROSKA = Container("Matroska/WebM video", "matroska", Kind.VIDEO)
AVI = Container("AVI video", "avi", Kind.VIDEO)
MPEGTS = Container("MPEG-TS video", "mpegts", Kind.VIDEO)
GIF = Container("GIF animation", "gif", Kind.VIDEO)
JPEG = Container("JPEG image", "jpeg_pipe", Kind.STILL)
PNG = Container("PNG image", "png_pipe", Kind.STILL)
WEBP = Container("WebP image", "webp_pipe", Kind.STILL)
BMP = Container("BMP image", "bmp_pipe", Kind.STILL)
TIFF = Container("TIFF image", "tiff_pipe", Kind.STILL)

CONTAINERS = (MOV, MATROSKA, AVI, MPEGTS, GIF, JPEG, PNG, WEBP, BMP, TIFF)

# ISO BMFF top-level boxes a file may start with (QuickTime files need not begin with ftyp).
_BMFF_FIRST_BOXES = frozenset({b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot"})
_TS_PACKET = 188

# Text formats that make FFmpeg open other files or URLs, by their first word.
_INDIRECT: tuple[tuple[bytes, str], ...] = (
    (b"#EXTM3U", "an HLS/M3U playlist"),
    (b"ffconcat", "an FFmpeg concat list"),
    (b"file ", "an FFmpeg concat list"),
    (b"[playlist]", "a PLS playlist"),
    (b"<asx", "an ASX playlist"),
    (b"<smil", "a SMIL playlist"),
    (b"v=0", "an SDP session description"),
    (b"#!rtpdec", "an RTP description"),
)
_XML_INDIRECT: tuple[tuple[bytes, str], ...] = (
    (b"<mpd", "a DASH manifest"),
    (b"<smoothstreamingmedia", "a Smooth Streaming manifest"),
    (b"<smil", "a SMIL playlist"),
    (b"<asx", "an ASX playlist"),
)


def _text_start(head: bytes) -> bytes:
    """HEAD without a byte-order mark and leading whitespace, lower-cased."""
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()


def _indirect(head: bytes) -> str | None:
    """What a playlist, manifest or list HEAD starts, if it is one."""
    text = _text_start(head)
    found = next((what for word, what in _INDIRECT if text.startswith(word.lower())), None)
    if found is None and text.startswith(b"<"):
        found = next((what for word, what in _XML_INDIRECT if word in text), None)
        found = found or "an XML/HTML document"
    return found


def _refusal(head: bytes) -> str:
    """Why a file that is not one of CONTAINERS is refused, for the message."""
    indirect = _indirect(head)
    if indirect is not None:
        return f"input is {indirect}, not a media file"
    if (head[:4] == b"RIFF" and head[8:12] == b"WAVE") or head[:3] == b"ID3" or head[:4] == b"fLaC":
        return "input is a sound file: it has no picture"
    if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        return "input is a text file, not a media file"
    names = ", ".join(c.label.split(" ")[0] for c in CONTAINERS)
    return f"input is not a supported media file ({names})"


# Signatures, tried in order; the first that matches names the container.
_SIGNATURES: tuple[tuple[Callable[[bytes], bool], Container], ...] = (
    (lambda h: h[4:8] in _BMFF_FIRST_BOXES, MOV),
    (lambda h: h.startswith(b"\x1a\x45\xdf\xa3"), MATROSKA),
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"AVI ", AVI),
    (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", WEBP),
    (lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"), PNG),
    (lambda h: h.startswith(b"\xff\xd8\xff"), JPEG),
    (lambda h: h[:6] in (b"GIF87a", b"GIF89a"), GIF),
    (lambda h: h[:4] in (b"II*\x00", b"MM\x00*"), TIFF),
    # BM, the file size, then two reserved words that are zero
    (lambda h: h[:2] == b"BM" and len(h) >= 26 and h[6:10] == b"\0\0\0\0", BMP),
    # a sync byte at the start of each of the first three 188-byte packets
    (lambda h: len(h) > 2 * _TS_PACKET and h[0] == h[_TS_PACKET] == h[2 * _TS_PACKET] == 0x47,
     MPEGTS),
)  # fmt: skip


def sniff(head: bytes) -> Container:
    """The container HEAD (a file's first HEAD_BYTES) starts; InvalidInput for anything else."""
    for matches, container in _SIGNATURES:
        if matches(head):
            return container
    raise InvalidInput(_refusal(head))


def expect(container: Container, kinds: frozenset[Kind], operation: str) -> None:
    """Refuse CONTAINER when OPERATION takes none of KINDS (before anything decodes it)."""
    if container.kind in kinds:
        return
    is_still = container.kind is Kind.STILL
    raise InvalidInput(
        f"input is {'an image, not a video' if is_still else 'a video, not an image'}"
        f" ({container.label}; {operation} takes {'videos' if is_still else 'images'})"
    )
