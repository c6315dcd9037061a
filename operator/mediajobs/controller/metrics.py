"""Prometheus metrics (the reference systems' names) and the /stats document.

Both read the queue snapshot (controller/snapshot.py) that the reconciler
publishes; the reconciler tells ``Metrics`` of admissions and transitions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mediajobs.api.common import Category
from mediajobs.api.mediajob import Phase
from mediajobs.controller.snapshot import QueueSnapshot
from mediajobs.lifecycle.records import Record
from mediajobs.lifecycle.statuses import Transition

STATS_WAITING = 200  # waiting jobs listed in /stats, front of the queues first


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.total = Counter(
            "media_jobs_total",
            "MediaJobs that reached a final phase.",
            ["type", "status"],
            registry=r,
        )
        self.pending = Gauge("media_jobs_pending", "MediaJobs waiting for admission.", registry=r)
        self.waiting = Gauge(
            "media_jobs_waiting",
            "MediaJobs waiting for admission, per category (the queue depth).",
            ["resourceCategory"],
            registry=r,
        )
        self.running = Gauge(
            "media_jobs_running",
            "Admitted, unfinished MediaJobs.",
            ["resourceCategory"],
            registry=r,
        )
        self.vram = Gauge("media_vram_used_mb", "VRAM held by running jobs (MiB).", registry=r)
        self.vram_pool = Gauge(
            "media_vram_used_mb_by_pool",
            "VRAM held by running jobs per GPU pool.",
            ["pool"],
            registry=r,
        )
        self.vram_available_pool = Gauge(
            "media_vram_available_mb_by_pool",
            "VRAM of a GPU pool that no running job holds (MiB).",
            ["pool"],
            registry=r,
        )
        self.admission_wait = Histogram(
            "media_job_admission_wait_seconds",
            "From first sight of a MediaJob to its admission.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 1800, 3600, 21600),
            registry=r,
        )
        self.duration = Histogram(
            "media_job_duration_seconds",
            "From start to the final phase, per operation.",
            ["type"],
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 21600),
            registry=r,
        )
        self.failures = Counter(
            "media_job_failures_total",
            "MediaJobs that ended Failed, per operation and reason (the Failed condition's).",
            ["type", "reason"],
            registry=r,
        )
        self.human_wait = Gauge(
            "media_hitl_oldest_wait_seconds",
            "How long the longest-waiting MediaJob of a platform has waited for a person "
            "(WaitingForHuman: a login is needed).",
            ["platform"],
            registry=r,
        )
        self.hitl_sessions = Gauge(
            "media_hitl_sessions",
            "HitlSessions this operator has seen, per phase.",
            ["phase"],
            registry=r,
        )
        self.hitl_resolve = Histogram(
            "media_hitl_resolve_seconds",
            "From a HitlSession's creation to its resolution (a person logged in).",
            buckets=(60, 300, 900, 1800, 3600, 10800, 21600, 43200, 86400, 259200),
            registry=r,
        )
        self.leader = Gauge(
            "mediajobs_leader",
            "1 while this replica leads (holds the Lease, or runs without election), else 0.",
            registry=r,
        )
        self.preemptions = Counter(
            "media_job_preemptions_total",
            "Running MediaJobs preempted (suspended and queued again), per category and reason.",
            ["resourceCategory", "reason"],
            registry=r,
        )
        self.api_writes = Gauge(
            "mediajobs_api_writes",
            "API writes the operator has issued since it started.",
            registry=r,
        )
        self.api_reads = Gauge(
            "mediajobs_api_reads",
            "API reads (gets, list pages, watches) the operator has issued since it started.",
            registry=r,
        )

    def observe(self, snapshot: QueueSnapshot) -> None:
        self.api_writes.set(snapshot.api_writes)
        self.api_reads.set(snapshot.api_reads)
        self.pending.set(snapshot.waiting)
        for category, queue in snapshot.categories.items():
            self.running.labels(resourceCategory=category.value).set(len(queue.running))
            self.waiting.labels(resourceCategory=category.value).set(len(queue.waiting))
        self.vram.set(sum(p.used_mib for p in snapshot.pools))
        for pool in snapshot.pools:
            self.vram_pool.labels(pool=pool.name).set(pool.used_mib)
            self.vram_available_pool.labels(pool=pool.name).set(pool.available_mib)
        self.human_wait.clear()  # a platform nobody waits on any more has no series
        for platform, since in snapshot.waiting_for_human.items():
            waited = (snapshot.taken_at - since).total_seconds()
            self.human_wait.labels(platform=platform).set(max(waited, 0.0))

    def preempted(self, category: Category, reason: str) -> None:
        self.preemptions.labels(resourceCategory=category.value, reason=reason).inc()

    def admitted(self, waited: float) -> None:
        self.admission_wait.observe(waited)

    def transition(self, record: Record, transition: Transition, now: datetime) -> None:
        """RECORD took TRANSITION: finished phases count in media_jobs_total{status},
        failures in media_job_failures_total{reason} too."""
        phase = transition.phase
        if phase is None or not phase.finished:
            return
        op = record.spec.operation.value
        self.total.labels(type=op, status=phase.value).inc()
        reason = transition.failed_reason
        if reason is not None:
            self.failures.labels(type=op, reason=reason).inc()
        if record.status.started_at is not None and phase == Phase.SUCCEEDED:
            self.duration.labels(type=op).observe((now - record.status.started_at).total_seconds())


def stats(snapshot: QueueSnapshot) -> dict[str, Any]:
    """The reference systems' /stats shape: per queue counts, VRAM used and available."""
    queues = snapshot.categories.values()
    waiting = sorted((w for q in queues for w in q.waiting), key=lambda w: w.order())
    used = sum(p.used_mib for p in snapshot.pools)
    return {
        "ready": snapshot.ready,
        "queues": {
            q.category.value: {
                "waiting": len(q.waiting),
                "active": len(q.running),
                "completed": q.completed,
                "failed": q.failed,
                "delayed": q.delayed,
                "limit": q.limit,
            }
            for q in queues
        },
        # Running jobs suspended for a waiting one, per category and reason, since the start.
        "preemptions": {q.category.value: dict(q.preempted) for q in queues},
        "pending": snapshot.waiting,
        "running": snapshot.running,
        "totalVramUsed": used,
        "totalVramAvailable": sum(p.total_mib for p in snapshot.pools) - used,
        "vram": {
            p.name: {
                "usedMiB": p.used_mib,
                "totalMiB": p.total_mib,
                "availableMiB": p.available_mib,
            }
            for p in snapshot.pools
        },
        "waiting": [
            {
                "namespace": w.key.namespace,
                "name": w.key.name,
                "queuePosition": w.position,
                "waitingReason": w.reason,
            }
            for w in waiting[:STATS_WAITING]
        ],
    }
