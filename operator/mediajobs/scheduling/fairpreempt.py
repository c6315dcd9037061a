"""Fair-share preemption: a namespace over its share gives a slot back (pure; opt-in).

When the head of a held category (the waiting job of the lowest-share namespace
at the highest waiting priority: fairshare.py's order) finds no victim of
strictly lower priority, a namespace holding more than its weighted share may
give one running job back to it: a job of the same or a lower priority, chosen
by preempt.py's rules (its category opts in, minRuntimeSeconds, the progress
that protects a nearly done job, the victim order), one victim at a time.

It never oscillates: a slot moves from donor D to receiver R only when D's
weighted share after giving it is still at least R's after receiving it
(Kueue's LessThanOrEqualToFinalShare). Then R can never take it back: that
would need R's share after giving to reach D's after receiving, which is more
than R's share now; and each move lowers the sum over namespaces of
slots² / weight (by at least 1/w_D + 1/w_R), so moves stop on their own without
new arrivals. Of the namespaces that may give, the one furthest over its share
gives (then the victim order decides).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from mediajobs.api.common import Category
from mediajobs.config import Preemption
from mediajobs.scheduling.model import Active, Candidate, JobKey
from mediajobs.scheduling.preempt import Room, eligible, fewest, victim_order


@dataclass(frozen=True)
class Held:
    """What each namespace holds of one category (SLOTS) and of all GPU pools (VRAM_MIB),
    with what the share is taken over: the category's CAP, the pools' VRAM_TOTAL."""

    slots: Mapping[str, int]
    vram_mib: Mapping[str, int]
    cap: int
    vram_total: int  # 0: the share is slots alone (a CPU category, or no pools)
    weights: Mapping[str, float]

    def share(self, namespace: str, slots: int = 0, vram_mib: int = 0) -> float:
        """NAMESPACE's weighted dominant share with SLOTS and VRAM_MIB more (or fewer)."""
        share = (self.slots.get(namespace, 0) + slots) / max(self.cap, 1)
        if self.vram_total > 0:
            share = max(share, (self.vram_mib.get(namespace, 0) + vram_mib) / self.vram_total)
        return share / self.weights.get(namespace, 1.0)


def held_after(
    category: Category,
    slots: Mapping[tuple[str, Category], int],
    vram_mib: Mapping[str, int],
    *,
    leaving: Iterable[Active],
    coming: Iterable[Candidate],
    cap: int,
    vram_total: int,
    weights: Mapping[str, float],
) -> Held:
    """What each namespace holds of CATEGORY (SLOTS: per namespace and category; VRAM_MIB:
    per namespace) once the victims chosen before (LEAVING) have stopped and their
    preemptors (COMING) run."""
    held = Counter({ns: n for (ns, c), n in slots.items() if c == category})
    vram = Counter(vram_mib)
    for a in leaving:
        held[a.key.namespace] -= a.demand.category == category
        vram[a.key.namespace] -= a.demand.vram_mib if a.pool is not None else 0
    for c in coming:
        held[c.key.namespace] += c.demand.category == category
        vram[c.key.namespace] += c.demand.vram_mib
    return Held(held, vram, cap, vram_total, weights)


def balanced_after(held: Held, victim: Active, room: Room) -> bool:
    """Whether the victim's namespace still holds at least the preemptor's weighted
    share once the slot has moved (the rule that rules out oscillation)."""
    gpu = held.vram_total > 0
    victim_vram = victim.demand.vram_mib if gpu and victim.pool is not None else 0
    preemptor = room.preemptor
    given = held.share(victim.key.namespace, -1, -victim_vram)
    taken = held.share(preemptor.key.namespace, 1, preemptor.demand.vram_mib if gpu else 0)
    return given >= taken


def give_back(
    room: Room,
    active: Iterable[Active],
    held: Held,
    *,
    rules: Mapping[Category, Preemption],
    progress: Mapping[JobKey, int],
    now: datetime,
) -> Active | None:
    """The running job that gives ROOM's preemptor a slot for fair share, if one may."""
    c = room.preemptor
    ready: list[Active] = [
        a
        for a in active
        if a.key.namespace != c.key.namespace
        and eligible(a, room, rules, progress, now, same_priority=True)
        and balanced_after(held, a, room)
    ]
    donors = sorted({a.key.namespace for a in ready}, key=lambda ns: (-held.share(ns), ns))
    for donor in donors:  # the furthest over its share first
        theirs = sorted(
            (a for a in ready if a.key.namespace == donor), key=lambda a: victim_order(a, progress)
        )
        found = fewest(theirs, room, 1)
        if found:
            return found[0]
    return None
