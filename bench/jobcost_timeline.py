"""Where a Job per MediaJob spends its time: timestamps -> segments -> figures (pure).

A job's Timeline holds wall-clock times (epoch seconds; everything runs on one
machine, so the API watch, containerd and the container log share one clock):

    created       the MediaJob create request was sent (this client)
    job           the operator's Job seen ADDED (watch)
    pod           the Job controller's pod seen ADDED (watch)
    scheduled     the pod seen bound to the node (watch: spec.nodeName)
    sandbox       the pod sandbox's pause container started (containerd /tasks/start:
                  the kubelet saw the pod, mounted its volumes, CNI gave it an address)
    started       the worker container started (containerd /tasks/start)
    first_line    the worker's first log line (the container log's own timestamp)
    exited        the worker container exited (containerd /tasks/exit)
    reported      the pod seen with the worker's terminated state (watch: the kubelet
                  reported the exit, its code and termination message)
    succeeded     the MediaJob seen Succeeded (watch)
and, off the MediaJob's path (they free its slot, not its result):
    pod_done      the pod seen Succeeded (watch: the kubelet stopped the sandbox)
    job_complete  the Job seen succeeded (watch: SuccessCriteriaMet or Complete)

The objects' own timestamps (creationTimestamp, conditions, startedAt) have one
second's resolution: too coarse for segments of tens of milliseconds, hence the
watch's arrival times and containerd's nanosecond events. Segments are measured
between consecutive marks, so they add up to the whole; the overhead over the warm
worker is the whole minus the warm worker's time for the same task, i.e. every
segment but `work`, plus `work` minus the warm worker's time. `pod_done` and
`job_complete` are not on that path since the operator finishes a MediaJob on its
pod's terminated worker (jobs/outcome.py): SETTLING gives them from the exit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import percentile

PATH = (
    "created", "job", "pod", "scheduled", "sandbox", "started", "first_line", "exited",
    "reported", "succeeded",
)  # fmt: skip
MARKS = (*PATH, "pod_done", "job_complete")
WORK = "work"


@dataclass(frozen=True)
class Segment:
    name: str
    start: str  # a mark
    end: str


SEGMENTS = (
    Segment("operator: MediaJob create -> Job create", "created", "job"),
    Segment("Job controller: Job -> pod", "job", "pod"),
    Segment("scheduling: pod -> bound to the node", "pod", "scheduled"),
    Segment("sandbox: bound -> sandbox ready (volumes, CNI, pause)", "scheduled", "sandbox"),
    Segment("container start: sandbox -> worker container started", "sandbox", "started"),
    Segment("worker start-up: container started -> first log line", "started", "first_line"),
    Segment(WORK, "first_line", "exited"),
    Segment("kubelet: container exit -> exit in the pod's status", "exited", "reported"),
    Segment("finish: exit in the pod's status -> MediaJob Succeeded", "reported", "succeeded"),
)
# What frees the job's slot (the operator holds it until the Job has settled), measured
# from the same exit: on the MediaJob's path only while the operator waited for the Job.
SETTLING = (
    Segment("kubelet: container exit -> pod Succeeded (sandbox stopped)", "exited", "pod_done"),
    Segment("Job controller: pod Succeeded -> Job succeeded", "pod_done", "job_complete"),
)


@dataclass(frozen=True)
class Timeline:
    name: str
    marks: Mapping[str, float]  # mark -> epoch seconds; a mark not seen is absent

    def total(self) -> float:
        return self.marks["succeeded"] - self.marks["created"]

    def complete(self) -> bool:
        return all(m in self.marks for m in MARKS)

    def segments(self) -> dict[str, float]:
        """Each segment's seconds; only for a complete timeline."""
        if not self.complete():
            missing = [m for m in MARKS if m not in self.marks]
            raise ValueError(f"{self.name}: no {', '.join(missing)}")
        return {s.name: self.marks[s.end] - self.marks[s.start] for s in SEGMENTS}

    def settling(self) -> dict[str, float]:
        """The SETTLING segments' seconds; only for a complete timeline."""
        self.segments()  # says what is missing
        return {s.name: self.marks[s.end] - self.marks[s.start] for s in SETTLING}


@dataclass(frozen=True)
class Stats:
    p50: float
    p95: float
    mean: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        return cls(percentile(values, 0.5), percentile(values, 0.95), sum(values) / len(values))


@dataclass(frozen=True)
class Breakdown:
    """Per segment, its Stats and its share of the mean overhead (means add up; medians
    do not). `work` is given as the pod's work minus the warm worker's time."""

    rows: list[tuple[str, Stats, float]]  # (segment, stats, share of the mean overhead)
    settling: list[tuple[str, Stats]]  # SETTLING's segments, off the path
    jobs: int  # complete timelines it was made of
    incomplete: list[str]  # jobs left out, each with the marks it lacked


def breakdown(timelines: Sequence[Timeline], warm: Sequence[float]) -> Breakdown:
    """TIMELINES against WARM, the warm worker's seconds for the same tasks (same order)."""
    if len(timelines) != len(warm):
        raise ValueError(f"{len(timelines)} timelines but {len(warm)} warm worker times")
    per_segment: dict[str, list[float]] = {s.name: [] for s in SEGMENTS}
    settling: dict[str, list[float]] = {s.name: [] for s in SETTLING}
    incomplete = []
    for timeline, warm_seconds in zip(timelines, warm, strict=True):
        try:
            segments = timeline.segments()
        except ValueError as err:
            incomplete.append(str(err))
            continue
        segments[WORK] -= warm_seconds
        for name, seconds in segments.items():
            per_segment[name].append(seconds)
        for name, seconds in timeline.settling().items():
            settling[name].append(seconds)
    if not per_segment[WORK]:
        return Breakdown([], [], 0, incomplete)
    mean_overhead = sum(sum(v) / len(v) for v in per_segment.values())
    rows = []
    for name, values in per_segment.items():
        stats = Stats.of(values)
        share = stats.mean / mean_overhead if mean_overhead > 0 else 0.0
        label = f"{WORK} in the pod - the warm worker" if name == WORK else name
        rows.append((label, stats, share))
    settled = [(name, Stats.of(values)) for name, values in settling.items()]
    return Breakdown(rows, settled, len(per_segment[WORK]), incomplete)


def overheads(timelines: Sequence[Timeline], warm: Sequence[float]) -> list[float]:
    """Per job: MediaJob create -> Succeeded, minus the warm worker's time for its task."""
    return [t.total() - w for t, w in zip(timelines, warm, strict=True)]


# ---- the timestamps' sources, parsed ------------------------------------------------

_FRACTION = re.compile(r"\.(\d+)")


def _parse_time(text: str) -> float:
    """An ISO-8601 time with up to nanoseconds (Python reads microseconds) as epoch seconds."""
    digits = ""
    match = _FRACTION.search(text)
    if match:
        digits = match.group(1)
        text = text[: match.start()] + text[match.end() :]
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"no time zone in {text!r}")
    fraction = int(digits) / 10 ** len(digits) if digits else 0.0
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(seconds=1) + fraction


@dataclass(frozen=True)
class ContainerdEvent:
    at: float  # epoch seconds
    topic: str  # /tasks/start, /tasks/exit...
    container: str  # the container (task) id; "" when the event names none


def parse_containerd_event(line: str) -> ContainerdEvent | None:
    """One line of `ctr events`, or None for a line that is not one.

    ctr prints Go's time.Time.String(), the namespace, the topic and the event as JSON:
    `2026-12-07 21:10:00.123456789 +0000 UTC k8s.io /tasks/start {"container_id":...}`.
    """
    parts = line.split(" ", 6)
    if len(parts) < 6 or not parts[5].startswith("/"):
        return None
    day, clock, offset = parts[0], parts[1], parts[2]
    try:
        at = _parse_time(f"{day}T{clock}{offset[:3]}:{offset[3:]}")
        event: Any = json.loads(parts[6]) if len(parts) == 7 else {}
    except ValueError:
        return None
    container = event.get("container_id") or event.get("id") or ""
    return ContainerdEvent(at, parts[5], str(container))


def log_line_time(line: str) -> float:
    """The time of a `kubectl logs --timestamps` line (RFC 3339, nanoseconds)."""
    stamp, _, _ = line.partition(" ")
    return _parse_time(stamp)


def first_event(events: Sequence[ContainerdEvent], container: str, topic: str) -> float | None:
    times = (e.at for e in events if e.container == container and e.topic == topic)
    return min(times, default=None)
