"""The queues: who waits for admission, in which order, where each stands and why.

A pass of admission (scheduling/decide.py) costs O(queue), so it runs only
when what it reads has changed: the queue itself, the ledger, the quotas, or a
start-rate limit that lifts. Its answer (who is admitted, who waits where and
why, who can never fit) is what the reconciler carries out and what the queue
snapshot shows. Victims of preemption hold their slots here until their pods
have stopped (controller/preemptions.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from mediajobs.api.common import Category
from mediajobs.config import OperatorConfig
from mediajobs.controller.ledger import Ledger
from mediajobs.controller.preemptions import Preemptions
from mediajobs.controller.view import View
from mediajobs.lifecycle.logins import platform_of
from mediajobs.lifecycle.plan import Queue
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.decide import Decision, Limits, Pool, Snapshot, Wait, decide
from mediajobs.scheduling.model import Candidate, JobKey
from mediajobs.scheduling.preempt import allows
from mediajobs.throttle import RateLimit


def limits_from(config: OperatorConfig) -> Limits:
    fair = config.fair_share
    return Limits(
        max_running={c: config.limit(c).max_running for c in Category},
        pools=[Pool(p.name, p.vram_mib) for p in config.gpu_pools],
        min_start_interval={
            c: 60.0 / rate
            for c in Category
            if (rate := config.limit(c).starts_per_minute) is not None
        },
        platform_starts_per_minute=config.platform_start_rates,
        preemption={c: config.limit(c).preemption for c in Category},
        fair_share=fair.weights if fair.enabled else None,
        fair_preemption=fair.enabled and fair.preemption.enabled,
    )


@dataclass
class Queues:
    limits: Limits
    steps: dict[JobKey, Queue] = field(default_factory=dict)  # waiting: the step that admits it
    candidates: dict[JobKey, Candidate] = field(default_factory=dict)  # as admission sees them
    waits: dict[JobKey, Wait] = field(default_factory=dict)  # the last pass's positions, reasons
    last_start: dict[Category, datetime] = field(default_factory=dict)
    platform_starts: dict[str, RateLimit[None]] = field(init=False)
    first_seen: dict[JobKey, float] = field(default_factory=dict)  # monotonic, for the wait metric
    preemptions: Preemptions = field(default_factory=Preemptions)
    _stale: bool = True
    _decide_at: datetime | None = None  # a start-rate limit lifts
    _inputs: tuple[int, int] = (-1, -1)  # the ledger's and the quotas' versions last decided on
    _weights: int = 0  # the namespaces' weights' version in LIMITS

    def __post_init__(self) -> None:
        self.platform_starts = self.limits.platform_buckets()

    def seen(self, key: JobKey, now: float) -> None:
        self.first_seen.setdefault(key, now)

    def enqueue(self, key: JobKey, record: Record, step: Queue, view: View) -> None:
        self.steps[key] = step
        if step.resume is not None:
            self.preemptions.recover(record, step.resume, view)
        candidate = Candidate(
            key,
            record.uid,
            record.spec.priority,
            record.created,
            record.demand(),
            platform_of(record),
        )
        if self.candidates.get(key) != candidate:
            self.candidates[key] = candidate
            self._stale = True

    def dequeue(self, key: JobKey) -> Queue | None:
        if self.candidates.pop(key, None) is not None:
            self._stale = True
        return self.steps.pop(key, None)

    def forget(self, key: JobKey) -> None:
        self.dequeue(key)
        self.waits.pop(key, None)
        self.first_seen.pop(key, None)

    def reweigh(self, version: int, weights: dict[str, float]) -> bool:
        """Fair share weighs namespaces by WEIGHTS (of VERSION) from now on; whether
        that is news (admission decides again)."""
        if version == self._weights or self.limits.fair_share is None:
            return False
        self._weights, self._stale = version, True
        self.limits = replace(self.limits, fair_share=weights)
        return True

    def redecide(self) -> None:
        """Decide again on the next pass (a job's write landed, say)."""
        self._stale = True

    def due(self, now: datetime, ledger: Ledger, view: View) -> bool:
        return (
            self._stale
            or self.preemptions.settle(view, now)
            or self._inputs != (ledger.version, view.quota_version)
            or (self._decide_at is not None and now >= self._decide_at)
        )

    def decide(self, now: datetime, ledger: Ledger, view: View) -> Decision | None:
        """One admission pass over every waiting job (None: nobody waits)."""
        self._stale, self._decide_at = False, None
        self._inputs = (ledger.version, view.quota_version)
        if not self.steps:
            self.waits.clear()
            return None
        # Busy ones too: leaving out a job whose write is in flight would shift every
        # position behind it, and would let a later job be admitted ahead of it.
        preempting = any(allows(self.limits.preemption, c) for c in Category)
        decision = decide(
            Snapshot(
                candidates=list(self.candidates.values()),
                active=ledger.active() + self.preemptions.holding(ledger.holding),
                quotas=view.quotas,
                now=now,
                last_start=self.last_start,
                platform_starts=self.platform_starts,
                progress=_progress(ledger, view) if preempting else {},
                stopping=self.preemptions.victims(),
            ),
            self.limits,
        )
        self.waits = dict(decision.wait)
        self._decide_at = decision.wake_at
        return decision

    def started(self, candidate: Candidate, now: datetime) -> None:
        self.last_start[candidate.demand.category] = now
        bucket = self.platform_starts.get(candidate.platform or "")
        if bucket is not None:
            bucket.spend(None, now.timestamp())


def _progress(ledger: Ledger, view: View) -> dict[JobKey, int]:
    """The progress of running jobs, as their statuses show it (preemption spares the
    nearly done)."""
    records = view.records
    return {
        k: record.status.progress or 0
        for k in ledger.holding
        if (record := records.get(k)) is not None
    }
