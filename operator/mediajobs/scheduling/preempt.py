"""Which running jobs to stop so that a waiting one of higher priority fits (pure).

Kueue's preemption, with its users' traps closed:

- only jobs of strictly lower priority are victims, and only where the
  preemptor's category and the victim's both opt in (policy LowerPriority: a
  category that says Never neither preempts nor is preempted, across a shared
  GPU pool too);
- a victim shares what the preemptor lacks: its category's slots, or the VRAM
  of the GPU pool it would run in (gpu_encode and gpu_ai share a pool);
- a job that started less than ``minRuntimeSeconds`` ago, or whose progress
  has reached ``protectProgressPercent``, is never chosen;
- the fewest victims (at most ``maxVictimsPerAdmission``), and among sets of
  that size the first in victim order: lowest priority first, then the most
  recently started, then the least progress, then the key (deterministic);
- decide.py never preempts for a job that a waiting job of higher priority
  competing for the same GPU pool could preempt in turn (no chains, no loops).

The search is exact over the first ``SEARCH_WIDTH`` eligible jobs in victim
order: a minimal cover of (slots, VRAM) is a small subset-sum, and only the
front of the order can be in the preferred answer anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations

from mediajobs.api.common import Category
from mediajobs.config import Preemption, PreemptionPolicy
from mediajobs.scheduling.model import Active, Candidate, JobKey

SEARCH_WIDTH = 12  # eligible jobs the exact search looks at (C(12, 3) = 220 sets)


@dataclass(frozen=True)
class Victim:
    """A running job to stop (suspend), and why: REASON is LowerPriority, or FairShare
    (scheduling/fairpreempt.py)."""

    active: Active
    by: Candidate
    reason: str = "LowerPriority"


@dataclass(frozen=True)
class Room:
    """What PREEMPTOR lacks to start in POOL (None: no GPU pool): SLOTS more of its
    category's slots, VRAM_MIB more of the pool's VRAM."""

    preemptor: Candidate
    pool: str | None
    slots: int
    vram_mib: int


def allows(rules: Mapping[Category, Preemption], category: Category) -> bool:
    rule = rules.get(category)
    return rule is not None and rule.policy is PreemptionPolicy.LOWER_PRIORITY


def eligible(
    a: Active,
    room: Room,
    rules: Mapping[Category, Preemption],
    progress: Mapping[JobKey, int],
    now: datetime,
    *,
    same_priority: bool = False,
) -> bool:
    """Whether A may be stopped to make ROOM (its own category's protections apply);
    SAME_PRIORITY: a job of the preemptor's own priority may be too (fair share)."""
    c = room.preemptor
    rule = rules.get(a.demand.category)
    higher = a.priority < c.priority if same_priority else a.priority <= c.priority
    if rule is None or not allows(rules, a.demand.category) or higher:
        return False
    shares = a.demand.category == c.demand.category or (
        room.pool is not None and a.pool == room.pool
    )
    if not shares or a.started is None:
        return False
    if now - a.started < timedelta(seconds=rule.min_runtime_seconds):
        return False
    return progress.get(a.key, 0) < rule.protect_progress_percent


def victim_order(a: Active, progress: Mapping[JobKey, int]) -> tuple[int, float, int, JobKey]:
    """Lowest priority first, then the most recently started, then the least progress."""
    started = a.started.timestamp() if a.started is not None else 0.0
    return (-a.priority, -started, progress.get(a.key, 0), a.key)


def _frees(victims: Sequence[Active], room: Room) -> bool:
    category = room.preemptor.demand.category
    slots = sum(1 for v in victims if v.demand.category == category)
    vram = sum(v.demand.vram_mib for v in victims if room.pool is not None and v.pool == room.pool)
    return slots >= room.slots and vram >= room.vram_mib


def unclaimed(active: Sequence[Active], stopping: Mapping[JobKey, JobKey | None]) -> set[Category]:
    """The categories where a victim whose preemptor is not known (found stopping after a
    restart) frees a slot or VRAM: their heads wait for it instead of preempting again."""
    out: set[Category] = set()
    for a in active:
        if a.key in stopping and stopping[a.key] is None:
            gpu = a.pool is not None
            out.update(c for c in Category if c == a.demand.category or (gpu and c.uses_gpu))
    return out


def fewest(candidates: Sequence[Active], room: Room, most: int) -> tuple[Active, ...] | None:
    """The smallest set of CANDIDATES (in victim order) that makes ROOM, first in that
    order among sets of its size; None when more than MOST would be needed."""
    front = candidates[:SEARCH_WIDTH]
    for size in range(1, min(most, len(front)) + 1):
        for victims in combinations(front, size):
            if _frees(victims, room):
                return victims
    return None
