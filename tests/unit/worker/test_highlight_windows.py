"""Choosing highlights from measurements given as plain data (no FFmpeg)."""

from __future__ import annotations

import pytest

from mediajobs.worker.highlights import render
from mediajobs.worker.highlights import windows as w
from mediajobs.worker.highlights.windows import Measures, Window


def steady(duration: float, value: float, rate: int = 10) -> list[tuple[float, float]]:
    return [(i / rate, value) for i in range(int(duration * rate))]


def with_burst(
    series: list[tuple[float, float]], start: float, end: float, value: float
) -> list[tuple[float, float]]:
    return [(t, value if start <= t < end else v) for t, v in series]


def test_starts_cover_the_video_and_end_at_its_end() -> None:
    assert w.starts(10, 4) == [0, 1, 2, 3, 4, 5, 6]
    assert w.starts(10.5, 4)[-1] == 6.5
    assert w.starts(3, 4) == [0]


def test_candidates_carry_their_figures() -> None:
    measures = Measures(
        scene=[(2.0, 0.9), (2.1, 0.1), (6.0, 0.5)],
        motion=with_burst(steady(8, 1.0), 4, 8, 9.0),
        loudness=with_burst(steady(8, -40.0), 0, 4, -10.0),
    )
    first, *_, last = w.candidates(measures, 8, 4, threshold=0.3)
    assert (first.start, first.end, first.cuts) == (0, 4, 1)
    assert (last.start, last.end, last.cuts) == (4, 8, 1)
    assert first.motion == pytest.approx(1.0) and last.motion == pytest.approx(9.0)
    assert first.loudness == pytest.approx(-10.0) and last.loudness == pytest.approx(-40.0)


def test_loudness_averages_as_energy() -> None:
    half_loud = with_burst(steady(4, -70.0), 0, 2, -10.0)
    (window,) = w.candidates(Measures([], [], half_loud), 4, 4, threshold=0.3)
    assert window.loudness == pytest.approx(-13.0, abs=0.1)  # half the energy: 3 dB down


def test_a_silent_video_has_no_loudness_to_score() -> None:
    windows = w.scored(w.candidates(Measures([], steady(8, 1.0), []), 8, 4, 0.3))
    assert {x.loudness for x in windows} == {w.SILENCE_LUFS}
    assert {x.score for x in windows} == {0.0}


def test_scores_are_the_mean_of_the_normalised_figures() -> None:
    windows = [
        Window(0, 4, cuts=0, motion=0.0, loudness=-40.0),
        Window(4, 8, cuts=2, motion=5.0, loudness=-40.0),
        Window(8, 12, cuts=1, motion=10.0, loudness=-20.0),
    ]
    assert [x.score for x in w.scored(windows)] == pytest.approx([0.0, 1.5 / 3, 2.5 / 3])


def test_best_picks_high_scores_without_overlap_in_time_order() -> None:
    windows = [
        Window(0, 4, score=0.2),
        Window(2, 6, score=0.9),
        Window(4, 8, score=0.8),
        Window(6, 10, score=0.7),
        Window(8, 12, score=0.1),
    ]
    chosen = w.best(windows, 2)
    assert [(x.start, x.score) for x in chosen] == [(2, 0.9), (6, 0.7)]
    assert [x.start for x in w.best(windows, 9)] == [2, 6]  # nothing else fits


def test_best_breaks_ties_by_time() -> None:
    windows = [Window(8, 10, score=0.5), Window(0, 2, score=0.5), Window(4, 6, score=0.5)]
    assert [x.start for x in w.best(windows, 2)] == [0, 4]


def test_spread_takes_the_best_of_each_part() -> None:
    scores = [(0, 0.1), (3, 0.9), (5, 0.2), (8, 0.4), (14, 0.3), (17, 0.35)]
    windows = [Window(s, s + 2, score=score) for s, score in scores]
    chosen = w.spread(windows, 2, 20)
    assert [x.start for x in chosen] == [3, 17]


def test_plans_add_up_to_the_target() -> None:
    assert w.highlight_count(6, 3, 0.5) == 2
    assert w.highlight_count(2, 5, 0.5) == 1
    count, length = w.digest_plan(60, 5, 0.5)
    assert count == 12
    chosen = [Window(i * 10, i * 10 + length) for i in range(count)]
    assert w.joined_length(chosen, 0.5) == pytest.approx(60)


def test_scenes_ignore_cuts_too_close_together() -> None:
    assert w.scenes([2.0, 4.0], 6.0, 1.0) == [(0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    assert w.scenes([2.0, 2.4, 4.0], 6.0, 1.0) == [(0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    assert w.scenes([0.2, 5.7], 6.0, 1.0) == [(0, 6.0)]  # too near either end
    assert w.scenes([], 6.0, 1.0) == [(0, 6.0)]


def test_bodies_leave_the_crossfaded_ends_out() -> None:
    windows = [Window(10, 14), Window(20, 24), Window(30, 34)]
    parts = [(b.start, b.end) for b in render.bodies(windows, 0.5)]
    assert parts == [(0, 3.5), (10.5, 13.5), (20.5, 24)]  # from the first window's start
    lengths = sum(b.end - b.start for b in render.bodies(windows, 0.5))
    assert lengths + 2 * 0.5 == pytest.approx(w.joined_length(windows, 0.5))  # + the crossfades
