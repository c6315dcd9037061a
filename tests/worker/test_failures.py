"""Every failure class: its exit code and its one-line message, from real runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.worker.conftest import Work

INVALID, TEMPORARY = 2, 75


@pytest.mark.parametrize(
    ("operation", "source", "params", "message"),
    [
        ("reencode_streaming", "in/missing.mp4", {}, "input not found: in/missing.mp4"),
        ("reencode_streaming", "in/truncated.mov", {}, "input is truncated or corrupt"),
        ("validate", "in/notmedia.mp4", {}, "input is a text file, not a media file"),
        ("reencode_streaming", "in/photo.jpg", {}, "input is an image, not a video"),
        ("compile_gif", "in/photo.png", {}, "input is an image, not a video"),
        ("convert_image", "in/clip.mp4", {"format": "png"}, "input is a video, not an image"),
        ("thumbnail_generate", "in/audio.m4a", {}, "input has no video stream"),
        ("reencode_streaming", "in/empty.mp4", {}, "input is empty (0 bytes)"),
        ("reencode_streaming", "in/unsupported.mp4", {}, "unsupported codec"),
        ("crop_video", "in/clip.mp4", {"box": {"width": 999, "height": 10}}, "exceeds the 320x240"),
        ("create_teaser", "in/clip.mp4", {"start": 60}, "start 60 s is past the end"),
        ("reencode_streaming", "in/clip.mp4", {"crf": 99}, "invalid params: crf: Input should be"),
        ("resize_image", "in/photo.jpg", {"box": {}}, "invalid params: "),
        ("apply_watermark", "in/clip.mp4", {}, "set exactly one of text or image"),
        (
            "apply_watermark",
            "in/clip.mp4",
            {"image": "in/nope.png"},
            "input not found: in/nope.png",
        ),
    ],
)
def test_invalid_input_is_permanent(
    work: Work, operation: str, source: str, params: dict[str, object], message: str
) -> None:
    outcome = work(operation, source, params=params)
    assert outcome.code == INVALID
    assert message in outcome.error
    assert "\n" not in outcome.error


def test_input_escaping_the_media_root_through_a_symlink(work: Work, media: Path) -> None:
    link = media / "in" / "escape.mp4"
    link.symlink_to("/etc/hostname")
    try:
        outcome = work("validate", "in/escape.mp4")
    finally:
        link.unlink()
    assert (outcome.code, outcome.error) == (
        INVALID,
        "input path escapes the media volume: in/escape.mp4",
    )


def test_output_escaping_the_media_root_through_a_symlink(
    work: Work, media: Path, tmp_path: Path
) -> None:
    (media / "exit").symlink_to(tmp_path)
    try:
        outcome = work("thumbnail_generate", "in/clip.mp4", output={"prefix": "exit/thumbs"})
    finally:
        (media / "exit").unlink()
    assert (outcome.code, outcome.error) == (
        INVALID,
        "output path escapes the media volume: exit/thumbs",
    )
    assert list(tmp_path.iterdir()) == []


def test_output_that_would_overwrite_the_input(work: Work) -> None:
    outcome = work("strip_metadata", "in/clip.mp4", output={"path": "in/clip.mp4"})
    assert (outcome.code, outcome.error) == (
        INVALID,
        "output in/clip.mp4 would overwrite the input",
    )


def test_output_path_with_the_wrong_format(work: Work) -> None:
    outcome = work(
        "convert_image", "in/photo.jpg", params={"format": "png"}, output={"path": "o/x.jpg"}
    )
    assert (outcome.code, outcome.error) == (INVALID, "output path .jpg does not match png")


def test_wrong_number_of_inputs(work: Work) -> None:
    outcome = work("compile_quad", "in/clip.mp4", "in/clip.mp4")
    assert (outcome.code, outcome.error) == (INVALID, "compile_quad takes 4-4 inputs, got 2")


def test_which_input_of_a_compilation_is_wrong(work: Work) -> None:
    outcome = work("compile_concat", "in/clip.mp4", "in/photo.jpg")
    assert (outcome.code, outcome.error) == (
        INVALID,
        "input 2: input is an image, not a video (JPEG image; compile_concat takes videos)",
    )


def test_operations_of_other_runners_are_refused(work: Work) -> None:
    outcome = work("scrape_profile", creatorProfile="alice", platform="x")
    assert (outcome.code, outcome.error) == (
        INVALID,
        "operation scrape_profile is not run by the FFmpeg worker",
    )


def test_media_volume_not_mounted_is_temporary(work: Work, tmp_path: Path) -> None:
    outcome = work("validate", "in/clip.mp4", mediaRoot=str(tmp_path / "not-mounted"))
    assert outcome.code == TEMPORARY
    assert "is not mounted" in outcome.error
