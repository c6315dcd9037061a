"""The reframe's geometry and smoothing, from face boxes given as plain data."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from mediajobs.worker.reframe import path
from mediajobs.worker.reframe.path import Crop


def test_crop_for_a_wide_picture_slides_sideways() -> None:
    assert path.crop_for(1920, 1080, (9, 16)) == Crop(606, 1080, "x", 1920)
    assert path.crop_for(640, 360, (1, 1)) == Crop(360, 360, "x", 640)


def test_crop_for_a_tall_picture_slides_up_and_down() -> None:
    assert path.crop_for(1080, 1920, (1, 1)) == Crop(1080, 1080, "y", 1920)
    assert path.crop_for(720, 1280, (9, 16)) == Crop(720, 1280, "y", 1280)  # already 9:16


def test_target_keeps_every_face_when_they_fit() -> None:
    crop = Crop(600, 1080, "x", 1920)
    assert path.target([], crop) is None
    assert path.target([(100, 0, 100, 100)], crop) == 150
    assert path.target([(100, 0, 100, 100), (500, 0, 100, 100)], crop) == 350
    # too far apart for one crop: the larger face wins
    assert path.target([(0, 0, 100, 100), (1500, 0, 200, 200)], crop) == 1600


CROP = Crop(200, 360, "x", 640)


def test_no_face_anywhere_gives_no_path() -> None:
    assert path.smooth([None, None, None], 5, CROP) is None


def test_gaps_are_bridged_and_ends_held() -> None:
    samples = [None] * 3 + [200.0] * 5 + [None] * 5 + [260.0] * 5 + [None] * 3
    centres = path.smooth(samples, 0.5, CROP)  # too few a second to average: filled and voted
    assert centres == pytest.approx([200] * 8 + [210, 220, 230, 240, 250] + [260] * 8)


def test_jitter_is_smoothed_away() -> None:
    noise = random.Random(7)
    samples = [320 + noise.uniform(-30, 30) for _ in range(100)]
    centres = path.smooth(samples, 5, CROP)
    assert centres is not None
    raw_steps = max(abs(b - a) for a, b in itertools.pairwise(samples))
    steps = max(abs(b - a) for a, b in itertools.pairwise(centres))
    assert raw_steps > 30 and steps < 10
    assert all(abs(c - 320) < 20 for c in centres)


def test_a_single_false_detection_is_voted_out() -> None:
    samples: list[float | None] = [300.0] * 20
    samples[10] = 600.0
    assert path.smooth(samples, 5, CROP) == pytest.approx([300.0] * 20)


def test_a_steady_movement_is_followed_without_lag() -> None:
    samples: list[float | None] = [150 + 10 * i for i in range(30)]
    centres = path.smooth(samples, 5, CROP)
    assert centres is not None
    assert centres[8:-8] == pytest.approx(samples[8:-8])  # away from the ends


def test_the_crop_never_leaves_the_picture() -> None:
    centres = path.smooth([10.0, 10.0, 630.0, 630.0, 630.0], 1, CROP)
    assert centres is not None
    assert min(centres) >= 100 and max(centres) <= 540


def test_script_moves_the_corner_linearly_between_samples() -> None:
    text = path.script([100, 110, 110], 5, CROP)
    assert text.splitlines() == [
        "0.000 crop x 0.00+50.000*(t-0.000);",
        "0.200 crop x 10.00+0.000*(t-0.200);",
        "0.400 crop x 10.00+0.000*(t-0.400);",
    ]
    assert re.fullmatch(r"[0-9a-z .+*()\-;\n]+", text)
