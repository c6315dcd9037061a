"""The queue snapshot: one read-only picture of the queues that the operator publishes.

Per category: who runs, who waits in order (with position and reason), how
many are delayed (backing off, suspended, waiting for a person), what finished
lately; the VRAM of each GPU pool; per platform, since when a job has waited
for a person to log in. /stats and the metrics read it (so will
the web view and the kubectl plugin); nothing outside the reconciler reads its
maps. Frozen dataclasses and tuples: a reader cannot change what it was given.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from mediajobs.api.common import Category
from mediajobs.api.conditions import ConditionType
from mediajobs.api.mediajob import Phase
from mediajobs.controller.ledger import Ledger
from mediajobs.controller.queues import Queues
from mediajobs.controller.view import View
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.model import JobKey

RECENT_FINISHES = 20  # per category


@dataclass(frozen=True)
class Waiting:
    key: JobKey
    position: int | None  # 1 = next in its category; None: not decided yet (just queued)
    reason: str | None

    def order(self) -> tuple[float, str]:
        return (self.position or float("inf"), str(self.key))


@dataclass(frozen=True)
class Finished:
    key: JobKey
    phase: Phase
    at: datetime


@dataclass(frozen=True)
class CategoryQueue:
    category: Category
    limit: int  # the config's cap on running jobs
    running: tuple[JobKey, ...]
    waiting: tuple[Waiting, ...]  # in admission order
    delayed: int
    completed: int  # since the operator started
    failed: int
    recent: tuple[Finished, ...]  # newest first
    preempted: Mapping[str, int]  # per reason, since the operator started


@dataclass(frozen=True)
class PoolUsage:
    name: str
    total_mib: int
    used_mib: int

    @property
    def available_mib(self) -> int:
        return self.total_mib - self.used_mib


@dataclass(frozen=True)
class QueueSnapshot:
    taken_at: datetime
    ready: bool  # the view is synced: admission has started
    categories: dict[Category, CategoryQueue]
    pools: tuple[PoolUsage, ...]
    api_writes: int
    api_reads: int
    # Per platform ("" for none): since when its longest-waiting MediaJob waits for a person.
    waiting_for_human: Mapping[str, datetime]

    @property
    def waiting(self) -> int:
        return sum(len(q.waiting) for q in self.categories.values())

    @property
    def running(self) -> int:
        return sum(len(q.running) for q in self.categories.values())


class Finishes:
    """What finished since the operator started: counts, and the latest few."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[Category | None, Phase]] = Counter()
        self.recent: dict[Category, deque[Finished]] = {
            c: deque(maxlen=RECENT_FINISHES) for c in Category
        }

    def record(self, record: Record, phase: Phase, at: datetime) -> None:
        category = record.placement.category if record.placement else None
        self.counts[(category, phase)] += 1
        if category is not None:
            self.recent[category].appendleft(Finished(record.key, phase, at))


def _waiting_for_human_since(record: Record) -> datetime | None:
    """When RECORD began to wait for a person (its WaitingForHuman condition turned True)."""
    if record.phase != Phase.WAITING_FOR_HUMAN:
        return None
    conditions = record.status.conditions or []
    waiting = (c for c in conditions if c.type == ConditionType.WAITING_FOR_HUMAN)
    return next((c.last_transition_time for c in waiting if c.status == "True"), None)


def take(
    view: View,
    ledger: Ledger,
    queues: Queues,
    finishes: Finishes,
    *,
    now: datetime,
    ready: bool,
    api_writes: int,
    api_reads: int,
) -> QueueSnapshot:
    """The snapshot of the reconciler's parts as they stand at NOW."""
    records, waits = view.records, queues.waits
    waiting: dict[Category, list[Waiting]] = {c: [] for c in Category}
    delayed: Counter[Category] = Counter()
    human: dict[str, datetime] = {}
    for key, record in records.items():
        since = _waiting_for_human_since(record)
        if since is not None:
            platform = record.spec.platform or ""
            human[platform] = min(since, human.get(platform, since))
        if record.placement is None:
            continue
        category = record.placement.category
        if key in queues.steps:
            wait = waits.get(key)
            waiting[category].append(
                Waiting(key, wait.position, wait.reason) if wait else Waiting(key, None, None)
            )
        elif record.phase is not None and record.phase.delayed:
            delayed[category] += 1
    running = ledger.running_by_category()
    limits = queues.limits
    categories = {
        c: CategoryQueue(
            category=c,
            limit=limits.max_running.get(c, 0),
            running=tuple(sorted(running[c])),
            waiting=tuple(sorted(waiting[c], key=Waiting.order)),
            delayed=delayed[c],
            completed=finishes.counts[(c, Phase.SUCCEEDED)],
            failed=finishes.counts[(c, Phase.FAILED)],
            recent=tuple(finishes.recent[c]),
            preempted={r: n for (cat, r), n in queues.preemptions.counts.items() if cat == c},
        )
        for c in Category
    }
    used = ledger.vram_used(p.name for p in limits.pools)
    pools = tuple(PoolUsage(p.name, p.vram_mib, used.get(p.name, 0)) for p in limits.pools)
    return QueueSnapshot(now, ready, categories, pools, api_writes, api_reads, human)
