"""The plain data admission decides over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from mediajobs.api.common import Category


class JobKey(NamedTuple):
    """A MediaJob's namespace and name: a tuple, so hashing and comparing it is C code
    (every pass of the reconciler hashes thousands of them; the timers heap compares them)."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Demand:
    """What one running job holds: a category slot, GPUs, VRAM, memory."""

    category: Category
    gpus: int = 0
    vram_mib: int = 0
    memory_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Candidate:
    """A MediaJob that is ready to run and waits for admission."""

    key: JobKey
    uid: str
    priority: int  # 1 (highest) .. 10
    created: datetime
    demand: Demand
    platform: str | None = None  # the platform it acts on, if its starts are rate-limited

    @property
    def sort_key(self) -> tuple[int, datetime, str]:
        """Kueue's total order: priority, then age, then uid as the tie breaker."""
        return (self.priority, self.created, self.uid)


@dataclass(frozen=True, slots=True)
class Active:
    """A job the operator admitted that has not finished (the ledger's entry)."""

    key: JobKey
    demand: Demand
    pool: str | None  # the GPU pool whose VRAM it holds
    priority: int = 5  # what preemption compares (scheduling/preempt.py)
    started: datetime | None = None  # admitted (or seen running after a restart); None: unknown


@dataclass(frozen=True, slots=True)
class Quota:
    """The hard limits of one namespace's quota for one category's PriorityClass.

    None means the quota does not limit that resource. ``used_*`` are what the
    quota's status shows; the operator adds what it admitted that is not shown yet.
    """

    name: str
    pods: int | None = None
    gpus: int | None = None
    memory_bytes: int | None = None
    used_pods: int = 0
    used_gpus: int = 0
    used_memory_bytes: int = 0
