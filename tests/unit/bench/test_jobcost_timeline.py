"""The job-cost phase's pure parts: percentiles, segments from timestamps, the sources parsed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench import jobcost
from bench.common import percentile
from bench.jobcost_report import Workload, WorkloadResult, render
from bench.jobcost_timeline import (
    MARKS,
    SEGMENTS,
    WORK,
    ContainerdEvent,
    Stats,
    Timeline,
    breakdown,
    first_event,
    log_line_time,
    overheads,
    parse_containerd_event,
)

T0 = 1_796_000_000.0  # an epoch second; the marks below are offsets from it
# created, job, pod, scheduled, sandbox, started, first_line, exited, reported,
# succeeded; then, off the path: pod_done, job_complete
OFFSETS = (0.0, 0.02, 0.05, 0.06, 0.5, 0.7, 1.0, 1.3, 2.3, 2.4, 3.3, 3.35)


def timeline(name: str = "a", shift: float = 0.0, scale: float = 1.0) -> Timeline:
    marks = {m: T0 + shift + o * scale for m, o in zip(MARKS, OFFSETS, strict=True)}
    return Timeline(name, marks)


def test_percentile_interpolates_between_the_nearest_ranks() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile(list(map(float, range(1, 101))), 0.95) == pytest.approx(95.05)
    assert percentile([7.0], 0.95) == 7.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_stats_give_p50_p95_and_the_mean() -> None:
    stats = Stats.of([1.0, 2.0, 3.0, 10.0])
    assert (stats.p50, stats.mean) == (2.5, 4.0)
    assert stats.p95 == pytest.approx(8.95)


def test_segments_run_between_consecutive_marks_and_add_up_to_the_whole() -> None:
    t = timeline()
    segments = t.segments()
    assert list(segments) == [s.name for s in SEGMENTS]
    assert sum(segments.values()) == pytest.approx(t.total()) == pytest.approx(2.4)
    assert segments["scheduling: pod -> bound to the node"] == pytest.approx(0.01)
    assert segments[WORK] == pytest.approx(0.3)  # first log line -> container exit


def test_overhead_is_the_whole_minus_the_warm_worker_for_the_same_task() -> None:
    jobs = [timeline("a"), timeline("b", shift=10, scale=2)]
    assert overheads(jobs, [0.25, 0.5]) == pytest.approx([2.15, 4.3])


def test_breakdown_takes_the_warm_worker_out_of_the_work_and_shares_add_up() -> None:
    b = breakdown([timeline("a"), timeline("b", scale=2)], [0.2, 0.4])
    assert b.jobs == 2 and b.incomplete == []
    rows = {name: (stats, share) for name, stats, share in b.rows}
    work, _ = rows["work in the pod - the warm worker"]
    assert work.p50 == pytest.approx(0.15)  # (0.3 - 0.2 + 0.6 - 0.4) / 2
    termination, share = rows["kubelet: container exit -> exit in the pod's status"]
    assert termination.mean == pytest.approx(1.5)
    mean_overhead = ((2.4 - 0.2) + (4.8 - 0.4)) / 2
    assert share == pytest.approx(1.5 / mean_overhead)
    assert sum(share for _, _, share in b.rows) == pytest.approx(1.0)
    settling = dict(b.settling)  # off the path: no share of the overhead
    assert settling["kubelet: container exit -> pod Succeeded (sandbox stopped)"].p50 == (
        pytest.approx(3.0)  # (2.0 + 4.0) / 2
    )
    assert settling["Job controller: pod Succeeded -> Job succeeded"].p50 == pytest.approx(0.075)


def test_a_timeline_missing_a_mark_is_left_out_and_named() -> None:
    broken = timeline("b")
    marks = dict(broken.marks)
    del marks["sandbox"], marks["first_line"]
    b = breakdown([timeline("a"), Timeline("b", marks)], [0.2, 0.2])
    assert b.jobs == 1
    assert b.incomplete == ["b: no sandbox, first_line"]
    with pytest.raises(ValueError, match="1 timelines but 0 warm worker times"):
        breakdown([timeline()], [])


def test_containerd_events_as_ctr_prints_them() -> None:
    line = (
        "2026-12-07 21:10:00.123456789 +0000 UTC k8s.io /tasks/start "
        '{"container_id":"abc","pid":42}'
    )
    event = parse_containerd_event(line)
    assert event is not None
    assert event.topic == "/tasks/start" and event.container == "abc"
    assert event.at == pytest.approx(1796677800.123456789, abs=1e-6)
    # Go trims trailing zeros from the fraction; another offset is the same instant.
    shifted = parse_containerd_event(
        '2026-12-07 22:10:00.1 +0100 CET k8s.io /tasks/exit {"container_id":"abc","id":"abc"}'
    )
    assert shifted is not None and shifted.at == pytest.approx(1796677800.1, abs=1e-6)
    assert parse_containerd_event("ctr: failed to dial") is None
    events = [
        ContainerdEvent(5.0, "/tasks/start", "abc"),
        ContainerdEvent(3.0, "/tasks/start", "abc"),
        ContainerdEvent(1.0, "/tasks/exit", "abc"),
    ]
    assert first_event(events, "abc", "/tasks/start") == 3.0
    assert first_event(events, "other", "/tasks/start") is None


def test_log_lines_carry_nanosecond_rfc3339_times() -> None:
    line = "2026-12-07T21:10:00.987654321Z 2026-12-07 21:10:00,987 INFO task ns/a"
    assert log_line_time(line) == pytest.approx(1796677800.987654321, abs=1e-6)
    assert log_line_time("2026-12-07T21:10:00Z x") == 1796677800.0


def test_the_report_says_whether_the_target_is_met() -> None:
    jobs = [timeline("a"), timeline("b", shift=5)]
    fast = WorkloadResult(Workload("thumbnail_generate", "t", "jpg", 2), jobs, [0.5, 0.5],
                          [0.2, 0.2], [0.9, 1.1])  # fmt: skip
    text = render([fast])
    assert "| thumbnail_generate x2 | Kubernetes: MediaJob create -> Succeeded | 2.40 s" in text
    assert "|  | same image, no Kubernetes (ctr run) | 1.00 s | 1.09 s | 2.00 s | 5.00x |" in text
    assert "target p50 ≤ 2 s: met" in text  # 2.4 - 0.5 = 1.9 s
    # Kubernetes' own share: 2.4 - 0.9 and 2.4 - 1.1
    beyond = "|  | of which Kubernetes', over the container alone | 1.40 s | 1.49 s | 1.40 s/job"
    assert beyond in text
    slow = WorkloadResult(fast.workload, jobs, [0.1, 0.1], [0.05, 0.05], [0.2, 0.2])
    assert "target p50 ≤ 2 s: NOT met" in render([slow])
    assert fast.kubernetes_wall() == pytest.approx(4.8)  # one at a time: the jobs' sum
    assert "| kubelet: container exit -> pod Succeeded (sandbox stopped) | 2.00 s |" in text


def test_without_root_the_phase_says_why_it_skips(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert jobcost.main(["--workdir", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert "bench.jobcost skipped: the real node (hack/node.py) needs root" in out
    assert not (tmp_path / "work").exists()  # nothing started, nothing made
