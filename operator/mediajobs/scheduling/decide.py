"""decide(snapshot) -> which jobs to admit now, and why the others wait.

Every category has its own queue in (priority, creationTimestamp, uid) order.
A job is admitted only when both capacity sources have room:

- the operator's config: a cluster-wide cap on running jobs per category, an
  optional start rate per category and per platform (for the jobs that act on
  one: scrapes and publishing, polite to the platform), and a VRAM budget per
  GPU pool (shared by gpu_encode and gpu_ai: Kubernetes cannot see VRAM);
- the namespace's ResourceQuota for the category's PriorityClass (pods, GPUs,
  memory): the quota's own usage or what the operator admitted there, whichever
  is higher, since the quota's status lags the operator's writes.

Order is strict for what all jobs of a category share: once the head of a
category's queue is held by the cap, the rate limit or VRAM, no later job of
that category jumps ahead. A job held only by its own namespace's quota does
not hold up other namespaces, nor one held by its platform's start rate other
platforms. A job that could never fit is rejected at once.

The platform rate is the one throttle's token bucket (throttle.py, one token per
start, burst 1): each pass spends on a copy, the reconciler on the real one when
it carries an admission out.

Where a category opts in, the job at the head of a held category may preempt
running jobs of lower priority (scheduling/preempt.py: which, and why never
more); the decision names them and the job waits until their pods have
stopped (SNAPSHOT.stopping). With fair share on, jobs of one priority are
considered in fair-share order across namespaces (scheduling/fairshare.py),
and where it may preempt, a namespace over its share gives the head a slot
(scheduling/fairpreempt.py). (A little over 400 lines: one pass's rules.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mediajobs.api.common import Category
from mediajobs.config import Preemption
from mediajobs.scheduling.fairpreempt import give_back, held_after
from mediajobs.scheduling.fairshare import fair_order, shares_of
from mediajobs.scheduling.model import Active, Candidate, Demand, JobKey, Quota
from mediajobs.scheduling.preempt import (
    Room,
    Victim,
    allows,
    eligible,
    fewest,
    unclaimed,
    victim_order,
)
from mediajobs.throttle import RateLimit


@dataclass(frozen=True)
class Pool:
    name: str
    vram_mib: int


@dataclass(frozen=True)
class Limits:
    """The config's capacity, as plain data."""

    max_running: Mapping[Category, int]
    pools: Sequence[Pool]
    min_start_interval: Mapping[Category, float] = field(default_factory=dict)  # seconds
    preemption: Mapping[Category, Preemption] = field(default_factory=dict)
    fair_share: Mapping[str, float] | None = None  # namespace weights; None: off
    fair_preemption: bool = False  # fair share may preempt (scheduling/fairpreempt.py)
    platform_starts_per_minute: Mapping[str, float] = field(default_factory=dict)

    def platform_buckets(self) -> dict[str, RateLimit[None]]:
        """A fresh token bucket per rate-limited platform (what the Snapshot carries)."""
        return {p: RateLimit(rate / 60) for p, rate in self.platform_starts_per_minute.items()}


@dataclass(frozen=True)
class Snapshot:
    candidates: Sequence[Candidate]
    active: Sequence[Active]
    quotas: Mapping[tuple[str, Category], Quota]
    now: datetime
    last_start: Mapping[Category, datetime] = field(default_factory=dict)
    platform_starts: Mapping[str, RateLimit[None]] = field(default_factory=dict)  # not spent
    progress: Mapping[JobKey, int] = field(default_factory=dict)  # of running jobs
    # victim -> its preemptor (None: not known, after a restart: its category waits for it)
    stopping: Mapping[JobKey, JobKey | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Admit:
    candidate: Candidate
    pool: str | None

    def active(self, now: datetime) -> Active:
        """The ledger's entry for this admission, made at NOW."""
        c = self.candidate
        return Active(c.key, c.demand, self.pool, c.priority, now)


@dataclass(frozen=True)
class Wait:
    position: int  # 1 = next in its category
    reason: str


@dataclass(frozen=True)
class Decision:
    admit: list[Admit]
    wait: dict[JobKey, Wait]
    reject: dict[JobKey, str]
    wake_at: datetime | None  # when a rate limit lifts; None: only events wake the loop
    preempt: list[Victim] = field(default_factory=list)  # running jobs to stop, for whom


@dataclass
class _Usage:
    running: Counter[Category] = field(default_factory=Counter)
    vram: Counter[str] = field(default_factory=Counter)
    pods: Counter[tuple[str, Category]] = field(default_factory=Counter)
    gpus: Counter[tuple[str, Category]] = field(default_factory=Counter)
    memory: Counter[tuple[str, Category]] = field(default_factory=Counter)
    ns_vram: Counter[str] = field(default_factory=Counter)  # what fair share weighs

    def add(self, namespace: str, demand: Demand, pool: str | None, count: int = 1) -> None:
        scope = (namespace, demand.category)
        self.running[demand.category] += count
        if pool is not None:
            self.vram[pool] += demand.vram_mib * count
            self.ns_vram[namespace] += demand.vram_mib * count
        self.pods[scope] += count
        self.gpus[scope] += demand.gpus * count
        self.memory[scope] += demand.memory_bytes * count


def _needs_pool(demand: Demand) -> bool:
    return demand.category.uses_gpu or demand.gpus > 0 or demand.vram_mib > 0


def _never_fits(c: Candidate, limits: Limits, quota: Quota | None) -> str | None:
    d = c.demand
    if limits.max_running.get(d.category, 0) <= 0:
        return f"category {d.category} admits no jobs (its limit is 0)"
    if _needs_pool(d):
        if not limits.pools:
            return f"needs a GPU but no GPU pool is configured for {d.category}"
        largest = max(p.vram_mib for p in limits.pools)
        if d.vram_mib > largest:
            return f"needs {d.vram_mib} MiB VRAM; the largest GPU pool has {largest} MiB"
    if quota is not None:
        for what, need, hard in (
            ("pods", 1, quota.pods),
            ("GPUs", d.gpus, quota.gpus),
            ("memory bytes", d.memory_bytes, quota.memory_bytes),
        ):
            if hard is not None and need > hard:
                return f"needs {need} {what}; ResourceQuota {quota.name} allows {hard}"
    return None


def _quota_room(c: Candidate, quota: Quota | None, usage: _Usage) -> str | None:
    """None when the namespace quota has room for C, else why not."""
    if quota is None:
        return None
    scope = (c.key.namespace, c.demand.category)
    for what, need, hard, shown, ours in (
        ("pods", 1, quota.pods, quota.used_pods, usage.pods[scope]),
        ("nvidia.com/gpu", c.demand.gpus, quota.gpus, quota.used_gpus, usage.gpus[scope]),
        (
            "memory MiB",
            c.demand.memory_bytes >> 20,
            None if quota.memory_bytes is None else quota.memory_bytes >> 20,
            quota.used_memory_bytes >> 20,
            usage.memory[scope] >> 20,
        ),
    ):
        used = max(shown, ours)
        if hard is not None and need > 0 and used + need > hard:
            return f"ResourceQuota {quota.name}: {what} {used}/{hard} used"
    return None


def _vram_text(limits: Limits, usage: _Usage) -> str:
    return "; ".join(
        f"VRAM {usage.vram[p.name]}/{p.vram_mib} MiB"
        + ("" if len(limits.pools) == 1 else f" in pool {p.name}")
        for p in limits.pools
    )


@dataclass
class _Pass:
    """One admission pass over the queues, in order."""

    snapshot: Snapshot
    limits: Limits
    usage: _Usage = field(default_factory=_Usage)
    admit: list[Admit] = field(default_factory=list)
    wait: dict[JobKey, Wait] = field(default_factory=dict)
    reject: dict[JobKey, str] = field(default_factory=dict)
    held: dict[Category, str] = field(default_factory=dict)  # why a category's head waits
    waiting: Counter[Category] = field(default_factory=Counter)
    last_start: dict[Category, datetime] = field(default_factory=dict)
    platform_starts: dict[str, RateLimit[None]] = field(default_factory=dict)
    wake_at: datetime | None = None
    preempt: list[Victim] = field(default_factory=list)
    chosen: set[JobKey] = field(default_factory=set)  # victims, stopping or chosen now
    preempting: dict[JobKey, list[JobKey]] = field(default_factory=dict)  # by -> victims
    gpu_held: int | None = None  # the highest priority (lowest number) a held GPU job has
    unclaimed: set[Category] = field(default_factory=set)  # a victim of no known preemptor stops

    def _wake(self, at: datetime) -> None:
        self.wake_at = at if self.wake_at is None else min(self.wake_at, at)

    def hold(self, c: Candidate, reason: str) -> None:
        self.waiting[c.demand.category] += 1
        self.wait[c.key] = Wait(self.waiting[c.demand.category], reason)

    def hold_behind(self, c: Candidate, passed_over: bool) -> None:
        """C waits because its category is held; PASSED_OVER: fair share put a younger
        job of another namespace before it."""
        cat, reason = c.demand.category, self.held[c.demand.category]
        if passed_over:
            ns = c.key.namespace
            mine = self.usage.pods[(ns, cat)]
            cap = self.limits.max_running[cat]
            reason = f"waiting for fair share: namespace {ns} holds {mine}/{cap} slots ({reason})"
        self.hold(c, reason)

    def consider(self, c: Candidate, passed_over: bool = False) -> None:
        cat = c.demand.category
        quota = self.snapshot.quotas.get((c.key.namespace, cat))
        never = _never_fits(c, self.limits, quota)
        if never is not None:
            self.reject[c.key] = never
            return
        if c.key in self.snapshot.stopping:  # preempted, re-queued: its slot is not free yet
            by = self.snapshot.stopping[c.key]
            self.hold(c, f"preempted{f' by {by}' if by else ''}: waiting for its pods to stop")
            return
        if cat not in self.held:
            blocked, pool = self._category_room(c)
            if blocked is None:
                short = self._platform_room(c) or _quota_room(c, quota, self.usage)
                if short is not None:
                    self.hold(c, short)  # this platform or namespace only: the category goes on
                    return
                self.admit.append(Admit(c, pool))
                self.usage.add(c.key.namespace, c.demand, pool)
                self.last_start[cat] = self.snapshot.now
                if c.platform in self.platform_starts:
                    self.platform_starts[c.platform].take(None, self.snapshot.now.timestamp())
                return
            self.held[cat] = blocked
            if _needs_pool(c.demand):
                self.gpu_held = min(self.gpu_held or c.priority, c.priority)
            victims = self.preempting.get(c.key) or [v.key for v in self._victims(c, quota)]
            if victims:  # its reason only: the jobs behind it wait for the category
                names = ", ".join(str(v) for v in victims)
                self.hold(c, f"{blocked}; preempting {names}: waiting for the pods to stop")
                return
        self.hold_behind(c, passed_over)

    def _victims(self, c: Candidate, quota: Quota | None) -> tuple[Active, ...]:
        """The running jobs C, the head of its held category, preempts (scheduling/preempt.py),
        entered in the decision; none where its quota or the start rate would hold it anyway."""
        rules, cat = self.limits.preemption, c.demand.category
        gpu = _needs_pool(c.demand)
        if not allows(rules, cat) or _quota_room(c, quota, self.usage) is not None:
            return ()
        if cat in self.unclaimed:
            return ()  # a victim preempted before a restart is stopping: its slot comes
        if self._rate_ready_at(cat) is not None:
            return ()
        if gpu and self.gpu_held is not None and self.gpu_held < c.priority:
            return ()  # a waiting GPU job of higher priority could take it back: no chain
        slots = max(0, self.usage.running[cat] + 1 - self.limits.max_running[cat])
        pools = [p for p in self.limits.pools if p.vram_mib >= c.demand.vram_mib] if gpu else [None]
        snap = self.snapshot
        best: tuple[Active, ...] = ()
        rooms = [
            Room(
                c,
                None if pool is None else pool.name,
                slots,
                0
                if pool is None
                else max(0, self.usage.vram[pool.name] + c.demand.vram_mib - pool.vram_mib),
            )
            for pool in pools
        ]
        for room in rooms:
            ordered = sorted(
                (
                    a
                    for a in snap.active
                    if a.key not in self.chosen
                    and eligible(a, room, rules, snap.progress, snap.now)
                ),
                key=lambda a: victim_order(a, snap.progress),
            )
            found = fewest(ordered, room, rules[cat].max_victims_per_admission)
            if found and (not best or len(found) < len(best)):
                best = found
        reason = "LowerPriority"
        if not best and self.limits.fair_preemption and self.limits.fair_share is not None:
            best, reason = self._fair_victim(rooms), "FairShare"
        self.preempt += [Victim(a, c, reason) for a in best]
        self.chosen.update(a.key for a in best)
        return best

    def _fair_victim(self, rooms: Sequence[Room]) -> tuple[Active, ...]:
        """The job a namespace over its share gives back to the preemptor of ROOMS, if any
        may (scheduling/fairpreempt.py): shares as they will be once the victims chosen
        before have stopped and their preemptors run."""
        snap, cat = self.snapshot, rooms[0].preemptor.demand.category
        held = held_after(
            cat,
            self.usage.pods,
            self.usage.ns_vram,
            leaving=[a for a in snap.active if a.key in self.chosen],
            coming=[c for c in snap.candidates if c.key in self.preempting],
            cap=self.limits.max_running[cat],
            vram_total=sum(p.vram_mib for p in self.limits.pools) if cat.uses_gpu else 0,
            weights=self.limits.fair_share or {},
        )
        active = [a for a in snap.active if a.key not in self.chosen]
        rules = self.limits.preemption
        for room in rooms:
            found = give_back(room, active, held, rules=rules, progress=snap.progress, now=snap.now)
            if found is not None:
                return (found,)
        return ()

    def _rate_ready_at(self, cat: Category) -> datetime | None:
        """When CAT's start rate lets the next job start, if not now."""
        interval = self.limits.min_start_interval.get(cat)
        previous = self.last_start.get(cat)
        if not interval or previous is None:
            return None
        ready_at = previous + timedelta(seconds=interval)
        return ready_at if self.snapshot.now < ready_at else None

    def _category_room(self, c: Candidate) -> tuple[str | None, str | None]:
        """(None, pool) when the category's cap, rate and VRAM let C start; else (why, None)."""
        cat = c.demand.category
        cap = self.limits.max_running[cat]
        gpu = _needs_pool(c.demand)
        running = f"{cat}: {self.usage.running[cat]}/{cap} running"
        if gpu:
            running += "; " + _vram_text(self.limits, self.usage)
        if self.usage.running[cat] >= cap:
            return running, None
        ready_at = self._rate_ready_at(cat)
        if ready_at is not None:
            self._wake(ready_at)
            per_minute = 60 / self.limits.min_start_interval[cat]
            return f"{cat}: rate limit of {per_minute:g} starts/min", None
        if not gpu:
            return None, None
        for p in self.limits.pools:
            if self.usage.vram[p.name] + c.demand.vram_mib <= p.vram_mib:
                return None, p.name
        return f"{running}; needs {c.demand.vram_mib} MiB", None

    def _platform_room(self, c: Candidate) -> str | None:
        """None when C's platform (if rate-limited) may see a start now, else why not."""
        bucket = self.platform_starts.get(c.platform) if c.platform is not None else None
        if bucket is None:
            return None
        now = self.snapshot.now
        wait = bucket.ready_at(None, now.timestamp()) - now.timestamp()
        if wait <= 0:
            return None
        self._wake(now + timedelta(seconds=wait))
        return f"platform {c.platform}: rate limit of {bucket.rate * 60:g} starts/min"


def decide(snapshot: Snapshot, limits: Limits) -> Decision:
    run = _Pass(
        snapshot,
        limits,
        last_start=dict(snapshot.last_start),
        platform_starts={p: b.copy() for p, b in snapshot.platform_starts.items()},
    )
    # Thousands of running jobs share a handful of (namespace, demand, pool) shapes.
    shapes = Counter((a.key.namespace, a.demand, a.pool) for a in snapshot.active)
    for (namespace, demand, pool), count in shapes.items():
        run.usage.add(namespace, demand, pool, count)
    for victim, by in snapshot.stopping.items():
        run.chosen.add(victim)
        if by is not None:
            run.preempting.setdefault(by, []).append(victim)
    run.unclaimed = unclaimed(snapshot.active, snapshot.stopping)
    weights = limits.fair_share
    if weights is not None and len({c.key.namespace for c in snapshot.candidates}) > 1:
        vram_total = sum(p.vram_mib for p in limits.pools)
        shares = shares_of(snapshot.active, limits.max_running, vram_total, weights)
        for c, passed_over in fair_order(snapshot.candidates, shares):
            run.consider(c, passed_over)
    else:
        for c in sorted(snapshot.candidates, key=lambda c: c.sort_key):
            run.consider(c)
    return Decision(run.admit, run.wait, run.reject, run.wake_at, run.preempt)
