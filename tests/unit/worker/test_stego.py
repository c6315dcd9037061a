"""The invisible watermark: round trips on synthetic planes, and through real JPEG and H.264."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from mediajobs.worker.stego import (
    PAYLOAD_BITS,
    detect_file,
    detect_luma,
    embed_luma,
    payload_for,
)

Plane = npt.NDArray[np.uint8]

ALICE = payload_for("creator-1", "alice")
BOB = payload_for("creator-1", "bob")

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs FFmpeg")


def textured(height: int, width: int, seed: int = 0) -> Plane:
    """Smooth shading, hard-edged shapes and a little grain, like a frame of video."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    plane: npt.NDArray[np.float64] = 110 + 50 * np.sin(xx / (23 + seed)) * np.cos(yy / 17)
    for _ in range(6):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        plane[(xx - x0) ** 2 + (yy - y0) ** 2 < rng.integers(50, 2000)] = rng.integers(20, 230)
    plane += rng.normal(0, 3, plane.shape)
    return np.clip(plane, 0, 255).astype(np.uint8)


def flat(height: int, width: int, value: int = 128) -> Plane:
    return np.full((height, width), value, dtype=np.uint8)


def binary(height: int, width: int, seed: int = 0) -> Plane:
    """Pixel-level black and white, every pixel saturated: the hardest picture to mark."""
    rng = np.random.default_rng(seed)
    return (rng.random((height, width)) < 0.5).astype(np.uint8) * 255


def psnr(a: Plane, b: Plane) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b) ** 2)))


# --- the payload ----------------------------------------------------------------


def test_payload_is_deterministic_and_fan_specific() -> None:
    assert len(ALICE) * 8 == PAYLOAD_BITS
    assert payload_for("creator-1", "alice") == ALICE
    others = {
        BOB,
        payload_for("creator-2", "alice"),
        payload_for(None, "alice"),
        payload_for("", "alice"),
    }
    assert ALICE not in others
    assert len(others) == 4


# --- synthetic planes -------------------------------------------------------------


@pytest.mark.parametrize(
    "plane",
    [textured(360, 640), flat(240, 320), binary(720, 1280), textured(360, 640, seed=3)],
    ids=["textured", "flat", "binary", "textured-2"],
)
def test_round_trip(plane: Plane) -> None:
    before = plane.copy()
    marked = embed_luma(plane, ALICE)
    assert marked.shape == plane.shape
    assert marked.dtype == np.uint8
    assert np.array_equal(plane, before)  # the input is left alone
    assert detect_luma([marked]) == ALICE


def test_invisible_at_strength_1() -> None:
    plane = textured(720, 1280)
    assert psnr(embed_luma(plane, ALICE), plane) >= 38
    # Strength scales the amplitude: twice as strong is 6 dB more distortion.
    gap = psnr(embed_luma(plane, ALICE), plane) - psnr(embed_luma(plane, ALICE, 2.0), plane)
    assert 5 < gap < 7


@pytest.mark.parametrize(
    ("height", "width"),
    [(128, 128), (129, 131), (131, 257), (720, 1280), (1080, 1920), (135, 241)],
)
def test_sizes(height: int, width: int) -> None:
    plane = textured(height, width, seed=height)
    marked = embed_luma(plane, BOB)
    assert marked.shape == (height, width)
    # Only whole 8x8 blocks carry the mark; the ragged edge is untouched.
    assert np.array_equal(marked[height // 8 * 8 :], plane[height // 8 * 8 :])
    assert np.array_equal(marked[:, width // 8 * 8 :], plane[:, width // 8 * 8 :])
    assert detect_luma([marked]) == BOB


def test_too_small_to_carry_anything() -> None:
    tiny = textured(7, 300)
    assert np.array_equal(embed_luma(tiny, ALICE), tiny)
    assert detect_luma([tiny]) is None
    assert detect_luma([]) is None


def test_video_evidence_adds_up_over_frames() -> None:
    """A mark too weak for any single noisy frame is found in the frames' sum."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:240, 0:320]
    marked = embed_luma((60 + 0.4 * xx + 0.2 * yy).astype(np.uint8), ALICE, strength=0.25)
    frames = [
        np.clip(marked + rng.normal(0, 16, marked.shape), 0, 255).astype(np.uint8)
        for _ in range(20)
    ]
    assert all(detect_luma([frame]) is None for frame in frames)
    assert detect_luma(frames) == ALICE


@pytest.mark.parametrize(
    "planes",
    [
        [textured(360, 640)],
        [flat(240, 320)],
        [binary(240, 320)],
        [textured(240, 320, seed=s) for s in range(8)],
    ],
    ids=["textured", "flat", "binary", "frames"],
)
def test_clean_planes_have_no_mark(planes: list[Plane]) -> None:
    assert detect_luma(planes) is None


def test_a_wrong_id_is_never_returned() -> None:
    plane = textured(240, 320)
    # Marking twice keeps only the last mark: marking cancels what was there.
    assert detect_luma([embed_luma(embed_luma(plane, ALICE), BOB)]) == BOB
    # Damaged past recovery: no id at all rather than a wrong one.
    rng = np.random.default_rng(1)
    marked = embed_luma(plane, ALICE)
    for sigma in (20, 40, 80):
        noisy = np.clip(marked + rng.normal(0, sigma, marked.shape), 0, 255).astype(np.uint8)
        assert detect_luma([noisy]) in (ALICE, None)
    for _ in range(30):
        assert detect_luma([rng.integers(0, 256, (128, 128), dtype=np.uint8)]) is None


def test_bad_input_is_refused() -> None:
    plane = textured(128, 128)
    with pytest.raises(ValueError, match="payload"):
        embed_luma(plane, b"short")
    with pytest.raises(ValueError, match="uint8"):
        embed_luma(plane.astype(np.float32), ALICE)
    with pytest.raises(ValueError, match="2-D"):
        embed_luma(np.zeros((128, 128, 3), dtype=np.uint8), ALICE)


# --- through real encoders ----------------------------------------------------------


def lavfi(graph: str, width: int, height: int, frames: int, pix_fmt: str) -> bytes:
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi"]
    argv += ["-i", f"{graph}=size={width}x{height}:rate=25", "-frames:v", str(frames)]
    argv += ["-pix_fmt", pix_fmt, "-f", "rawvideo", "-"]
    return subprocess.run(argv, capture_output=True, check=True).stdout


def jpeg(path: Path, graph: str, payload: bytes | None, quality: int = 80) -> Path:
    """A 480x270 test picture saved by Pillow as JPEG (4:2:0), marked in its own luma."""
    rgb = np.frombuffer(lavfi(graph, 480, 270, 1, "rgb24"), np.uint8).reshape(270, 480, 3)
    y, cb, cr = Image.fromarray(rgb).convert("YCbCr").split()
    if payload is not None:
        y = Image.fromarray(embed_luma(np.asarray(y), payload))
    Image.merge("YCbCr", (y, cb, cr)).save(path, quality=quality)
    return path


def h264(path: Path, graph: str, payload: bytes | None) -> Path:
    """One second of 640x360 test video, luma marked, as libx264 CRF 28 yuv420p."""
    frames = np.frombuffer(lavfi(graph, 640, 360, 25, "yuv420p"), np.uint8).reshape(25, -1).copy()
    if payload is not None:
        for frame in frames:
            luma = frame[: 640 * 360].reshape(360, 640)
            luma[...] = embed_luma(luma, payload)
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p"]
    argv += ["-s", "640x360", "-r", "25", "-i", "-", "-c:v", "libx264", "-crf", "28"]
    argv += ["-preset", "medium", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, input=frames.tobytes(), check=True)
    return path


@needs_ffmpeg
@pytest.mark.parametrize("graph", ["testsrc", "mandelbrot", "smptebars", "testsrc2"])
def test_survives_jpeg_quality_80(tmp_path: Path, graph: str) -> None:
    assert detect_file(jpeg(tmp_path / "marked.jpg", graph, BOB)) == BOB


@needs_ffmpeg
@pytest.mark.parametrize("graph", ["testsrc2", "mandelbrot"])
def test_survives_h264_crf_28(tmp_path: Path, graph: str) -> None:
    assert detect_file(h264(tmp_path / "marked.mp4", graph, ALICE)) == ALICE


@needs_ffmpeg
def test_clean_files_have_no_mark(tmp_path: Path) -> None:
    assert detect_file(jpeg(tmp_path / "clean.jpg", "testsrc", None)) is None
    assert detect_file(h264(tmp_path / "clean.mp4", "testsrc2", None)) is None


@needs_ffmpeg
def test_odd_sized_lossless_file(tmp_path: Path) -> None:
    path = tmp_path / "odd.png"
    Image.fromarray(embed_luma(textured(157, 201), ALICE)).save(path)
    assert detect_file(path) == ALICE


@needs_ffmpeg
def test_a_file_ffmpeg_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "not-media.mp4"
    path.write_bytes(b"definitely not a video")
    with pytest.raises(ValueError, match="cannot decode"):
        detect_file(path)
