"""The ledger: the slots admission holds, including those the cluster does not show yet.

The watch-fed view lags the operator's own writes, so an admission is entered
here *before* its Job is created (Kueue's "assume") and removed again if the
create fails ("forget"); otherwise the next pass would admit past a cap. The
ledger also remembers when the operator created each Job, so that a Job its
watch has not shown yet is not mistaken for one deleted behind its back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mediajobs.api.common import Category
from mediajobs.scheduling.model import Active, JobKey

# How long a Job the operator created may stay unseen by its watch before it is
# created again (a 409 if it was only the watch lagging).
JOB_WATCH_GRACE = 10.0


@dataclass
class Ledger:
    holding: dict[JobKey, Active] = field(default_factory=dict)
    created_at: dict[JobKey, float] = field(default_factory=dict)  # monotonic time of our create
    version: int = 0  # moves with every change (admission reads the ledger)

    def hold(self, key: JobKey, active: Active) -> None:
        if self.holding.get(key) != active:
            self.holding[key] = active
            self.version += 1

    def release(self, key: JobKey) -> None:
        if self.holding.pop(key, None) is not None:
            self.version += 1

    def get(self, key: JobKey) -> Active | None:
        return self.holding.get(key)

    def active(self) -> list[Active]:
        return list(self.holding.values())

    def created(self, key: JobKey, now: float) -> None:
        self.created_at[key] = now

    def unseen_grace(self, key: JobKey, now: float) -> float:
        """Seconds left before KEY's missing Job counts as gone (0: it does now)."""
        created = self.created_at.get(key)
        return 0.0 if created is None else max(0.0, JOB_WATCH_GRACE - (now - created))

    def forget(self, key: JobKey) -> None:
        self.release(key)
        self.created_at.pop(key, None)

    def running_by_category(self) -> dict[Category, list[JobKey]]:
        running: dict[Category, list[JobKey]] = {c: [] for c in Category}
        for active in self.holding.values():
            running[active.demand.category].append(active.key)
        return running

    def vram_used(self, pools: Iterable[str]) -> dict[str, int]:
        used = dict.fromkeys(pools, 0)
        for active in self.holding.values():
            if active.pool is not None:
                used[active.pool] = used.get(active.pool, 0) + active.demand.vram_mib
        return used
