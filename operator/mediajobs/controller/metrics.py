"""Prometheus metrics (the reference systems' names) and the /stats document."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mediajobs.api.common import Category
from mediajobs.api.mediajob import Phase
from mediajobs.lifecycle.records import Record

if TYPE_CHECKING:
    from mediajobs.controller.reconciler import Reconciler

# Phases that end up in media_jobs_total{status} (the reference: completed/failed/...).
_FINAL = {Phase.SUCCEEDED.value, Phase.FAILED.value, Phase.CANCELLED.value}


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
        self.api_writes = Gauge(
            "mediajobs_api_writes",
            "API writes the operator has issued since it started.",
            registry=r,
        )
        self.finished: Tally[tuple[Category | None, str]] = Tally()

    def observe(self, rec: Reconciler) -> None:
        self.api_writes.set(rec.kube.writes)
        self.pending.set(len(rec.queue))
        for category, count in rec.running_by_category().items():
            self.running.labels(resourceCategory=category.value).set(count)
        used = rec.vram_used()
        self.vram.set(sum(used.values()))
        for pool, value in used.items():
            self.vram_pool.labels(pool=pool).set(value)

    def admitted(self, waited: float) -> None:
        self.admission_wait.observe(waited)

    def transition(self, record: Record, phase: str, now: datetime) -> None:
        if phase not in _FINAL:
            return
        op = record.spec.operation.value
        self.total.labels(type=op, status=phase).inc()
        self.finished[(record.placement.category if record.placement else None, phase)] += 1
        if record.status.started_at is not None and phase == Phase.SUCCEEDED.value:
            self.duration.labels(type=op).observe((now - record.status.started_at).total_seconds())


def stats(rec: Reconciler) -> dict[str, Any]:
    """The reference systems' /stats shape: per queue counts, VRAM used and available."""
    delayed: Tally[Category] = Tally()
    for record in rec.records.values():
        if record.placement and record.phase in (
            Phase.BACKING_OFF,
            Phase.SUSPENDED,
            Phase.WAITING_FOR_HUMAN,
        ):
            delayed[record.placement.category] += 1
    waiting: Tally[Category] = Tally()
    for key in rec.queue:
        placement = rec.records[key].placement
        if placement is not None:
            waiting[placement.category] += 1
    running = rec.running_by_category()
    queues = {
        c.value: {
            "waiting": waiting[c],
            "active": running[c],
            "completed": rec.metrics.finished[(c, Phase.SUCCEEDED.value)],
            "failed": rec.metrics.finished[(c, Phase.FAILED.value)],
            "delayed": delayed[c],
            "limit": rec.limits.max_running.get(c, 0),
        }
        for c in Category
    }
    used = rec.vram_used()
    total = {p.name: p.vram_mib for p in rec.config.gpu_pools}
    positions = sorted(rec.waits.items(), key=lambda kv: (kv[1].position, str(kv[0])))
    return {
        "ready": rec.ready.is_set(),
        "queues": queues,
        "pending": len(rec.queue),
        "running": sum(running.values()),
        "totalVramUsed": sum(used.values()),
        "totalVramAvailable": sum(total.values()) - sum(used.values()),
        "vram": {
            name: {
                "usedMiB": used.get(name, 0),
                "totalMiB": vram,
                "availableMiB": vram - used.get(name, 0),
            }
            for name, vram in total.items()
        },
        "waiting": [
            {
                "namespace": k.namespace,
                "name": k.name,
                "queuePosition": w.position,
                "waitingReason": w.reason,
            }
            for k, w in positions[:200]
        ],
    }
