"""Which format each output gets: requested format, output path, input format."""

from __future__ import annotations

import pytest

from mediajobs.catalog.params import ImageFormat
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.formats import (
    image_codec_args,
    image_format_of,
    image_suffix,
    input_suffix,
    jpeg_qscale,
    same_suffix,
    video_suffix,
)
from tests.unit.worker.probes import image_probe, video_probe

JPEG, PNG, WEBP = ImageFormat.JPEG, ImageFormat.PNG, ImageFormat.WEBP


@pytest.mark.parametrize(
    ("codec", "fmt"),
    [("mjpeg", JPEG), ("png", PNG), ("webp", WEBP), ("bmp", PNG), ("tiff", PNG)],
)
def test_image_format_of_the_input(codec: str, fmt: ImageFormat) -> None:
    assert image_format_of(image_probe(codec=codec)) is fmt


@pytest.mark.parametrize(
    ("requested", "path", "suffix"),
    [
        (PNG, None, ".png"),  # the requested format
        (None, "out/x.webp", ".webp"),  # else the output path's
        (None, None, ".jpg"),  # else the input's (a JPEG)
        (JPEG, "out/x.jpeg", ".jpeg"),  # a path that agrees keeps its spelling
        (JPEG, "out/X.JPG", ".jpg"),
    ],
)
def test_image_suffix(requested: ImageFormat | None, path: str | None, suffix: str) -> None:
    assert image_suffix(requested, path, image_probe()) == suffix


@pytest.mark.parametrize(
    ("requested", "path", "message"),
    [
        (PNG, "out/x.jpg", "does not match png"),
        (None, "out/x.gif", r"must end in one of \.jpg"),
        (None, "out/noext", "must end in one of"),
    ],
)
def test_image_suffix_refuses_a_contradicting_path(
    requested: ImageFormat | None, path: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        image_suffix(requested, path, image_probe())


@pytest.mark.parametrize(
    ("path", "keep", "otherwise", "suffix"),
    [
        (None, None, ".mp4", ".mp4"),
        ("a/b.mov", None, ".mp4", ".mov"),
        ("a/b.MKV", ".mp4", ".mp4", ".mkv"),
        (None, ".mov", ".mp4", ".mov"),
        (None, ".webm", ".mkv", ".mkv"),  # H.264 cannot go into WebM
    ],
)
def test_video_suffix(path: str | None, keep: str | None, otherwise: str, suffix: str) -> None:
    assert video_suffix(path, keep, otherwise) == suffix


def test_video_suffix_refuses_containers_without_h264() -> None:
    with pytest.raises(InvalidInput, match=r"must end in one of \.mp4"):
        video_suffix("out/clip.webm")


def test_same_suffix_keeps_the_container_of_a_stream_copy() -> None:
    assert same_suffix(None, "in/clip.webm", video_probe(format_name="matroska,webm")) == ".webm"
    assert same_suffix(None, "in/photo.PNG", image_probe(codec="png")) == ".png"
    with pytest.raises(InvalidInput, match=r"keep the input's \.mov"):
        same_suffix("out/x.mp4", "in/clip.mov", video_probe())


@pytest.mark.parametrize(
    ("format_name", "suffix"),
    [("matroska,webm", ".mkv"), ("mov,mp4,m4a,3gp,3g2,mj2", ".mov"), ("avi", ".mkv")],
)
def test_input_suffix_from_the_container_when_the_name_has_none(
    format_name: str, suffix: str
) -> None:
    assert input_suffix("download", video_probe(format_name=format_name)) == suffix
    assert input_suffix("clip.MP4", video_probe(format_name=format_name)) == ".mp4"


def test_jpeg_quality_scale() -> None:
    assert jpeg_qscale(100) == 2
    assert jpeg_qscale(1) == 31
    scales = [jpeg_qscale(q) for q in range(1, 101)]
    assert scales == sorted(scales, reverse=True)


@pytest.mark.parametrize(
    ("out", "args"),
    [
        ("/o/a.jpg", {"c:v": "mjpeg", "q:v": 6}),
        ("/o/a.webp", {"c:v": "libwebp", "quality": 85}),
        ("/o/a.png", {"c:v": "png"}),
    ],
)
def test_image_codec_by_suffix(out: str, args: dict[str, object]) -> None:
    assert image_codec_args(out, 85) == args
