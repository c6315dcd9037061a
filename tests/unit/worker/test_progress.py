"""The -progress parser and the publish throttle: plain data, the clock passed in."""

from __future__ import annotations

import pytest

from mediajobs.progress.ffmpeg import FfmpegProgress, out_time, parse_clock
from mediajobs.throttle import Throttle


def feed_block(parser: FfmpegProgress, progress: str = "continue", **fields: str) -> int | None:
    for key, value in fields.items():
        assert parser.feed(f"{key}={value}\n") is None
    return parser.feed(f"progress={progress}\n")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("00:00:01.500000", 1.5),
        ("01:02:03.250000", 3723.25),
        ("-00:00:00.040000", -0.04),
        ("N/A", None),
        ("", None),
        ("12:xx:00", None),
    ],
)
def test_parse_clock(text: str, seconds: float | None) -> None:
    assert parse_clock(text) == (pytest.approx(seconds) if seconds is not None else None)


@pytest.mark.parametrize(
    ("block", "seconds"),
    [
        ({"out_time_us": "2500000", "out_time_ms": "1", "out_time": "00:00:09.000000"}, 2.5),
        # out_time_ms is microseconds too (FFmpeg's misnomer)
        ({"out_time_us": "N/A", "out_time_ms": "1000000"}, 1.0),
        ({"out_time_us": "N/A", "out_time_ms": "N/A", "out_time": "00:00:03.000000"}, 3.0),
        ({"out_time_us": "N/A", "out_time_ms": "N/A", "out_time": "N/A"}, None),
        ({}, None),
    ],
)
def test_out_time_prefers_microseconds(block: dict[str, str], seconds: float | None) -> None:
    assert out_time(block) == seconds


def test_percent_of_the_duration_at_each_block_end() -> None:
    parser = FfmpegProgress(duration=10.0)
    assert feed_block(parser, frame="1", out_time_us="0") == 0
    assert feed_block(parser, out_time_us="2500000") == 25
    assert feed_block(parser, out_time_us="9990000") == 99


def test_lines_inside_a_block_answer_nothing_and_junk_is_ignored() -> None:
    parser = FfmpegProgress(duration=4.0)
    assert parser.feed("frame=10\n") is None
    assert parser.feed("not a key value line\n") is None
    assert parser.feed("out_time_us=1000000\n") is None
    assert parser.feed("progress=continue\n") == 25


def test_never_goes_backwards_when_blocks_arrive_out_of_order() -> None:
    parser = FfmpegProgress(duration=10.0)
    assert feed_block(parser, out_time_us="6000000") == 60
    assert feed_block(parser, out_time_us="3000000") == 60
    assert feed_block(parser, out_time_us="N/A") == 60
    assert feed_block(parser, out_time_us="7000000") == 70


def test_held_below_100_until_end_even_past_the_duration() -> None:
    parser = FfmpegProgress(duration=2.0)
    assert feed_block(parser, out_time_us="5000000") == 99
    assert feed_block(parser, progress="end", out_time_us="5000000") == 100
    assert parser.ended
    assert feed_block(parser, out_time_us="1000000") == 100


@pytest.mark.parametrize("duration", [None, 0.0, -1.0])
def test_unknown_duration_reports_zero_then_100(duration: float | None) -> None:
    parser = FfmpegProgress(duration=duration)
    assert feed_block(parser, out_time_us="5000000") == 0
    assert feed_block(parser, progress="end") == 100


def test_negative_and_na_times_are_zero() -> None:
    parser = FfmpegProgress(duration=10.0)
    assert feed_block(parser, out_time_us="-40000") == 0
    assert feed_block(parser, out_time_us="N/A", out_time_ms="N/A", out_time="N/A") == 0


def test_keys_of_a_block_do_not_leak_into_the_next() -> None:
    parser = FfmpegProgress(duration=10.0)
    assert feed_block(parser, out_time_us="5000000") == 50
    # this block has no position at all: it must not reuse the previous one's
    assert feed_block(parser, frame="99") == 50


# ---------------------------------------------------------------- throttle


def test_first_value_is_published() -> None:
    assert Throttle().due(0, now=100.0)


@pytest.mark.parametrize(
    ("progress", "now", "due"),
    [
        (11, 10.5, False),  # +1 point within a second
        (10, 20.0, False),  # no change, however late
        (9, 20.0, False),  # lower: never
        (15, 10.1, True),  # +5 points
        (11, 11.0, True),  # a second later
        (100, 10.01, True),  # the end, always
    ],
)
def test_throttle_publishes_on_time_or_step(progress: int, now: float, due: bool) -> None:
    throttle = Throttle()
    assert throttle.due(10, now=10.0)
    assert throttle.due(progress, now=now) is due


def test_throttle_measures_from_the_last_publish_not_the_last_offer() -> None:
    throttle = Throttle(min_interval=1.0, min_step=5)
    assert throttle.due(10, now=0.0)
    assert not throttle.due(11, now=0.6)
    assert not throttle.due(12, now=0.9)
    assert throttle.due(13, now=1.0)
    assert not throttle.due(14, now=1.5)


def test_throttle_publishes_100_once() -> None:
    throttle = Throttle()
    assert throttle.due(99, now=0.0)
    assert throttle.due(100, now=0.1)
    assert not throttle.due(100, now=5.0)


def test_the_furthest_position_is_kept_for_the_length_check() -> None:
    parser = FfmpegProgress(10.0)
    for line in ["out_time_us=1500000", "progress=continue", "out_time_us=N/A",
                 "progress=continue", "out_time_us=4250000", "progress=end"]:  # fmt: skip
        parser.feed(line)
    assert parser.reached == 4.25
    assert FfmpegProgress(None).reached is None
