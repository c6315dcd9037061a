"""The smart operations on real media: highlights, clips, digests, scenes, vertical reframing."""

from __future__ import annotations

import itertools
import re
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest

from mediajobs.worker.reframe.faces import CASCADE
from tests.worker import smart_media as sm
from tests.worker.conftest import Work, ffprobe, streams

QUIET_DB = -30.0  # the quiet tone peaks near -40 dBFS, the burst near 0


@pytest.fixture(scope="module")
def smart(media: Path) -> Path:
    """The smart media under in/ of the session's media root."""
    inbox = media / "in"
    sm.burst_clip(inbox / "burst.mp4")
    sm.scenes_clip(inbox / "scenes.mp4")
    sm.moving_face_clip(inbox / "face.mp4")
    return media


def duration(path: Path) -> float:
    return float(ffprobe(path)["format"]["duration"])


def peak_db(path: Path) -> float:
    done = subprocess.run(
        ["ffmpeg", "-v", "info", "-nostdin", "-i", str(path), "-af", "volumedetect",
         "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"max_volume: (-?[\d.]+) dB", done.stderr)
    assert found, done.stderr
    return float(found.group(1))


def covers(window: dict[str, float], at: float) -> bool:
    return window["start"] <= at <= window["end"]


BURST_MIDDLE = sum(sm.BURST) / 2


def test_highlight_contains_the_burst(work: Work, smart: Path) -> None:
    params = {"targetLength": 6, "clipLength": 3, "crossfade": 0.5, "preset": "ultrafast"}
    outcome = work("highlight_generate", "in/burst.mp4", params=params)
    data = outcome.result.data or {}
    chosen = data["windows"]
    assert len(chosen) == 2  # 3 + 3 - 0.5 fits in 6, a third would not
    assert [w["start"] for w in chosen] == sorted(w["start"] for w in chosen)
    assert any(covers(w, BURST_MIDDLE) for w in chosen), chosen
    best = max(chosen, key=lambda w: w["score"])
    assert covers(best, BURST_MIDDLE) and best["cuts"] >= 1
    assert all(w["end"] <= c["start"] for w, c in itertools.pairwise(chosen))
    out = outcome.output()
    assert abs(duration(out) - data["length"]) < 0.2
    assert data["length"] == pytest.approx(5.5)
    assert peak_db(out) > QUIET_DB  # the loud part made it into the file
    assert [s["codec_name"] for s in streams(out, "audio")] == ["aac"]


def test_clips_are_the_windows_and_one_holds_the_burst(work: Work, smart: Path) -> None:
    params = {"targetLength": 6, "clipLength": 3, "preset": "ultrafast"}
    outcome = work("clip_generate", "in/burst.mp4", params=params)
    chosen = (outcome.result.data or {})["windows"]
    assert len(chosen) == len(outcome.result.outputs) == 2
    loud = [peak_db(outcome.output(i)) > QUIET_DB for i in range(2)]
    assert loud == [covers(w, BURST_MIDDLE) for w in chosen]
    assert any(loud)
    for i in range(2):
        assert abs(duration(outcome.output(i)) - 3) < 0.15
        assert outcome.result.outputs[i].path.endswith(f"burst-{i + 1:03d}.mp4")


def test_digest_lasts_target_length(work: Work, smart: Path) -> None:
    params = {"targetLength": 8, "clipLength": 4, "crossfade": 0.5, "preset": "ultrafast"}
    outcome = work("digest_generate", "in/burst.mp4", params=params)
    data = outcome.result.data or {}
    assert abs(duration(outcome.output()) - 8) < 0.25
    first, second = data["windows"]
    middles = [(w["start"] + w["end"]) / 2 for w in (first, second)]
    assert middles[0] < sm.BURST_LENGTH / 2 <= middles[1]  # one from each half
    assert covers(second, BURST_MIDDLE)


def test_digest_of_a_video_shorter_than_the_target_is_refused(work: Work, smart: Path) -> None:
    outcome = work("digest_generate", "in/clip.mp4", params={"targetLength": 10})
    assert outcome.code == 2
    assert "longer than targetLength" in outcome.error


def test_scene_extract_splits_at_the_cuts(work: Work, smart: Path) -> None:
    outcome = work("scene_extract", "in/scenes.mp4", params={"preset": "ultrafast"})
    scenes = (outcome.result.data or {})["scenes"]
    assert len(scenes) == len(outcome.result.outputs) == 3
    starts = [s["start"] for s in scenes]
    assert starts[0] == 0
    assert starts[1:] == pytest.approx(list(sm.SCENE_CUTS), abs=0.05)
    for i in range(3):
        assert abs(duration(outcome.output(i)) - 2) < 0.1


def test_several_files_need_a_prefix(work: Work, smart: Path) -> None:
    outcome = work("scene_extract", "in/scenes.mp4", output={"path": "one/file.mp4"})
    assert outcome.code == 2
    assert "set output.prefix" in outcome.error


# ---------------------------------------------------------------- auto_reframe


def cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)  # type: ignore[attr-defined]


def faces_in(grey: np.ndarray) -> int:
    return len(cascade().detectMultiScale(grey, 1.1, 5, minSize=(20, 20)))


def test_the_drawn_face_is_a_face_to_the_cascade() -> None:
    """The premise of the reframe test: the cascade finds the drawn face at every position."""
    found = [faces_in(sm.face_frame(t / 4)) for t in range(4 * sm.FACE_SECONDS)]
    assert found == [1] * len(found)


def grey_frames(path: Path, fps: int) -> list[np.ndarray]:
    video = streams(path, "video")[0]
    width, height = video["width"], video["height"]
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"fps={fps}", "-f", "rawvideo",
         "-pix_fmt", "gray", "pipe:1"],
        capture_output=True, check=True,
    )  # fmt: skip
    size = width * height
    return [
        np.frombuffer(done.stdout[i : i + size], np.uint8).reshape(height, width)
        for i in range(0, len(done.stdout) - size + 1, size)
    ]


def test_auto_reframe_keeps_the_moving_face_in_frame(work: Work, smart: Path) -> None:
    outcome = work("auto_reframe", "in/face.mp4", params={"preset": "ultrafast", "crf": 18})
    data = outcome.result.data or {}
    assert data["mode"] == "faces"
    assert data["framesWithFaces"] >= 0.9 * data["framesSampled"]
    out = outcome.output()
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == (202, 360)  # 9:16 of a 360-line picture
    frames = grey_frames(out, 5)
    seen = sum(1 for f in frames if faces_in(f) >= 1)
    assert len(frames) >= 5 * sm.FACE_SECONDS - 1
    assert seen >= 0.9 * len(frames), f"the face is in {seen} of {len(frames)} frames"


def test_a_centre_crop_would_lose_the_face() -> None:
    """What the reframe test rules out: a fixed centre crop misses the face most of the time."""
    left = (sm.FACE_SIZE[0] - 202) // 2
    frames = [sm.face_frame(t / 5)[:, left : left + 202] for t in range(5 * sm.FACE_SECONDS)]
    seen = sum(1 for f in frames if faces_in(np.ascontiguousarray(f)) >= 1)
    assert seen < 0.5 * len(frames)


def test_auto_reframe_without_faces_is_a_centre_crop(work: Work, smart: Path) -> None:
    params = {"aspect": "1:1", "height": 200, "preset": "ultrafast"}
    outcome = work("auto_reframe", "in/clip.mp4", params=params)
    data = outcome.result.data or {}
    assert data["mode"] == "centre"
    assert data["framesWithFaces"] == 0
    video = streams(outcome.output(), "video")[0]
    assert (video["width"], video["height"]) == (200, 200)
    assert [a["codec_name"] for a in streams(outcome.output(), "audio")] == ["aac"]


@pytest.mark.parametrize(
    "source", ["in/silent.mp4", "in/rotated.mp4", "in/vfr.mp4", "in/clip.webm"]
)
def test_short_silent_rotated_and_odd_inputs(work: Work, source: str) -> None:
    """Shorter than one window, no sound, a display matrix, a variable rate, Matroska."""
    highlight = work("highlight_generate", source, params={"preset": "ultrafast"})
    (window,) = (highlight.result.data or {})["windows"]
    assert window["start"] == 0
    assert abs(duration(highlight.output()) - window["end"]) < 0.15
    reframed = work("auto_reframe", source, params={"preset": "ultrafast"})
    video = streams(reframed.output(), "video")[0]
    # 9:16 of the picture as displayed: 320 lines when upright, 240 otherwise
    assert (video["width"], video["height"]) == ((180, 320) if "rotated" in source else (134, 240))


SMART = ["scene_extract", "highlight_generate", "clip_generate", "digest_generate", "auto_reframe"]


@pytest.mark.parametrize("operation", SMART)
@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("in/photo.jpg", "input is an image, not a video"),
        ("in/notmedia.mp4", "not a"),
        ("in/truncated.mov", "truncated or corrupt"),
    ],
)
def test_bad_inputs_are_refused_with_exit_2(
    work: Work, operation: str, source: str, reason: str
) -> None:
    outcome = work(operation, source)
    assert outcome.code == 2
    assert reason in outcome.error
