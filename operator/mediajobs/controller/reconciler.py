"""The reconciler: the loop that ties the view, the queues and the effects together.

Informers (kube/watch.py: MediaJobs, the operator's Jobs and their pods,
quotas) update the view (controller/view.py) and mark MediaJobs dirty; the
loop wakes, plans each dirty MediaJob (lifecycle/plan.py), runs an admission
pass (controller/queues.py) when what admission reads has changed, and hands
the writes to the effects runtime (controller/effects.py: writer lanes,
admission first, reports after; timers).
Admission is entered in the ledger (controller/ledger.py) *before* the Job is
created (Kueue's "assume"), because the view lags the operator's own writes; a
failed create forgets it again. The Job is the record of the decision: the
Running status that follows it is planned as its own step (Adopt), so a crash
between the two converges. Positions and progress are written coalesced
(controller/reports.py). Everything reads one clock, passed in. (A little over
400 lines: the loop keeps its one match over every plan step in one place.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from mediajobs.api.mediajob import Phase
from mediajobs.clock import Clock, SystemClock
from mediajobs.config import OperatorConfig
from mediajobs.controller.actions import Actions
from mediajobs.controller.dependents import Dependents
from mediajobs.controller.effects import Effects
from mediajobs.controller.lanes import Lane
from mediajobs.controller.ledger import Ledger
from mediajobs.controller.logins import Logins
from mediajobs.controller.metrics import Metrics
from mediajobs.controller.namespaces import NamespaceWeights, warn
from mediajobs.controller.namespaces import informers as namespace_informers
from mediajobs.controller.queues import Queues, limits_from
from mediajobs.controller.reports import REPORT_BACKLOG, Positions, Progress
from mediajobs.controller.sessions import Sessions
from mediajobs.controller.snapshot import Finishes, QueueSnapshot, take
from mediajobs.controller.view import View
from mediajobs.jobs.naming import MANAGED_BY_LABEL, MANAGER, POOL_LABEL
from mediajobs.kube.port import (
    Api,
    ApiError,
    Selection,
    hitlsessions_path,
    jobs_path,
    mediajobs_path,
    pods_path,
    quotas_path,
)
from mediajobs.kube.watch import Informer
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.dependencies import Gate
from mediajobs.lifecycle.logins import CheckLogin, NeedLogin
from mediajobs.lifecycle.plan import (
    Adopt,
    Cancel,
    Expire,
    FailHuman,
    FailInvalid,
    Finish,
    GiveUp,
    Hold,
    JoinSession,
    Noop,
    Noted,
    NotStarting,
    OpenSession,
    Plan,
    Queue,
    Recreate,
    Retry,
    Sleep,
    Suspend,
    holds_slot,
    plan,
)
from mediajobs.lifecycle.records import JobView, Record
from mediajobs.scheduling.decide import Decision
from mediajobs.scheduling.model import Active, JobKey

log = logging.getLogger("mediajobs.reconciler")

MAX_PASS_PAUSE = 0.1
FINISH_LOOK_AGAIN = 1.0  # the Job says finished before its pod does: look again


class Reconciler:
    def __init__(
        self,
        api: Api,
        config: OperatorConfig,
        metrics: Metrics,
        *,
        clock: Clock | None = None,
        writers: int = 32,
        namespaces: Sequence[str] = (),  # empty: the whole cluster
        leading: Callable[[], bool] = lambda: True,  # controller/election.py's say
    ) -> None:
        self.api, self.config, self.metrics = api, config, metrics
        self.clock = clock or SystemClock()
        self.leading = leading
        self.namespaces = list(namespaces)
        self.limits = limits_from(config)
        self.view = View()
        self.ledger = Ledger()
        self.queues = Queues(self.limits)
        self.weights = NamespaceWeights(config.fair_share.weights)
        self.positions = Positions()
        self.progress = Progress()
        self.finishes = Finishes()
        self.effects = Effects(self.clock, writers, self._kick)
        self.sessions = Sessions(api, self._session_changed)
        self.actions = Actions(
            api,
            config,
            self.clock,
            self.observe_mediajob,
            self.observe_job,
            self._transitioned,
            lambda event: self.effects.spawn(None, event, Lane.EVENT),
            self.sessions.cookies,
        )
        self.logins = Logins(api, self.clock)
        self.dependents = Dependents()  # pipelines: who to plan again when a job moves
        self.dirty: set[JobKey] = set()
        self.passes = 0  # what the operator holds changes in a pass, or just before one
        self.ready = asyncio.Event()

    # ---- the view, fed by watch events ----------------------------------------------

    def _kick(self, key: JobKey | None = None) -> None:
        if key is not None:
            self.dirty.add(key)
        self.effects.wake.set()

    def observe_mediajob(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        change = self.view.mediajob(event_type, body)
        if change.gone:
            self._forget(change.key)
        if change.updated:
            self.queues.seen(change.key, self.clock.monotonic())
            self._kick(change.key)
        self.dirty |= self.dependents.observe(change.key, self.view.records.get(change.key))

    def _forget(self, key: JobKey) -> None:
        self.queues.forget(key)
        self.ledger.forget(key)
        self.positions.forget(key)
        self.progress.forget(key)
        self._kick()

    def observe_job(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        key = self.view.job(event_type, body)
        if key is not None:
            self._kick(key)

    def observe_pod(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        key = self.view.pod(event_type, body)
        if key is not None:
            self._kick(key)

    def observe_quota(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        if self.view.quota(event_type, body):
            self._kick()

    def observe_namespace(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        bad = self.weights.observe(event_type, body)
        if bad is not None:
            self.effects.spawn(None, warn(self.api, body, bad, self.clock.now()), Lane.EVENT)
        if self.queues.reweigh(self.weights.version, self.weights.weights()):
            self._kick()

    def observe_session(self, event_type: str | None, body: Mapping[str, Any]) -> None:
        self.sessions.observe(event_type, body)
        self.logins.observe_session(body)

    def _session_changed(self, key: tuple[str, str]) -> None:
        self.dirty.update(Sessions.naming(self.view.records.values(), key))
        self._kick()

    def observe_progress(self, uid: str, attempt: int, progress: int) -> None:
        key = self.view.by_uid.get(uid)
        record = self.view.records.get(key) if key else None
        if key is None or record is None:
            return
        if record.phase != Phase.RUNNING or record.status.attempts != attempt:
            return  # a late event from an earlier attempt
        if progress > (record.status.progress or 0):
            self.progress.offer(key, progress)
            self._kick()

    # ---- start-up ---------------------------------------------------------------------

    def informers(self) -> list[Informer]:
        """The watches that feed the view: MediaJobs, the operator's Jobs and their pods
        (selected by label, like the Jobs), quotas; with fair share on, the namespaces'
        weight labels (controller/namespaces.py)."""
        scopes: list[str | None] = [*self.namespaces] or [None]  # None: every namespace
        out = []
        ours = Selection(labels=f"{MANAGED_BY_LABEL}={MANAGER}")
        for ns in scopes:
            out += [
                Informer(self.api, mediajobs_path(ns), self.observe_mediajob, clock=self.clock),
                Informer(
                    self.api, jobs_path(ns), self.observe_job, selection=ours, clock=self.clock
                ),
                Informer(
                    self.api, pods_path(ns), self.observe_pod, selection=ours, clock=self.clock
                ),
                Informer(self.api, quotas_path(ns), self.observe_quota, clock=self.clock),
                Informer(self.api, hitlsessions_path(ns), self.observe_session, clock=self.clock),
            ]
        if self.limits.fair_share is not None:  # the weights' labels
            out += namespace_informers(self.api, scopes, self.observe_namespace, self.clock)
        return out

    async def sync(self, informers: Sequence[Informer]) -> None:
        """Wait until every informer has handled its first list, so the first admission
        pass sees every job in order (a restart never lets a later job jump ahead)."""
        await asyncio.gather(*(i.synced.wait() for i in informers))
        self.dirty.update(self.view.records)
        self.ready.set()
        log.info(
            "synced %d MediaJobs, %d Jobs, %d quotas",
            len(self.view.records),
            len(self.view.jobs),
            len(self.view.quotas),
        )

    # ---- the loop ---------------------------------------------------------------------

    async def run(self, informers: Sequence[Informer]) -> None:
        await self.sync(informers)
        try:
            while True:
                began = self.clock.monotonic()
                self.pass_once()
                spent = self.clock.monotonic() - began
                await self.effects.idle()
                # A pass costs O(queue): after a costly one, let the wakes pile up for as
                # long again, so that a long queue gets fewer, larger passes (<= half a core).
                await self.clock.sleep(min(spent, MAX_PASS_PAUSE))
        finally:
            self.effects.cancel()

    def pass_once(self) -> None:
        """One pass: due timers, every dirty MediaJob, admission if its inputs moved,
        then the coalesced reports."""
        self.effects.wake.clear()  # what changes from here on wakes the next pass
        self.passes += 1
        if not self.leading():
            return  # past the renew deadline: no decision, no write (the operator stops)
        now = self.clock.now()
        self.dirty.update(k for k in self.effects.due(now) if k in self.view.records)
        for key in list(self.dirty - self.effects.busy):
            self.dirty.discard(key)
            self._step(key, now)
        if self.queues.due(now, self.ledger, self.view):
            self._admit(now)
        self._show_queued(now)
        self._write_positions(now)
        self._write_progress()

    # ---- one MediaJob -------------------------------------------------------------------

    def _step(self, key: JobKey, now: datetime) -> None:
        record = self.view.records.get(key)
        if record is None:
            return
        cookies = self.sessions.cookies(record)
        dependencies, cycle = self.dependents.of(record, self.view.records)
        pending, worker_succeeded = self.view.in_flight(record)
        step = plan(
            record,
            self.view.job_of(record),
            now,
            self.config.retention,
            pending=pending,
            start_timeout=timedelta(seconds=self.config.start_timeout_seconds),
            session=self.sessions.of(record),
            cookies=cookies,
            login=self.logins.of(key.namespace, cookies),
            dependencies=dependencies,
            cycle=cycle,
            worker_succeeded=worker_succeeded,
        )
        goes_on = step.then if isinstance(step, Noted) else step
        if not isinstance(goes_on, Queue):
            self.queues.dequeue(key)
            self.queues.waits.pop(key, None)
        if not holds_slot(step):
            self.ledger.release(key)
        self._carry_out(key, record, step, now)

    def _carry_out(  # noqa: PLR0912 - one case per step
        self, key: JobKey, record: Record, step: Plan, now: datetime
    ) -> None:
        spawn, act = self.effects.spawn, self.actions
        match step:
            case Noop():
                return
            case Sleep(until=until):
                self.effects.at(until, key)
            case Queue():
                self.queues.enqueue(key, record, step, self.view)
            case Hold(job=job, check_at=check_at):
                self._hold(key, record, job)
                if check_at is not None:
                    self.effects.at(check_at, key)
            case NotStarting(job=job, reason=reason, message=message):
                self._hold(key, record, job)
                spawn(key, act.write(record, statuses.not_starting(record, reason, message)))
            case GiveUp(job=job, why=why):
                spawn(key, act.give_up(record, job, why), Lane.ADMIT)
            case Noted(then=then):
                self._carry_out(key, record, then, now)  # it writes nothing of its own
                spawn(key, act.write(record, statuses.edit_noted(record)))
            case Recreate():
                self._recreate(key, record, step)
            case Adopt(job=job):
                self._hold(key, record, job)
                spawn(key, self._adopt(key))
            case Finish(job=job):
                spawn(key, self._finish(record, job))
            case FailInvalid(reason=reason):
                spawn(key, act.write(record, statuses.invalid(record, reason, now)))
            case Retry():
                spawn(key, act.write(record, statuses.retried(record, now)))
            case Cancel(job=job):
                spawn(key, act.cancel(record, job), Lane.ADMIT)
            case Suspend(job=job):
                spawn(key, act.suspend(record, job), Lane.ADMIT)
            case Expire():
                spawn(key, act.expire(record))
            case OpenSession(name=name, spec=spec):
                spawn(key, self.sessions.open(record, name, spec))
            case JoinSession(name=name):
                spawn(key, self.sessions.join(record, name))
            case FailHuman(reason=reason, message=message):
                spawn(key, act.write(record, statuses.human_failed(record, reason, message, now)))
            case CheckLogin(secret=secret):
                spawn(key, self.logins.check(key.namespace, secret), Lane.ADMIT)
            case NeedLogin(message=message):
                spawn(key, act.write(record, statuses.waiting_for_human(record, message, now)))
            case Gate(step=gate):
                spawn(key, act.write(record, statuses.dependency(record, gate, now)))

    def _hold(self, key: JobKey, record: Record, job: JobView) -> None:
        """RECORD, running as JOB (which names its GPU pool), holds a slot: the one it was
        admitted with, if held (a spec edited since does not move a running job)."""
        if self.ledger.get(key) is None:
            pool = job.body["metadata"]["labels"].get(POOL_LABEL)
            self.ledger.hold(
                key, Active(key, record.demand(), pool, record.spec.priority, job.started)
            )

    def _recreate(self, key: JobKey, record: Record, step: Recreate) -> None:
        clock = self.clock.monotonic()
        grace = self.ledger.unseen_grace(key, clock)
        if grace > 0:
            self.effects.after(key, grace)  # just created: the watch will show it
            return
        active = self.ledger.get(key)
        if active is None:  # after a restart: the Job is gone; take the slot again
            pool = self.limits.pools[0].name if record.demand().category.uses_gpu else None
            active = Active(key, record.demand(), pool, record.spec.priority, self.clock.now())
            self.ledger.hold(key, active)
        self.ledger.created(key, clock)
        log.warning("%s: the Job of run %d is missing; creating it again", key, step.run)
        create = self.actions.create_job(record, step.run, step.attempt, active.pool)
        self.effects.spawn(key, create, Lane.ADMIT)

    async def _adopt(self, key: JobKey) -> None:
        """The Running status, as the view stands when a report slot is free: in a flood
        the write waits its turn, and a Job that has ended by then gets one status write
        (its outcome, with startedAt), not two."""
        record = self.view.records.get(key)
        job = self.view.job_of(record) if record is not None else None
        if record is None or job is None:
            return  # planned again when done: Recreate, or gone
        if job.finished:
            await self._finish(record, job)
        else:
            await self.actions.admitted(record, job)

    async def _finish(self, record: Record, job: JobView) -> None:
        if not await self.actions.finish(record, job):
            self.effects.after(record.key, FINISH_LOOK_AGAIN)

    def _transitioned(self, record: Record, transition: statuses.Transition, now: datetime) -> None:
        self.metrics.transition(record, transition, now)
        if transition.phase is not None and transition.phase.finished:
            self.finishes.record(record, transition.phase, now)

    # ---- admission --------------------------------------------------------------------

    def _admit(self, now: datetime) -> None:
        decision = self.queues.decide(now, self.ledger, self.view)
        if decision is None:
            return
        self._carry_out_decision(decision, now)
        self.positions.decided(self.queues.waits, self.view.records)
        if decision.wake_at is not None:
            self.effects.at(decision.wake_at, next(iter(decision.wait)))

    def _carry_out_decision(self, decision: Decision, now: datetime) -> None:
        busy, records = self.effects.busy, self.view.records
        stops = self.queues.preemptions.carry_out
        if not stops(
            decision.preempt, self.view, self.effects, self.actions, self.metrics.preempted
        ):
            self.queues.redecide()
        for admit in decision.admit:
            key = admit.candidate.key
            step = self.queues.steps.get(key)
            if key in busy or step is None:
                self.queues.redecide()  # admitted on the pass after its write lands
                continue
            self.queues.dequeue(key)
            self.ledger.hold(key, admit.active(now))  # assume
            self.queues.started(admit.candidate, now)
            self.effects.spawn(key, self._start(records[key], step, admit.pool), Lane.ADMIT)
        for key, reason in decision.reject.items():
            if key in busy:
                self.queues.redecide()
                continue
            self.queues.dequeue(key)
            record = records[key]
            self.effects.spawn(
                key, self.actions.write(record, statuses.unschedulable(record, reason, now))
            )

    async def _start(self, record: Record, step: Queue, pool_name: str | None) -> None:
        key = record.key
        try:
            if step.resume is not None:
                await self.actions.suspended(step.resume, False)
            else:
                await self.actions.create_job(record, step.run, step.attempt, pool_name)
        except ApiError:
            self.ledger.release(key)  # forget the assumption: it is queued again
            raise
        # Planned again, it is Adopted: the Running status goes out in the report lane.
        clock = self.clock.monotonic()
        self.metrics.admitted(clock - self.queues.first_seen.get(key, clock))

    # ---- coalesced reports ------------------------------------------------------------

    def _show_queued(self, now: datetime) -> None:
        """Write the first Queued status of newly waiting jobs, in queue order, keeping
        the report lane's backlog short (10,000 writes at once would be 10,000 tasks)."""
        room = REPORT_BACKLOG - self.effects.pending(Lane.REPORT)
        if room <= 0:
            return
        for key, wait in self.positions.unshown(self.queues.waits, self.view.records):
            if key in self.effects.busy:
                self.queues.redecide()  # decided again once its write lands; shown then
                continue
            self.positions.show(key, wait, self.clock.monotonic())
            record = self.view.records[key]
            self.effects.spawn(key, self.actions.write(record, statuses.queued(record, wait, now)))
            room -= 1
            if room == 0:
                return

    def _write_positions(self, now: datetime) -> None:
        """Rewrite the places of waiting jobs that moved, within the write budget."""
        clock = self.clock.monotonic()
        waits, records = self.queues.waits, self.view.records
        for key in self.positions.due(clock, waits, records, self.effects.busy):
            wait, record = waits[key], records[key]
            self.positions.show(key, wait, clock)
            self.effects.spawn(key, self.actions.write(record, statuses.queued(record, wait, now)))
        scan = self.positions.next_scan(clock)
        if scan is not None:
            self.effects.alarm(scan)

    def _write_progress(self) -> None:
        clock = self.clock.monotonic()
        for key, value in self.progress.due(clock, self.effects.busy):
            record = self.view.records.get(key)
            if record is not None and record.phase == Phase.RUNNING:
                self.effects.spawn(key, self.actions.write(record, statuses.progressed(value)))
        later = self.progress.next_at(clock, self.effects.busy)
        if later is not None:
            self.effects.alarm(later)

    # ---- what the operator publishes ----------------------------------------------------

    def snapshot(self) -> QueueSnapshot:
        """The queues as they stand, read-only (for /stats, the metrics, the web view)."""
        return take(
            self.view,
            self.ledger,
            self.queues,
            self.finishes,
            now=self.clock.now(),
            ready=self.ready.is_set(),
            api_writes=self.api.writes,
            api_reads=self.api.reads,
        )
