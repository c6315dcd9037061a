"""Sniffing: what a file is from its first bytes, and what is refused by name."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from mediajobs.worker import containers as c
from mediajobs.worker.containers import Kind, expect, sniff
from mediajobs.worker.errors import InvalidInput


def image_bytes(fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (b"\0\0\0\x20ftypisom\0\0\x02\0", c.MOV),
        (b"\0\0\0\x08wide\0\0\0\0mdat", c.MOV),  # QuickTime without ftyp
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", c.MATROSKA),
        (b"RIFF\0\0\0\0AVI LIST", c.AVI),
        (bytes([0x47] + [0] * 187) * 3, c.MPEGTS),
        (b"GIF89a\x08\0\x08\0", c.GIF),
        (image_bytes("PNG"), c.PNG),
        (image_bytes("JPEG"), c.JPEG),
        (image_bytes("WEBP"), c.WEBP),
        (image_bytes("BMP"), c.BMP),
        (image_bytes("TIFF"), c.TIFF),
    ],
)
def test_media_signatures(head: bytes, container: c.Container) -> None:
    assert sniff(head) == container


@pytest.mark.parametrize(
    ("head", "message"),
    [
        (b"#EXTM3U\n#EXTINF:1,\n/etc/passwd\n", "input is an HLS/M3U playlist, not a media file"),
        (b"\xef\xbb\xbf\r\n  #extm3u\n", "input is an HLS/M3U playlist, not a media file"),
        (b"ffconcat version 1.0\n", "input is an FFmpeg concat list, not a media file"),
        (b"file 'a.mp4'\nfile 'b.mp4'\n", "input is an FFmpeg concat list, not a media file"),
        (b'<?xml version="1.0"?><MPD>', "input is a DASH manifest, not a media file"),
        (b"<SmoothStreamingMedia>", "input is a Smooth Streaming manifest, not a media file"),
        (b"<html><body>", "input is an XML/HTML document, not a media file"),
        (b"[playlist]\nFile1=x", "input is a PLS playlist, not a media file"),
        (b"v=0\no=- 0 0 IN IP4 127.0.0.1", "input is an SDP session description, not a media file"),
        (b"RIFF\0\0\0\0WAVEfmt ", "input is a sound file: it has no picture"),
        (b"ID3\x04\0\0\0\0\0\0", "input is a sound file: it has no picture"),
        (b"just some notes\n", "input is a text file, not a media file"),
        (b"\x00\x01\x02\x03garbage", "input is not a supported media file (MP4/QuickTime,"),
        (b"", "input is not a supported media file"),
    ],
)
def test_everything_else_is_refused_by_name(head: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        sniff(head)
    assert str(refused.value).startswith(message)


def test_an_operation_refuses_the_other_kind_before_probing() -> None:
    expect(c.JPEG, frozenset({Kind.STILL}), "resize_image")
    with pytest.raises(InvalidInput, match=r"^input is an image, not a video \(PNG image; "):
        expect(c.PNG, frozenset({Kind.VIDEO}), "reencode_streaming")
    with pytest.raises(InvalidInput, match=r"^input is a video, not an image \(GIF animation; "):
        expect(c.GIF, frozenset({Kind.STILL}), "convert_image")
