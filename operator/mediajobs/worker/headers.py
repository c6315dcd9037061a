"""A still image's size and depth from its header, read without decoding a pixel.

FFmpeg cannot tell a picture's size without decoding it (ffprobe's stream
analysis decodes the frame; without it, width and height are 0), and Pillow
reads headers but folds 16-bit RGBA into its 8-bit RGBA mode. Yet the size
and depth are all the decode budget needs, and they sit in the first bytes:
so the few formats the worker opens are read here, by their specifications
(PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X, GIF's screen descriptor, BMP's
DIB header, TIFF's first IFD).

Pure functions over bytes; ``None`` when a header is unreadable (FFmpeg then
gives the verdict, under its ``-max_pixels`` ceiling).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from mediajobs.worker import containers as c
from mediajobs.worker.containers import Container

# JPEG start-of-frame markers (baseline, extended, progressive, lossless, arithmetic).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PNG_CHANNELS = {0: 1, 2: 3, 3: 4, 4: 2, 6: 4}  # colour type -> samples (palette worked as RGBA)
_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4)}  # SHORT, LONG


@dataclass(frozen=True)
class Still:
    width: int
    height: int
    bytes_per_pixel: float  # once decoded

    @property
    def pixels(self) -> int:
        return self.width * self.height


def _png(data: bytes) -> Still | None:
    if len(data) < 26 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    samples = _PNG_CHANNELS.get(colour, 4)
    return Still(width, height, samples * (2 if depth > 8 else 1))


def _jpeg(data: bytes) -> Still | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if marker in _SOF:
            precision, height, width, components = struct.unpack(">BHHB", data[at + 4 : at + 10])
            return Still(width, height, max(components, 3) * (2 if precision > 8 else 1))
        at += 2 + length
    return None


def _webp(data: bytes) -> Still | None:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return Still(width, height, 4)
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return Still((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 4)
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return Still(width & 0x3FFF, height & 0x3FFF, 4)
    return None


def _gif(data: bytes) -> Still | None:
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return Still(width, height, 4)


def _bmp(data: bytes) -> Still | None:
    if len(data) < 30:
        return None
    width, height = struct.unpack("<ii", data[18:26])
    bits = int.from_bytes(data[28:30], "little")
    return Still(abs(width), abs(height), max(bits / 8, 4))


def _tiff(data: bytes) -> Still | None:
    order = "<" if data[:2] == b"II" else ">"
    try:
        (ifd,) = struct.unpack(order + "I", data[4:8])
        (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
        tags: dict[int, int] = {}
        for n in range(count):
            entry = data[ifd + 2 + 12 * n : ifd + 14 + 12 * n]
            tag, kind, values = struct.unpack(order + "HHI", entry[:8])
            if kind in _TIFF_TYPES:
                code, size = _TIFF_TYPES[kind]
                # the first value: in the entry when all fit in 4 bytes, else where it points
                (at,) = struct.unpack(order + "I", entry[8:12])
                first = entry[8 : 8 + size] if values * size <= 4 else data[at : at + size]
                (tags[tag],) = struct.unpack(order + code, first)
    except struct.error:
        return None
    if 256 not in tags or 257 not in tags:
        return None
    samples, bits = tags.get(277, 1), tags.get(258, 8)
    return Still(tags[256], tags[257], max(samples, 3) * max(bits / 8, 1))


_READERS = {c.PNG: _png, c.JPEG: _jpeg, c.WEBP: _webp, c.GIF: _gif, c.BMP: _bmp, c.TIFF: _tiff}
READABLE = frozenset(_READERS)  # the containers whose header this module reads


def still_header(container: Container, data: bytes) -> Still | None:
    """The picture's size and depth from DATA (the file's first bytes), if CONTAINER is a
    still format (or GIF) and its header is readable there."""
    reader = _READERS.get(container)
    return reader(data) if reader is not None else None
