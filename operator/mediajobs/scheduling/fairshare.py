"""Fair share across namespaces: the order in which waiting jobs are considered (pure).

Priority still comes first. Among the waiting jobs of one priority in one
category (a band), the next is the oldest job of the namespace with the lowest
share divided by its weight; a namespace's share is DRF's dominant share: the
larger of its running slots over the category's cap and (GPU categories) the
VRAM it holds over all pools' VRAM. Each job considered counts as running for
the order of the jobs behind it, so positions say when a job would start if
slots freed one at a time. Bands of one priority in different categories
interleave by age, as without fair share.

How it is computed, cheaply (one admission pass orders the whole queue): a
namespace's share only grows as its jobs are taken, so the greedy "lowest share
next" order of a band is a sort of its jobs by the share their namespace holds
when each one's turn comes (then by age). Bands are ordered priority by
priority, the shares carried from one to the next. Within one priority, the
VRAM a namespace's gpu_ai jobs take counts in its gpu_encode share (and the
other way round) from the next priority on: the two GPU bands of one priority
are ordered side by side.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from mediajobs.api.common import Category
from mediajobs.scheduling.model import Active, Candidate

Ordered = tuple[Candidate, bool]  # a job in fair order; True: a younger job of another
# namespace was ordered before it (it waits for fair share)


@dataclass
class Shares:
    """What each namespace holds: slots per category, VRAM; the caps and weights."""

    caps: Mapping[Category, int]
    vram_total: int
    weights: Mapping[str, float]
    slots: Counter[tuple[str, Category]] = field(default_factory=Counter)
    vram: Counter[str] = field(default_factory=Counter)

    def add(self, namespace: str, category: Category, vram_mib: int, count: int = 1) -> None:
        self.slots[(namespace, category)] += count
        self.vram[namespace] += vram_mib * count

    def band_order(
        self, band: Sequence[tuple[int, Candidate]], category: Category
    ) -> list[Ordered]:
        """BAND (rank by age, job) in fair order; counts every job of it as taken."""
        cap = max(self.caps.get(category, 0), 1)
        gpu = category.uses_gpu and self.vram_total > 0
        keyed: list[tuple[float, int, Candidate]] = []
        slots: dict[str, int] = {}
        vram: dict[str, int] = {}
        for rank, c in band:
            ns = c.key.namespace
            held = slots.get(ns)
            if held is None:
                held, vram[ns] = self.slots[(ns, category)], self.vram[ns]
            share = held / cap
            if gpu:
                share = max(share, vram[ns] / self.vram_total)
            keyed.append((share / self.weights.get(ns, 1.0), rank, c))
            slots[ns] = held + 1
            vram[ns] += c.demand.vram_mib
        for ns, held in slots.items():
            self.slots[(ns, category)] = held
            self.vram[ns] = vram[ns]
        keyed.sort()  # ranks are unique: two jobs are never compared
        return _marked(keyed)


def _marked(keyed: Sequence[tuple[float, int, Candidate]]) -> list[Ordered]:
    """Each job with whether a younger job of another namespace came before it."""
    out: list[Ordered] = []
    youngest, its, other = -1, "", -1  # the youngest taken, its namespace, the youngest else
    for _, rank, c in keyed:
        ns = c.key.namespace
        out.append((c, (youngest > rank and its != ns) or other > rank))
        if rank > youngest:
            if ns != its:
                other = youngest
            youngest, its = rank, ns
        elif ns != its:
            other = max(other, rank)
    return out


def fair_order(candidates: Sequence[Candidate], shares: Shares) -> Iterator[Ordered]:
    """CANDIDATES in fair-share order (see the module's doc)."""
    levels: dict[int, dict[Category, list[tuple[int, Candidate]]]] = defaultdict(dict)
    for rank, c in enumerate(sorted(candidates, key=lambda c: c.sort_key)):
        levels[c.priority].setdefault(c.demand.category, []).append((rank, c))
    for priority in sorted(levels):
        bands = [shares.band_order(b, cat) for cat, b in levels[priority].items()]
        if len(bands) == 1:
            yield from bands[0]
        else:
            yield from _by_age(bands)


def _by_age(bands: Sequence[Sequence[Ordered]]) -> Iterator[Ordered]:
    """One priority's bands merged: at each step, the band whose next job is oldest."""
    heads = [0] * len(bands)
    while True:
        best: int | None = None
        for i, band in enumerate(bands):
            if heads[i] < len(band) and (
                best is None or band[heads[i]][0].sort_key < bands[best][heads[best]][0].sort_key
            ):
                best = i
        if best is None:
            return
        yield bands[best][heads[best]]
        heads[best] += 1


def shares_of(
    active: Sequence[Active],
    caps: Mapping[Category, int],
    vram_total: int,
    weights: Mapping[str, float],
) -> Shares:
    """The shares the running jobs (ACTIVE) give each namespace."""
    shares = Shares(caps, vram_total, weights)
    held = Counter(
        (a.key.namespace, a.demand.category, a.demand.vram_mib if a.pool else 0) for a in active
    )
    for (ns, cat, vram), count in held.items():
        shares.add(ns, cat, vram, count)
    return shares
