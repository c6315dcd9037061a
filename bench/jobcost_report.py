"""The job-cost phase's figures as Markdown tables (pure: plain results in, text out)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.jobcost_timeline import Stats, Timeline, breakdown, overheads

TARGET_OVERHEAD = 2.0  # seconds, p50 per job over the warm worker (DESIGN.md)


@dataclass(frozen=True)
class Workload:
    operation: str
    short: str  # MediaJob names' stem
    extension: str  # the output's
    count: int

    @property
    def label(self) -> str:
        return f"{self.operation} x{self.count}"


@dataclass(frozen=True)
class WorkloadResult:
    workload: Workload
    timelines: list[Timeline]  # Kubernetes, in creation order
    warm: list[float]  # seconds per task, same order
    bare: list[float]
    container: list[float]  # the same image without Kubernetes (ctr run)

    def kubernetes_wall(self) -> float:
        """The batch run one job at a time: its MediaJobs' create -> Succeeded, summed
        (the baselines run between them, task by task, so the clock's span would hold
        theirs too)."""
        return sum(t.total() for t in self.timelines)

    def overhead(self) -> Stats:
        return Stats.of(overheads(self.timelines, self.warm))

    def met(self) -> bool:
        return self.overhead().p50 <= TARGET_OVERHEAD


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if abs(seconds) < 100 else f"{seconds:.0f} s"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def summary(results: Sequence[WorkloadResult]) -> list[str]:
    rows = []
    for r in results:
        k8s = [t.total() for t in r.timelines]
        paths = (
            ("Kubernetes: MediaJob create -> Succeeded", k8s),
            ("same image, no Kubernetes (ctr run)", r.container),
            ("warm worker (run_task), back to back", r.warm),
            ("bare FFmpeg, back to back", r.bare),
        )
        bare_wall = sum(r.bare)
        for path, seconds in paths:
            stats, wall = Stats.of(seconds), sum(seconds)
            label = r.workload.label if path.startswith("Kubernetes") else ""
            rows.append([label, path, _s(stats.p50), _s(stats.p95), _s(wall),
                         f"{wall / bare_wall:.2f}x"])  # fmt: skip
        over = r.overhead()
        verdict = "met" if r.met() else "NOT met"
        rows.append(["", "**overhead per job over the warm worker**", _s(over.p50), _s(over.p95),
                     f"{(sum(k8s) - sum(r.warm)) / len(k8s):.2f} s/job",
                     f"target p50 ≤ {TARGET_OVERHEAD:g} s: {verdict}"])  # fmt: skip
        beyond = Stats.of([k - c for k, c in zip(k8s, r.container, strict=True)])
        rows.append(["", "of which Kubernetes', over the container alone", _s(beyond.p50),
                     _s(beyond.p95), f"{(sum(k8s) - sum(r.container)) / len(k8s):.2f} s/job",
                     ""])  # fmt: skip
    header = ("workload", "path", "per job p50", "per job p95", "batch wall (one at a time)",
              "wall / bare")  # fmt: skip
    return _table(header, rows)


def where_it_goes(result: WorkloadResult) -> list[str]:
    b = breakdown(result.timelines, result.warm)
    lines = [f"Where {result.workload.label}'s overhead goes ({b.jobs} complete timelines):", ""]
    rows = [[name, _s(s.p50), _s(s.p95), f"{share:.0%}"] for name, s, share in b.rows]
    lines += _table(("segment", "p50", "p95", "share of the mean overhead"), rows)
    if b.settling:
        lines += ["", "Off the MediaJob's path, from the same exit: what frees its slot "
                  "(the operator holds it until the Job has settled):", ""]  # fmt: skip
        settling = [[name, _s(s.p50), _s(s.p95)] for name, s in b.settling]
        lines += _table(("segment", "p50", "p95"), settling)
    lines += [f"- incomplete: {why}" for why in b.incomplete]
    return lines


def render(results: Sequence[WorkloadResult]) -> str:
    lines = ["## What a Job per MediaJob costs (real node; one job at a time on every path)", ""]
    lines += summary(results)
    for result in results:
        lines += ["", *where_it_goes(result)]
    return "\n".join(lines)


def incomplete(results: Sequence[WorkloadResult]) -> list[str]:
    return [why for r in results for why in breakdown(r.timelines, r.warm).incomplete]
