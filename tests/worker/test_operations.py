"""Every FFmpeg operation on real media; each output probed for what the operation promises."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mediajobs.worker import stego
from tests.worker.conftest import Work, exif_tags, ffprobe, streams, top_level_boxes

VIDEO_INPUTS = [
    "in/clip.mp4",
    "in/clip.mov",
    "in/clip.webm",
    "in/clip.mkv",
    "in/vertical.mp4",
    "in/rotated.mp4",
    "in/silent.mp4",
    "in/vfr.mp4",
    "in/tenbit.mp4",
]
DISPLAYED = {"in/vertical.mp4": (240, 320), "in/rotated.mp4": (240, 320)}
SILENT = {"in/silent.mp4", "in/rotated.mp4"}


def duration(path: Path) -> float:
    return float(ffprobe(path)["format"]["duration"])


@pytest.mark.parametrize("source", VIDEO_INPUTS)
def test_reencode_streaming_is_web_playable(work: Work, source: str) -> None:
    outcome = work("reencode_streaming", source, params={"preset": "ultrafast"})
    out = outcome.output()
    video = streams(out, "video")[0]
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")  # 10-bit too
    assert (video["width"], video["height"]) == DISPLAYED.get(source, (320, 240))
    audio = streams(out, "audio")
    assert [a["codec_name"] for a in audio] == ([] if source in SILENT else ["aac"])
    boxes = top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart
    assert abs(duration(out) - duration(outcome.root / source)) < 0.15
    described = outcome.result.outputs[0]
    assert described.path == f"{outcome.task['output']['prefix']}/{Path(source).stem}.mp4"
    assert described.bytes == out.stat().st_size
    assert described.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (described.width, described.height) == DISPLAYED.get(source, (320, 240))
    assert described.video_codec == "h264"
    assert described.audio_codec == (None if source in SILENT else "aac")
    data = outcome.result.data or {}
    assert data["encoder"] == "libx264"
    assert data["streams"]["dropped"] == []
    assert data["streams"]["kept"][0].startswith("1:0 video ")


def test_reencode_caps_the_bitrate_with_maxrate(work: Work) -> None:
    def bitrate(target: int | None) -> int:
        params = {"preset": "ultrafast", "crf": 10, "targetBitrate": target}
        out = work("reencode_streaming", "in/clip.mp4", params=params).output()
        return int(streams(out, "video")[0]["bit_rate"])

    capped, free = bitrate(100), bitrate(None)
    # VBV: over the 2 s clip, at most maxrate plus the 200 kbit buffer drained once
    assert capped < min(free, 1.05 * (100_000 + 200_000 / 2))


def test_output_path_and_gpu_fallback(work: Work) -> None:
    outcome = work(
        "reencode_streaming",
        "in/clip.mp4",
        params={"preset": "ultrafast"},
        output={"path": "exact/place/clip.mov"},
        gpu=True,
    )
    assert outcome.result.outputs[0].path == "exact/place/clip.mov"
    assert "ftyp" in top_level_boxes(outcome.output())
    data = outcome.result.data or {}
    if Path("/dev/nvidia0").exists():
        assert data["encoder"] in ("h264_nvenc", "libx264")
    else:
        assert data["encoder"] == "libx264"
        assert data["gpuFallback"].startswith("h264_nvenc unavailable: ")


@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"width": 160, "height": 160}, (160, 120)),
        ({"width": 160, "height": 160, "mode": "fill"}, (160, 160)),
        ({"height": 101}, (134, 100)),
    ],
)
def test_resize_video(work: Work, params: dict[str, object], size: tuple[int, int]) -> None:
    out = work("resize_video", "in/clip.mp4", params=params | {"preset": "ultrafast"}).output()
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == size


def test_resize_a_rotated_video_fits_what_is_displayed(work: Work) -> None:
    out = work("resize_video", "in/rotated.mp4", params={"height": 160}).output()
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == (120, 160)


def test_crop_video(work: Work) -> None:
    box = {"left": 20, "top": 10, "width": 200, "height": 100}
    out = work("crop_video", "in/clip.webm", params={"box": box, "preset": "ultrafast"}).output()
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == (200, 100)


def test_compress_video_by_bitrate(work: Work) -> None:
    params = {"targetBitrate": 80, "audioBitrate": 32, "preset": "ultrafast"}
    out = work("compress_video", "in/clip.mp4", params=params).output()
    assert int(ffprobe(out)["format"]["bit_rate"]) < 200_000


def test_create_teaser(work: Work) -> None:
    params = {"start": 0.5, "duration": 1, "fade": True, "width": 160, "preset": "ultrafast"}
    outcome = work("create_teaser", "in/clip.mp4", params=params)
    out = outcome.output()
    assert abs(duration(out) - 1.0) < 0.1
    assert outcome.result.outputs[0].duration == pytest.approx(duration(out))
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == (160, 120)
    # faded in: the first frame is black
    first = Image.open(_frame(out, 0.0)).convert("L")
    assert np.asarray(first).max() < 40


def _frame(video: Path, at: float) -> Path:
    png = video.with_name(f"{video.stem}-{at}.png")
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-ss",
            str(at),
            "-i",
            str(video),
            "-frames:v",
            "1",
            str(png),
        ],
        check=True,
    )
    return png


def test_teaser_longer_than_the_input_is_cut_at_its_end(work: Work) -> None:
    out = work("create_teaser", "in/silent.mp4", params={"duration": 15}).output()
    assert abs(duration(out) - 1.0) < 0.1


@pytest.mark.parametrize(
    ("params", "name", "size", "codec"),
    [
        ({"width": 160}, "clip.jpg", (160, 120), "mjpeg"),
        ({"width": 100, "format": "png", "timestamp": 1.5}, "clip.png", (100, 75), "png"),
        ({"width": 64, "format": "webp"}, "clip.webp", (64, 48), "webp"),
    ],
)
def test_thumbnail(
    work: Work, params: dict[str, object], name: str, size: tuple[int, int], codec: str
) -> None:
    outcome = work("thumbnail_generate", "in/clip.mp4", params=params)
    assert outcome.result.outputs[0].path.endswith(f"/{name}")
    picture = streams(outcome.output(), "video")[0]
    assert (picture["width"], picture["height"], picture["codec_name"]) == (*size, codec)
    assert outcome.result.outputs[0].duration is None


def test_compile_gif_frame_count_and_size(work: Work) -> None:
    params = {"start": 0.5, "duration": 1, "fps": 10, "width": 120}
    out = work("compile_gif", "in/clip.mp4", params=params).output()
    with Image.open(out) as gif:
        assert gif.format == "GIF"
        assert gif.size == (120, 90)
        assert gif.n_frames == 10  # type: ignore[attr-defined]


def test_compile_concat_normalises_and_keeps_sound_in_step(work: Work) -> None:
    params = {"width": 320, "height": 240, "fps": 25, "preset": "ultrafast"}
    # landscape + portrait + silent + webm/opus: one size, one rate, sound throughout
    inputs = ("in/clip.mp4", "in/vertical.mp4", "in/silent.mp4", "in/clip.webm")
    outcome = work("compile_concat", *inputs, params=params)
    out = outcome.output()
    assert outcome.result.outputs[0].path.endswith(f"/{outcome.task['name']}.mp4")
    video = streams(out, "video")[0]
    assert (video["width"], video["height"], video["avg_frame_rate"]) == (320, 240, "25/1")
    audio = streams(out, "audio")
    assert len(audio) == 1
    total = sum(duration(outcome.root / i) for i in inputs)
    assert abs(duration(out) - total) < 0.25
    assert abs(float(audio[0]["duration"]) - float(video["duration"])) < 0.1


def test_compile_concat_of_silent_videos_has_no_sound(work: Work) -> None:
    out = work(
        "compile_concat", "in/silent.mp4", "in/rotated.mp4", params={"width": 160, "height": 120}
    ).output()
    assert streams(out, "audio") == []
    assert abs(duration(out) - 3.0) < 0.2


def test_compile_quad_is_the_requested_size_and_the_longest_length(work: Work) -> None:
    inputs = ("in/clip.mp4", "in/clip.mp4", "in/vertical.mp4", "in/silent.mp4")  # a repeat too
    params = {"width": 640, "height": 360, "preset": "ultrafast"}
    out = work("compile_quad", *inputs, params=params).output()
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == (640, 360)
    assert abs(duration(out) - 2.0) < 0.15
    assert streams(out, "audio") == []


def test_text_watermark_on_video(work: Work) -> None:
    params = {"text": "© it's 50%: a,b [x];y=\\z", "position": "top_left", "preset": "ultrafast"}
    outcome = work("apply_watermark", "in/clip.mp4", params=params)
    assert streams(outcome.output(), "video")[0]["codec_name"] == "h264"
    assert outcome.result.data == {
        "encoder": "libx264",
        "streams": {"kept": ["1:0 video h264", "1:1 audio aac"], "dropped": []},
    }


def test_image_watermark_on_video_changes_the_corner(work: Work) -> None:
    params = {"image": "in/logo.png", "opacity": 1, "position": "bottom_right", "margin": 0}
    out = work("apply_watermark", "in/silent.mp4", params=params | {"preset": "ultrafast"}).output()
    corner = Image.open(_frame(out, 0.5)).convert("L").crop((256, 208, 320, 240))
    assert np.asarray(corner).min() > 200  # the white logo covers it


@pytest.mark.parametrize("photo", ["in/photo.jpg", "in/photo.png", "in/photo.webp"])
def test_watermark_on_a_still_keeps_its_format(work: Work, photo: str) -> None:
    outcome = work("apply_watermark", photo, params={"text": "hello", "position": "center"})
    assert Path(outcome.result.outputs[0].path).suffix == Path(photo).suffix
    with Image.open(outcome.output()) as image:
        assert image.size == (320, 240)
    assert outcome.result.data is None  # nothing was H.264-encoded


# ---------------------------------------------------------------- stripping metadata

STRUCTURAL_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands"}  # MP4/MOV
STRUCTURAL_STREAM_TAGS = {"language", "handler_name", "vendor_id"}


@pytest.mark.parametrize("source", ["in/clip.mp4", "in/clip.mov", "in/clip.mkv", "in/clip.webm"])
def test_strip_metadata_from_video(work: Work, source: str) -> None:
    outcome = work("strip_metadata", source)
    out = outcome.output()
    assert out.suffix == Path(source).suffix  # a stream copy keeps its container
    doc = ffprobe(out)
    format_tags = doc["format"].get("tags", {})
    # Matroska's MuxingApp element (mandatory) shows as "encoder"; bitexact leaves no version
    assert format_tags.pop("encoder", "Lavf") == "Lavf"
    assert set(format_tags) <= STRUCTURAL_FORMAT_TAGS
    for stream in doc["streams"]:
        tags = stream.get("tags", {})
        assert set(tags) <= STRUCTURAL_STREAM_TAGS | {"DURATION"}  # Matroska's own length tag
        assert tags.get("language", "und") == "und"
        assert tags.get("handler_name", "Handler") in ("VideoHandler", "SoundHandler", "Handler")
    if source.endswith((".mp4", ".mov")):
        assert any("GPS" in k for k in exif_tags(outcome.root / source))  # there was one
    assert [k for k in exif_tags(out) if "GPS" in k or k.endswith((":Title", ":Comment"))] == []
    text = out.read_bytes()
    for secret in (b"Secret title", b"shot at home", b"+52.3700", b"camera track", b"Lavf59"):
        assert secret not in text
    # the streams are copied, not re-encoded
    before = {s["codec_name"] for s in ffprobe(outcome.root / source)["streams"]}
    assert {s["codec_name"] for s in doc["streams"]} == before


@pytest.mark.parametrize("photo", ["in/photo.jpg", "in/photo.png", "in/photo.webp"])
def test_strip_metadata_from_stills(work: Work, media: Path, photo: str) -> None:
    before = exif_tags(media / photo)
    assert any(k.startswith("GPS:") for k in before) and "IFD0:Make" in before
    out = work("strip_metadata", photo).output()
    after = exif_tags(out)
    leaked = [k for k in after if k.split(":")[0] in ("GPS", "IFD0", "ExifIFD", "XMP-x", "IPTC")]
    assert leaked == []
    assert b"Canon" not in out.read_bytes()
    with Image.open(out) as image:
        assert image.size == (320, 240)
        assert not image.getexif()


# ---------------------------------------------------------------- stills


@pytest.mark.parametrize(("fmt", "codec"), [("jpeg", "mjpeg"), ("png", "png"), ("webp", "webp")])
@pytest.mark.parametrize("photo", ["in/photo.jpg", "in/photo.png", "in/photo.webp"])
def test_convert_image(work: Work, photo: str, fmt: str, codec: str) -> None:
    outcome = work("convert_image", photo, params={"format": fmt, "quality": 80})
    picture = streams(outcome.output(), "video")[0]
    assert (picture["codec_name"], picture["width"], picture["height"]) == (codec, 320, 240)


def test_resize_and_crop_image(work: Work) -> None:
    fill = work(
        "resize_image", "in/photo.png", params={"width": 100, "height": 100, "mode": "fill"}
    )
    with Image.open(fill.output()) as image:
        assert image.size == (100, 100)
    fit = work("resize_image", "in/photo.webp", params={"width": 101, "format": "jpeg"})
    assert fit.result.outputs[0].path.endswith(".jpg")
    with Image.open(fit.output()) as image:
        assert image.size == (101, 76)
    box = {"left": 10, "top": 20, "width": 33, "height": 17}
    crop = work("crop_image", "in/photo.jpg", params={"box": box})
    with Image.open(crop.output()) as image:
        assert image.size == (33, 17)


# ---------------------------------------------------------------- analysis and the invisible mark


def test_scene_detect_finds_the_cut(work: Work) -> None:
    data = work("scene_detect", "in/cut.mp4", params={"threshold": 0.3}).result.data or {}
    assert data["threshold"] == 0.3
    times = [scene["time"] for scene in data["scenes"]]
    assert times and all(abs(t - 1.0) < 0.1 for t in times)
    assert all(scene["score"] > 0.3 for scene in data["scenes"])


def test_scene_detect_on_a_steady_clip_finds_nothing(work: Work) -> None:
    assert (work("scene_detect", "in/clip.mp4").result.data or {})["scenes"] == []


def test_validate_reports_the_probe(work: Work) -> None:
    result = work("validate", "in/rotated.mp4").result
    assert result.outputs == []
    data = result.data or {}
    assert data["kind"] == "video"
    video = data["streams"][0]
    assert (video["codec"], video["width"], video["height"], video["rotation"]) == (
        "h264",
        240,
        320,
        90,
    )
    assert work("validate", "in/photo.webp").result.data["kind"] == "image"  # type: ignore[index]


@pytest.mark.parametrize("source", ["in/photo.jpg", "in/photo.png", "in/clip.mp4"])
def test_steganographic_watermark_is_recoverable(work: Work, source: str) -> None:
    outcome = work(
        "apply_steganographic_watermark",
        source,
        params={"fanId": "fan-42", "preset": "ultrafast"},
        creatorProfile="alice",
    )
    payload = stego.payload_for("alice", "fan-42")
    assert (outcome.result.data or {})["watermarkId"] == payload.hex()
    out = outcome.output()
    assert out.suffix == Path(source).suffix
    assert stego.detect_file(out) == payload
    if source.endswith(".mp4"):
        assert [a["codec_name"] for a in streams(out, "audio")] == ["aac"]  # copied


def test_detect_watermark_command_names_the_fan(work: Work, media: Path) -> None:
    outcome = work(
        "apply_steganographic_watermark",
        "in/photo.png",
        params={"fanId": "fan-7"},
        creatorProfile="alice",
    )
    command = [sys.executable, "-m", "mediajobs", "detect-watermark", str(outcome.output())]
    found = subprocess.run(
        [*command, "--creator", "alice", "--fan", "fan-1", "--fan", "fan-7"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert found.returncode == 0
    expected = stego.payload_for("alice", "fan-7").hex()
    assert found.stdout.strip().endswith(f"watermark id {expected} = fan fan-7")
    clean = subprocess.run(
        [sys.executable, "-m", "mediajobs", "detect-watermark", str(media / "in/photo.png")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert clean.returncode == 1 and "no watermark found" in clean.stdout
