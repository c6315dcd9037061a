"""Fair share across namespaces: the order in which waiting jobs are considered (pure).

Priority still comes first. Among the waiting jobs of one priority in one
category, the next is the oldest job of the namespace with the lowest share
divided by its weight; a namespace's share is DRF's dominant share: the larger
of its running slots over the category's cap and (GPU categories) the VRAM it
holds over all pools' VRAM. Each job considered counts as running for the order
of the jobs behind it, so positions say when a job would start if slots freed
one at a time. Jobs of one priority in different categories interleave by age,
as without fair share (they meet only in a shared GPU pool).

Shares only grow during a pass, so a namespace's place in a band's heap is
checked again when it comes to the top (a stale, too-small share moves down).
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict, deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from mediajobs.api.common import Category
from mediajobs.scheduling.model import Active, Candidate, JobKey

Ahead = tuple[datetime, str]  # a job's (created, uid): its place by age within a band


@dataclass
class Shares:
    """Running slots per (namespace, category) and VRAM per namespace; the weights."""

    caps: Mapping[Category, int]
    vram_total: int
    weights: Mapping[str, float]
    slots: Counter[tuple[str, Category]] = field(default_factory=Counter)
    vram: Counter[str] = field(default_factory=Counter)

    def add(self, namespace: str, category: Category, vram_mib: int, count: int = 1) -> None:
        self.slots[(namespace, category)] += count
        self.vram[namespace] += vram_mib * count

    def of(self, namespace: str, category: Category) -> float:
        share = self.slots[(namespace, category)] / max(self.caps.get(category, 0), 1)
        if category.uses_gpu and self.vram_total > 0:
            share = max(share, self.vram[namespace] / self.vram_total)
        return share / self.weights.get(namespace, 1.0)


@dataclass
class _Band:
    """The waiting jobs of one (category, priority), per namespace in age order."""

    category: Category
    queues: dict[str, deque[Candidate]] = field(default_factory=dict)
    heap: list[tuple[float, datetime, str, str]] = field(default_factory=list)
    taken: dict[str, Ahead] = field(default_factory=dict)  # per namespace: the youngest taken

    def fill(self, shares: Shares) -> None:
        for ns, queue in self.queues.items():
            head = queue[0]
            self.heap.append((shares.of(ns, self.category), head.created, head.uid, ns))
        heapq.heapify(self.heap)

    def head(self, shares: Shares) -> Candidate | None:
        while self.heap:
            share, created, uid, ns = self.heap[0]
            now = shares.of(ns, self.category)
            if now == share:
                return self.queues[ns][0]
            heapq.heapreplace(self.heap, (now, created, uid, ns))
        return None

    def take(self, shares: Shares) -> Candidate:
        share, _, _, ns = self.heap[0]
        queue = self.queues[ns]
        c = queue.popleft()
        if queue:
            heapq.heapreplace(self.heap, (share, queue[0].created, queue[0].uid, ns))
        else:
            heapq.heappop(self.heap)
        ahead = (c.created, c.uid)
        self.taken[ns] = max(self.taken.get(ns, ahead), ahead)
        return c

    def passed_over(self, c: Candidate) -> bool:
        """Whether a younger job of another namespace was taken before C."""
        ahead = (c.created, c.uid)
        return any(t > ahead for ns, t in self.taken.items() if ns != c.key.namespace)


class FairOrder:
    """The candidates in fair-share order; ``took`` is told of each one considered."""

    def __init__(self, candidates: Sequence[Candidate], shares: Shares) -> None:
        self.shares = shares
        self.band_of: dict[JobKey, _Band] = {}
        levels: dict[int, dict[Category, _Band]] = defaultdict(dict)
        for c in sorted(candidates, key=lambda c: c.sort_key):
            cat = c.demand.category
            band = levels[c.priority].setdefault(cat, _Band(cat))
            band.queues.setdefault(c.key.namespace, deque()).append(c)
            self.band_of[c.key] = band
        self.levels = [levels[p] for p in sorted(levels)]
        for level in self.levels:
            for band in level.values():
                band.fill(shares)

    def __iter__(self) -> Iterator[Candidate]:
        for level in self.levels:
            bands = list(level.values())
            while True:
                heads = [
                    (h.created, h.uid, i) for i, b in enumerate(bands) if (h := b.head(self.shares))
                ]
                if not heads:
                    break
                c = bands[min(heads)[2]].take(self.shares)
                yield c
                self.shares.add(c.key.namespace, c.demand.category, c.demand.vram_mib)

    def passed_over(self, c: Candidate) -> bool:
        return self.band_of[c.key].passed_over(c)


def shares_of(
    active: Sequence[Active],
    caps: Mapping[Category, int],
    vram_total: int,
    weights: Mapping[str, float],
) -> Shares:
    shares = Shares(caps, vram_total, weights)
    for (ns, cat, vram), count in Counter(
        (a.key.namespace, a.demand.category, a.demand.vram_mib if a.pool else 0) for a in active
    ).items():
        shares.add(ns, cat, vram, count)
    return shares
