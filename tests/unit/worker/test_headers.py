"""A still's size and depth from its header, for each format the worker opens."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from mediajobs.worker import containers as c
from mediajobs.worker.headers import Still, still_header


def encoded(mode: str, fmt: str, size: tuple[int, int] = (321, 123), **options: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "container", "expected"),
    [
        (encoded("RGB", "PNG"), c.PNG, Still(321, 123, 3)),
        (encoded("RGBA", "PNG"), c.PNG, Still(321, 123, 4)),
        (encoded("I;16", "PNG"), c.PNG, Still(321, 123, 2)),  # 16-bit grey
        (encoded("P", "PNG"), c.PNG, Still(321, 123, 4)),  # a palette, worked on as RGBA
        (encoded("RGB", "JPEG"), c.JPEG, Still(321, 123, 3)),
        (encoded("RGB", "JPEG", progressive=True), c.JPEG, Still(321, 123, 3)),
        (encoded("RGB", "WEBP", lossless=False), c.WEBP, Still(321, 123, 4)),
        (encoded("RGB", "WEBP", lossless=True), c.WEBP, Still(321, 123, 4)),
        (encoded("RGBA", "WEBP"), c.WEBP, Still(321, 123, 4)),
        (encoded("RGB", "GIF"), c.GIF, Still(321, 123, 4)),
        (encoded("RGB", "BMP"), c.BMP, Still(321, 123, 4)),
        (encoded("RGB", "TIFF"), c.TIFF, Still(321, 123, 3)),
    ],
)
def test_sizes_and_depths_from_real_encoders(
    data: bytes, container: c.Container, expected: Still
) -> None:
    assert still_header(container, data) == expected


def test_a_jpeg_frame_header_behind_exif_blocks_is_found() -> None:
    data = encoded("RGB", "JPEG", (40, 30))
    app1 = b"\xff\xe1" + struct.pack(">H", 60000) + bytes(59998)
    assert still_header(c.JPEG, data[:2] + app1 * 2 + data[2:]) == Still(40, 30, 3)


def test_a_16_bit_rgba_png_counts_8_bytes_a_pixel() -> None:
    ihdr = struct.pack(">IIBBBBB", 16000, 16000, 16, 6, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr
    assert still_header(c.PNG, data) == Still(16000, 16000, 8)


@pytest.mark.parametrize(
    ("container", "data"),
    [
        (c.PNG, b"\x89PNG\r\n\x1a\n"),  # cut before IHDR
        (c.JPEG, b"\xff\xd8\xff\xe1\xff\xff"),  # the frame header is further than we read
        (c.TIFF, b"II*\x00\xff\xff\xff\x00"),  # the directory is past the end
        (c.MOV, b"\0\0\0\x20ftypisom"),  # not a still
    ],
)
def test_unreadable_headers_leave_the_verdict_to_ffmpeg(
    container: c.Container, data: bytes
) -> None:
    assert still_header(container, data) is None
