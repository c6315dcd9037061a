"""The decode budget: pixels and bytes from headers, against the memory limit."""

from __future__ import annotations

import pytest

from mediajobs.api.common import Operation
from mediajobs.worker import limits
from mediajobs.worker.budget import Gif, bytes_per_pixel, check_still, footprint
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.headers import Still
from mediajobs.worker.limits import max_pixels
from tests.unit.worker.probes import image_probe, video_probe

MiB, GiB = 1024**2, 1024**3


@pytest.mark.parametrize(
    ("pix_fmt", "expected"),
    [
        ("yuv420p", 1.5),
        ("yuvj420p", 1.5),
        ("nv12", 1.5),
        ("yuv420p10le", 3.0),
        ("p010le", 3.0),
        ("yuv422p", 2.0),
        ("yuv444p", 3.0),
        ("rgb24", 3.0),
        ("rgba", 4.0),
        ("rgba64be", 8.0),
        ("rgb48le", 6.0),
        ("gray", 1.0),
        ("gray16be", 2.0),
        ("ya8", 2.0),
        ("ya16be", 4.0),
        ("pal8", 4.0),
        ("yuva420p", 2.5),
        (None, 8.0),
    ],
)
def test_bytes_per_pixel(pix_fmt: str | None, expected: float) -> None:
    assert bytes_per_pixel(pix_fmt) == expected


def test_the_pixel_ceiling_follows_the_limit_and_fits_ffmpegs_int() -> None:
    assert max_pixels(512 * MiB) == (512 - 64) * MiB // 8
    assert max_pixels(1 * GiB) > max_pixels(512 * MiB)  # more memory, larger frames
    assert max_pixels(1024 * GiB) == 2**31 - 1


def test_the_memory_limit_comes_from_the_task_first() -> None:
    assert limits.memory_limit(123) == 123
    assert limits.memory_limit(None) > 0  # the cgroup's, else the machine's


def test_a_4k_reencode_fits_the_catalogs_2gi_and_8k_does_not() -> None:
    uhd = footprint(Operation.REENCODE_STREAMING, [video_probe(3840, 2160)], 2 * GiB)
    assert uhd.input == "3840x2160 video"
    assert uhd.estimated_bytes < 2 * GiB
    with pytest.raises(InvalidInput, match=r"^input too large \(7680x4320\): needs about "):
        footprint(Operation.REENCODE_STREAMING, [video_probe(7680, 4320)], 2 * GiB)


def test_raising_the_memory_raises_the_budget() -> None:
    probe = [video_probe(7680, 4320)]
    assert footprint(Operation.REENCODE_STREAMING, probe, 16 * GiB).limit_bytes == 16 * GiB


def test_a_stream_copy_holds_only_the_frame_the_probe_decoded() -> None:
    strip = footprint(Operation.STRIP_METADATA, [video_probe(7680, 4320)], 512 * MiB)
    assert strip.estimated_bytes == limits.BASELINE_BYTES + 7680 * 4320 * 1.5


def test_stills_count_their_real_depth() -> None:
    jpeg = image_probe(8000, 6000, pix_fmt="yuvj420p")
    assert footprint(Operation.RESIZE_IMAGE, [jpeg], 512 * MiB).estimated_bytes < 512 * MiB
    deep = image_probe(8000, 6000, pix_fmt="rgba64be", codec="png", format_name="png_pipe")
    with pytest.raises(InvalidInput, match=r"^image too large \(8000x6000\)"):
        footprint(Operation.RESIZE_IMAGE, [deep], 512 * MiB)


def test_a_gif_holds_every_frame_of_its_clip() -> None:
    clip = [video_probe(1920, 1080)]
    short = footprint(Operation.COMPILE_GIF, clip, 2 * GiB, Gif(seconds=2, fps=10, width=480))
    long = footprint(Operation.COMPILE_GIF, clip, 2 * GiB, Gif(seconds=30, fps=30, width=480))
    assert long.estimated_bytes - short.estimated_bytes == (900 - 20) * 480 * 270 * 4


def test_a_claimed_duration_beyond_a_day_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^input too long \(27\.8 h; at most 24 h\)"):
        footprint(Operation.VALIDATE, [video_probe(duration=100_000.0)], 2 * GiB)


def test_check_still_refuses_by_the_header_alone() -> None:
    check_still(Still(4000, 3000, 3), 512 * MiB)
    with pytest.raises(InvalidInput, match=r"a decoded frame would not fit"):
        check_still(Still(16000, 16000, 8), 512 * MiB)
    with pytest.raises(InvalidInput, match=r"^image too large \(7400x7400\): needs about 534 MiB"):
        check_still(Still(7400, 7400, 3), 512 * MiB)


def test_a_join_counts_its_crossfade_inputs_and_a_cut_does_not() -> None:
    hd = [video_probe(1920, 1080)]
    joined = footprint(Operation.HIGHLIGHT_GENERATE, hd, 2 * GiB)
    cut = footprint(Operation.CLIP_GENERATE, hd, 2 * GiB)
    encode = footprint(Operation.REENCODE_STREAMING, hd, 2 * GiB)
    assert cut.estimated_bytes == encode.estimated_bytes < joined.estimated_bytes < 2 * GiB
    # measured: 940 MB for 30 windows of 1080p (bench/highlights.py); the estimate covers it
    assert joined.estimated_bytes > 940 * MiB
    with pytest.raises(InvalidInput, match=r"raise spec.resources.memory"):
        footprint(Operation.DIGEST_GENERATE, [video_probe(3840, 2160)], 2 * GiB)
