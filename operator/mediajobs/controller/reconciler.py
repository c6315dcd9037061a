"""The reconciler: the in-memory view, one loop that plans and admits, writers that apply.

Informers (kube/watch.py) only update the view and mark MediaJobs dirty; the
loop wakes, plans each dirty MediaJob (lifecycle/plan.py), runs an admission
pass (scheduling/decide.py) when what admission reads has changed (the queue,
the ledger, the quotas, a lifting rate limit: a pass is O(queue)), and hands the
writes to writer lanes (controller/lanes.py): admission first, reports after.
Admission is recorded in the ledger *before* the Job is created (Kueue's
"assume"), because the watch-fed view lags the operator's own writes; a failed
create forgets it again. The Job is the record of the decision: the Running
status that follows it is planned as its own step (Adopt), so a crash between
the two converges.

A MediaJob with a write in flight is not planned again until the write is
done, so two steps for one MediaJob never race.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mediajobs.api.common import Category
from mediajobs.api.mediajob import Phase
from mediajobs.config import OperatorConfig
from mediajobs.controller.lanes import Lane, Lanes
from mediajobs.controller.metrics import Metrics
from mediajobs.jobs.build import build_job, suspend_patch
from mediajobs.jobs.naming import MANAGED_BY_LABEL, MANAGER
from mediajobs.jobs.outcome import outcome
from mediajobs.kube.client import ApiError, Kube, jobs_path, mediajobs_path
from mediajobs.kube.watch import Informer
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.plan import (
    Adopt,
    Cancel,
    Expire,
    FailInvalid,
    Finish,
    Hold,
    Noop,
    Plan,
    Queue,
    Recreate,
    Sleep,
    Suspend,
    plan,
)
from mediajobs.lifecycle.records import (
    JobView,
    Record,
    job_from_body,
    quota_from_body,
    record_from_body,
    resource_version_of,
)
from mediajobs.scheduling.decide import Limits, Pool, Snapshot, Wait, decide
from mediajobs.scheduling.model import Active, Candidate, JobKey, Quota

log = logging.getLogger("mediajobs.reconciler")

POOL_LABEL = "mediajobs.dev/gpu-pool"
# queuePosition/waitingReason are cosmetic: rewriting every waiting job on every
# admission would be O(N^2) writes. Each job's are rewritten at most this often,
# and all of them together at most COSMETIC_WRITES_PER_SECOND (/stats is live).
COSMETIC_MIN_INTERVAL = 10.0
COSMETIC_WRITES_PER_SECOND = 20.0
REPORT_BACKLOG = 64  # report writes waiting or in flight, at most, for first Queued statuses
COSMETIC_RECHECK = 0.5  # seconds between two looks for owed cosmetic writes (O(queue) each)
PROGRESS_MIN_INTERVAL = 1.0
RETRY_AFTER_API_ERROR = 5.0
MAX_PASS_PAUSE = 0.1
# How long a Job the operator created may stay unseen by its watch before it is
# created again (a 409 if it was only the watch lagging).
JOB_WATCH_GRACE = 10.0


def utcnow() -> datetime:
    return datetime.now(UTC)


def limits_from(config: OperatorConfig) -> Limits:
    return Limits(
        max_running={c: config.limit(c).max_running for c in Category},
        pools=[Pool(p.name, p.vram_mib) for p in config.gpu_pools],
        min_start_interval={
            c: 60.0 / rate
            for c in Category
            if (rate := config.limit(c).starts_per_minute) is not None
        },
    )


def _holding(record: Record, job: JobView) -> Active:
    """The ledger entry of RECORD, running as JOB (which names its GPU pool)."""
    return Active(record.key, record.demand(), job.body["metadata"]["labels"].get(POOL_LABEL))


@dataclass
class _Shown:
    """What a waiting job's status shows, and when it was written."""

    position: int | None
    reason: str | None
    at: float


@dataclass
class Reconciler:
    kube: Kube
    config: OperatorConfig
    metrics: Metrics
    clock: Callable[[], datetime] = utcnow
    writers: int = 32
    namespaces: list[str] = field(default_factory=list)  # empty: the whole cluster

    records: dict[JobKey, Record] = field(default_factory=dict)
    by_uid: dict[str, JobKey] = field(default_factory=dict)
    jobs: dict[str, JobView] = field(default_factory=dict)  # MediaJob uid -> newest Job
    quotas: dict[tuple[str, Category], Quota] = field(default_factory=dict)
    queue: dict[JobKey, Queue] = field(default_factory=dict)
    ledger: dict[JobKey, Active] = field(default_factory=dict)
    waits: dict[JobKey, Wait] = field(default_factory=dict)
    last_start: dict[Category, datetime] = field(default_factory=dict)
    created_at: dict[JobKey, float] = field(default_factory=dict)  # monotonic time of our create

    def __post_init__(self) -> None:
        self.limits = limits_from(self.config)
        self.pools = {p.name: p for p in self.config.gpu_pools}
        self.dirty: set[JobKey] = set()
        self.busy: set[JobKey] = set()
        self.timers: list[tuple[datetime, JobKey]] = []
        self._timer_of: dict[JobKey, datetime] = {}
        self.wake = asyncio.Event()
        self.ready = asyncio.Event()
        self._lanes = Lanes(self.writers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._shown: dict[JobKey, _Shown] = {}
        self._cosmetic_budget = COSMETIC_WRITES_PER_SECOND
        self._cosmetic_refill = time.monotonic()
        self._progress: dict[JobKey, int] = {}
        self._progress_written: dict[JobKey, float] = {}
        self.first_seen: dict[JobKey, float] = {}
        # Admission is decided again only when what it reads changed (a pass is O(queue)):
        self.candidates: dict[JobKey, Candidate] = {}  # the queue, as admission sees it
        self._stale = True
        self._decide_at: datetime | None = None  # a rate limit lifts
        self._cosmetics_owed = False
        self._unshown: deque[JobKey] = deque()  # waiting, no Queued status written yet
        self._cosmetics_next = 0.0

    # ---- the view, fed by watch events ----------------------------------------------

    def _kick(self, key: JobKey | None = None) -> None:
        if key is not None:
            self.dirty.add(key)
        self.wake.set()

    def observe_mediajob(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        key = JobKey(meta["namespace"], meta["name"])
        if event_type == "DELETED":
            self._forget(key)
            return
        known = self.records.get(key)
        if known is not None and known.uid != meta["uid"]:
            self._forget(key)  # deleted and re-created under the same name
            known = None
        version = resource_version_of(meta)  # 0: not a number (the API does not promise one)
        if known is not None and version and known.resource_version >= version:
            return  # what we hold already (our own write's answer came first), or older
        try:
            record = record_from_body(body, known)
        except (ValueError, KeyError) as err:  # the CRD schema makes this unlikely
            log.warning("ignoring MediaJob %s: %s", key, err)
            return
        self.records[key] = record
        self.by_uid[record.uid] = key
        self.first_seen.setdefault(key, time.monotonic())
        self._kick(key)

    def _forget(self, key: JobKey) -> None:
        record = self.records.pop(key, None)
        if record is not None:
            self.by_uid.pop(record.uid, None)
            self.jobs.pop(record.uid, None)
        self._dequeue(key)
        self._release(key)
        self.waits.pop(key, None)
        self._shown.pop(key, None)
        self._progress.pop(key, None)
        self._progress_written.pop(key, None)
        self.first_seen.pop(key, None)
        self.created_at.pop(key, None)
        self._kick()

    def observe_job(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        view = job_from_body(body)
        if view is None:
            return
        known = self.jobs.get(view.owner_uid)
        if event_type == "DELETED":
            if known is not None and known.name == view.name:
                self.jobs.pop(view.owner_uid)
        elif known is None or (view.attempt, view.resource_version) > (
            known.attempt,
            known.resource_version,
        ):
            self.jobs[view.owner_uid] = view
        else:
            return
        key = self.by_uid.get(view.owner_uid)
        if key is not None:
            self._kick(key)

    def observe_quota(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        scoped = quota_from_body(body)
        if scoped is None:
            return
        scope, quota = scoped
        if event_type == "DELETED":
            self.quotas.pop(scope, None)
        else:
            self.quotas[scope] = quota
        self._stale = True
        self._kick()

    def observe_progress(self, uid: str, attempt: int, progress: int) -> None:
        key = self.by_uid.get(uid)
        record = self.records.get(key) if key else None
        if key is None or record is None:
            return
        if record.phase != Phase.RUNNING or record.status.attempts != attempt:
            return  # a late event from an earlier attempt
        if progress > (record.status.progress or 0):
            self._progress[key] = progress

    # ---- start-up ---------------------------------------------------------------------

    def informers(self) -> list[Informer]:
        """The watches that feed the view: MediaJobs, the operator's Jobs, quotas."""
        scopes: list[str | None] = [*self.namespaces] or [None]  # None: every namespace
        out = []
        for ns in scopes:
            quotas = f"/api/v1/namespaces/{ns}/resourcequotas" if ns else "/api/v1/resourcequotas"
            out += [
                Informer(self.kube, mediajobs_path(ns), self.observe_mediajob),
                Informer(
                    self.kube,
                    jobs_path(ns),
                    self.observe_job,
                    label_selector=f"{MANAGED_BY_LABEL}={MANAGER}",
                ),
                Informer(self.kube, quotas, self.observe_quota),
            ]
        return out

    async def sync(self, informers: Sequence[Informer]) -> None:
        """Wait until every informer has handled its first list, so the first admission
        pass sees every job in order (a restart never lets a later job jump ahead)."""
        await asyncio.gather(*(i.synced.wait() for i in informers))
        self.dirty.update(self.records)
        self.ready.set()
        log.info(
            "synced %d MediaJobs, %d Jobs, %d quotas",
            len(self.records),
            len(self.jobs),
            len(self.quotas),
        )

    # ---- the loop ---------------------------------------------------------------------

    async def run(self, informers: Sequence[Informer]) -> None:
        await self.sync(informers)
        progress = asyncio.create_task(self._flush_progress_forever())
        try:
            while True:
                self.wake.clear()
                began = time.monotonic()
                now = self.clock()
                self._due_timers(now)
                for key in list(self.dirty - self.busy):
                    self.dirty.discard(key)
                    self._step(key, now)
                if self._stale or (self._decide_at is not None and now >= self._decide_at):
                    self._admit(now)
                self._show_queued(now)
                if self._cosmetics_owed and began >= self._cosmetics_next:
                    self._write_cosmetics()
                spent = time.monotonic() - began
                await self._sleep(now)
                # A pass costs O(queue): after a costly one, let the wakes pile up for as
                # long again, so that a long queue gets fewer, larger passes (<= half a core).
                await asyncio.sleep(min(spent, MAX_PASS_PAUSE))
        finally:
            progress.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _sleep(self, now: datetime) -> None:
        timeout: float | None = None
        if self.timers:
            timeout = max(0.0, (self.timers[0][0] - now).total_seconds())
        if self._cosmetics_owed:
            timeout = min(timeout or 1.0, 1.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout)

    def _due_timers(self, now: datetime) -> None:
        while self.timers and self.timers[0][0] <= now:
            when, key = heapq.heappop(self.timers)
            if self._timer_of.get(key) == when:
                del self._timer_of[key]
            if key in self.records:
                self.dirty.add(key)

    def _spawn(
        self, key: JobKey | None, work: Coroutine[Any, Any, object], lane: Lane = Lane.REPORT
    ) -> None:
        """Run WORK on a writer slot of LANE; KEY is planned again when it is done."""
        if key is not None:
            self.busy.add(key)

        async def guarded() -> None:
            async with self._lanes.slot(lane):
                try:
                    await work
                except ApiError as err:
                    if err.fatal:
                        return  # said in one line by the client; the operator stops
                    if key is not None and err.status != 404:
                        log.warning("%s: %s; retrying in %gs", key, err, RETRY_AFTER_API_ERROR)
                        self._after(key, RETRY_AFTER_API_ERROR)
                except Exception:
                    log.exception("%s: unexpected error", key)
                    if key is not None:
                        self._after(key, RETRY_AFTER_API_ERROR)
                finally:
                    if key is not None:
                        self.busy.discard(key)
                        self._kick(key)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _after(self, key: JobKey, seconds: float) -> None:
        self._wake_at(self.clock() + timedelta(seconds=seconds), key)

    def _wake_at(self, when: datetime, key: JobKey) -> None:
        """Plan KEY again at WHEN (once: a MediaJob planned again asks again)."""
        if self._timer_of.get(key) == when:
            return
        self._timer_of[key] = when
        heapq.heappush(self.timers, (when, key))

    # ---- one MediaJob -------------------------------------------------------------------

    def _step(self, key: JobKey, now: datetime) -> None:
        record = self.records.get(key)
        if record is None:
            return
        job = self.jobs.get(record.uid)
        step = plan(record, job, now, self.config.retention)
        if not isinstance(step, Queue):
            self._dequeue(key)
            self.waits.pop(key, None)
        if not isinstance(step, Hold | Recreate | Adopt):
            self._release(key)
        self._carry_out(key, record, step, now)

    def _enqueue(self, key: JobKey, record: Record, step: Queue) -> None:
        self.queue[key] = step
        candidate = Candidate(
            key, record.uid, record.spec.priority, record.created, record.demand()
        )
        if self.candidates.get(key) != candidate:
            self.candidates[key] = candidate
            self._stale = True

    def _dequeue(self, key: JobKey) -> Queue | None:
        if self.candidates.pop(key, None) is not None:
            self._stale = True
        return self.queue.pop(key, None)

    def _hold(self, key: JobKey, active: Active) -> None:
        if self.ledger.get(key) != active:
            self.ledger[key] = active
            self._stale = True

    def _release(self, key: JobKey) -> None:
        if self.ledger.pop(key, None) is not None:
            self._stale = True

    def _carry_out(self, key: JobKey, record: Record, step: Plan, now: datetime) -> None:
        match step:
            case Noop():
                return
            case Sleep(until=until):
                self._wake_at(until, key)
            case Queue():
                self._enqueue(key, record, step)
            case Hold(job=job):
                self._hold(key, _holding(record, job))
            case Recreate(attempt=attempt):
                self._recreate(key, record, attempt)
            case Adopt(job=job):
                self._hold(key, _holding(record, job))
                self._spawn(
                    key, self._write(record, statuses.admitted(record, job.attempt, job.name, now))
                )
            case Finish(job=job):
                self._spawn(key, self._finish(record, job))
            case FailInvalid(reason=reason):
                self._spawn(key, self._write(record, statuses.invalid(record, reason, now)))
            case Cancel(job=job):
                self._spawn(key, self._cancel(record, job), Lane.ADMIT)
            case Suspend(job=job):
                self._spawn(key, self._suspend(record, job), Lane.ADMIT)
            case Expire():
                self._spawn(key, self._expire(record))

    def _recreate(self, key: JobKey, record: Record, attempt: int) -> None:
        created = self.created_at.get(key)
        clock = time.monotonic()
        if created is not None and clock - created < JOB_WATCH_GRACE:
            self._after(key, JOB_WATCH_GRACE - (clock - created))  # the watch will show it
            return
        active = self.ledger.get(key)
        if active is None:  # after a restart: the Job is gone; take the slot again
            pool = self.limits.pools[0].name if record.demand().category.uses_gpu else None
            active = Active(key, record.demand(), pool)
            self._hold(key, active)
        self.created_at[key] = clock
        log.warning("%s: the Job of attempt %d is missing; creating it again", key, attempt)
        self._spawn(key, self._create_job(record, attempt, active.pool), Lane.ADMIT)

    async def _write(self, record: Record, transition: statuses.Transition) -> None:
        """Patch the status (and post the Event); the answer updates the view."""
        path = mediajobs_path(record.key.namespace, record.key.name) + "/status"
        body = await self.kube.merge_patch(path, {"status": transition.fields})
        self.observe_mediajob("MODIFIED", body)
        if transition.phase is not None and transition.phase != (
            record.phase and record.phase.value
        ):
            self.metrics.transition(record, transition.phase, self.clock())
        if transition.event is not None:
            e = transition.event
            await self.kube.post_event(
                record.reference, type_=e.type, reason=e.reason, message=e.message, now=self.clock()
            )

    async def _finish(self, record: Record, job: JobView) -> None:
        pods = await self.kube.list_all(
            f"/api/v1/namespaces/{job.namespace}/pods", label_selector=f"job-name={job.name}"
        )
        result = outcome(job.body, pods)
        if not result.kind.finished:
            self._after(record.key, 1.0)  # the Job says finished before its pod does: look again
            return
        if (record.status.attempts or 0) < job.attempt:
            record = await self._adopted(record, job)
        await self._write(record, statuses.finished(record, result, self.clock()))

    async def _adopted(self, record: Record, job: JobView) -> Record:
        await self._write(record, statuses.admitted(record, job.attempt, job.name, self.clock()))
        return self.records.get(record.key, record)

    async def _cancel(self, record: Record, job: JobView | None) -> None:
        if job is not None:
            # Background: the Job goes now, its pods get their grace period to stop.
            await self.kube.delete(jobs_path(job.namespace, job.name))
        await self._write(record, statuses.cancelled(record, self.clock()))

    async def _suspend(self, record: Record, job: JobView | None) -> None:
        if job is not None:
            patched = await self.kube.merge_patch(
                jobs_path(job.namespace, job.name), suspend_patch(True)
            )
            self.observe_job("MODIFIED", patched)
        await self._write(record, statuses.suspended(record, self.clock()))

    async def _expire(self, record: Record) -> None:
        await self.kube.delete(mediajobs_path(record.key.namespace, record.key.name))

    # ---- admission --------------------------------------------------------------------

    def _admit(self, now: datetime) -> None:
        self._stale, self._decide_at = False, None
        if not self.queue:
            self.waits.clear()
            return
        # Busy ones too: leaving out a job whose write is in flight would shift every
        # position behind it, and would let a later job be admitted ahead of it.
        decision = decide(
            Snapshot(
                candidates=list(self.candidates.values()),
                active=list(self.ledger.values()),
                quotas=self.quotas,
                now=now,
                last_start=self.last_start,
            ),
            self.limits,
        )
        for admit in decision.admit:
            key = admit.candidate.key
            step = self.queue.get(key)
            if key in self.busy or step is None:
                self._stale = True  # admitted on the pass after its write lands
                continue
            self._dequeue(key)
            self._hold(key, Active(key, admit.candidate.demand, admit.pool))  # assume
            self.last_start[admit.candidate.demand.category] = now
            self._spawn(key, self._start(self.records[key], step, admit.pool), Lane.ADMIT)
        for key, reason in decision.reject.items():
            if key in self.busy:
                self._stale = True
                continue
            self._dequeue(key)
            record = self.records[key]
            self._spawn(key, self._write(record, statuses.unschedulable(record, reason, now)))
        self.waits = dict(decision.wait)
        self._cosmetics_owed = True
        if decision.wake_at is not None:
            self._decide_at = decision.wake_at
            self._wake_at(decision.wake_at, next(iter(decision.wait)))
        self._unshown = deque(k for k in self.waits if self.records[k].phase != Phase.QUEUED)

    def _show_queued(self, now: datetime) -> None:
        """Write the first Queued status of newly waiting jobs, in queue order, keeping
        the report lane's backlog short (10,000 writes at once would be 10,000 tasks)."""
        room = REPORT_BACKLOG - self._lanes.pending[Lane.REPORT]
        while self._unshown and room > 0:
            key = self._unshown.popleft()
            wait, record = self.waits.get(key), self.records.get(key)
            if wait is None or record is None or record.phase == Phase.QUEUED:
                continue
            if key in self.busy:
                self._stale = True  # decided again once its write lands; shown then
                continue
            room -= 1
            self._shown[key] = _Shown(wait.position, wait.reason, time.monotonic())
            self._spawn(key, self._write(record, statuses.queued(record, wait, now)))

    async def _start(self, record: Record, step: Queue, pool_name: str | None) -> None:
        key = record.key
        try:
            if step.resume is not None:
                patched = await self.kube.merge_patch(
                    jobs_path(step.resume.namespace, step.resume.name), suspend_patch(False)
                )
                self.observe_job("MODIFIED", patched)
            else:
                await self._create_job(record, step.attempt, pool_name)
        except ApiError:
            self._release(key)  # forget the assumption: it is queued again
            raise
        # Planned again, it is Adopted: the Running status goes out in the report lane.
        self.metrics.admitted(time.monotonic() - self.first_seen.get(key, time.monotonic()))

    async def _create_job(self, record: Record, attempt: int, pool_name: str | None) -> None:
        if record.placement is None:
            raise ValueError(f"{record.key} cannot run: {record.invalid}")
        pool = self.pools.get(pool_name) if pool_name else None
        body = build_job(
            name=record.key.name,
            namespace=record.key.namespace,
            uid=record.uid,
            spec=record.spec,
            attempt=attempt,
            placement=record.placement,
            config=self.config,
            pool=pool,
        )
        if pool is not None:
            body["metadata"]["labels"][POOL_LABEL] = pool.name
        for target in (body["metadata"], body["spec"]["template"]["metadata"]):
            # The MediaJob's own labels travel with its pods; ours win on a clash.
            target["labels"] = record.labels | target.get("labels", {})
        name = str(body["metadata"]["name"])
        created, _ = await self.kube.create(jobs_path(record.key.namespace), body)
        # The answer updates the view at once: the Job watch can lag seconds behind
        # under load. A 409 is our own earlier create: read it instead.
        current = created or await self.kube.get(jobs_path(record.key.namespace, name))
        if current is not None:
            self.observe_job("ADDED", current)

    # ---- coalesced writes -------------------------------------------------------------

    def _write_cosmetics(self) -> None:
        """Refresh queuePosition/waitingReason of waiting jobs, within the write budget."""
        clock = time.monotonic()
        self._cosmetic_budget = min(
            COSMETIC_WRITES_PER_SECOND,
            self._cosmetic_budget + (clock - self._cosmetic_refill) * COSMETIC_WRITES_PER_SECOND,
        )
        self._cosmetic_refill = clock
        self._cosmetics_next = clock + COSMETIC_RECHECK
        now = self.clock()
        owed = sorted(
            (w.position, key, shown.at)
            for key, w in self.waits.items()
            if key not in self.busy
            and self.records[key].phase == Phase.QUEUED
            and ((shown := self._shown_of(key)).position, shown.reason) != (w.position, w.reason)
        )
        self._cosmetics_owed = bool(owed)
        for _, key, shown_at in owed:
            if clock - shown_at < COSMETIC_MIN_INTERVAL:
                continue
            if self._cosmetic_budget < 1:
                return
            self._cosmetic_budget -= 1
            wait = self.waits[key]
            self._shown[key] = _Shown(wait.position, wait.reason, clock)
            record = self.records[key]
            self._spawn(key, self._write(record, statuses.queued(record, wait, now)))

    def _shown_of(self, key: JobKey) -> _Shown:
        """What KEY's status shows; written before this process started if not known."""
        shown = self._shown.get(key)
        if shown is None:
            status = self.records[key].status
            shown = _Shown(status.queue_position, status.waiting_reason, at=-COSMETIC_MIN_INTERVAL)
        return shown

    async def _flush_progress_forever(self) -> None:
        while True:
            await asyncio.sleep(PROGRESS_MIN_INTERVAL / 4)
            clock = time.monotonic()
            for key, value in list(self._progress.items()):
                if (
                    key in self.busy
                    or clock - self._progress_written.get(key, 0.0) < PROGRESS_MIN_INTERVAL
                ):
                    continue
                del self._progress[key]
                record = self.records.get(key)
                if record is None or record.phase != Phase.RUNNING:
                    continue
                self._progress_written[key] = clock
                self._spawn(key, self._write(record, statuses.progressed(value)))

    # ---- introspection (for /stats and metrics) -----------------------------------------

    def running_by_category(self) -> dict[Category, int]:
        counts = dict.fromkeys(Category, 0)
        for active in self.ledger.values():
            counts[active.demand.category] += 1
        return counts

    def vram_used(self) -> dict[str, int]:
        used = dict.fromkeys(self.pools, 0)
        for active in self.ledger.values():
            if active.pool is not None:
                used[active.pool] += active.demand.vram_mib
        return used
