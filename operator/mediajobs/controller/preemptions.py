"""Preemptions in flight: victims whose Jobs are suspended and whose pods are stopping.

decide() names the victims (scheduling/preempt.py); here they are carried out:
the victim's Job is suspended (the Job controller deletes its pods, each gets
its grace period; the worker removes its partial output on SIGTERM) and its
status says Queued, reason Preempted, with an Event naming the job that takes
its slot. Planned again, a MediaJob whose Job is suspended is queued to resume
that same Job: same attempt, no retry spent, its original place in the queue.

Its slot is not free until its pods have stopped (the GPU, the quota and the
VRAM are theirs until then), so the victim keeps holding it here after the
ledger lets it go, and admission reads both. A victim is settled once its Job
shows suspended (or has finished, or is gone) and no pod of it still runs.

After a restart, what was in flight is found again in the view: a queued job
whose Job is suspended while a pod of it still runs is a victim whose
preemptor is no longer known. It holds its slot the same way, and its
category's head waits for it rather than choose a victim of its own (decide.py):
no second victim, no admission over the cap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from mediajobs.api.common import Category
from mediajobs.controller.actions import Actions
from mediajobs.controller.effects import RETRY_AFTER_API_ERROR, Effects
from mediajobs.controller.lanes import Lane
from mediajobs.controller.view import View
from mediajobs.jobs.naming import POOL_LABEL
from mediajobs.kube.port import ApiError
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.records import JobView, Record
from mediajobs.scheduling.model import Active, JobKey
from mediajobs.scheduling.preempt import Victim

_STOPPED = ("Succeeded", "Failed")


@dataclass(frozen=True)
class Stopping:
    active: Active  # the slot it holds until its pods have stopped
    uid: str
    by: JobKey | None  # None: found stopping after a restart (recover)


@dataclass
class Preemptions:
    stopping: dict[JobKey, Stopping] = field(default_factory=dict)
    counts: Counter[tuple[Category, str]] = field(default_factory=Counter)  # since the start
    again_at: datetime | None = None  # a suspend failed: decide again then (its retry)

    def holding(self, held: dict[JobKey, Active]) -> list[Active]:
        """The slots stopping victims hold that the ledger (HELD) has let go of."""
        return [s.active for k, s in self.stopping.items() if k not in held]

    def victims(self) -> dict[JobKey, JobKey | None]:
        return {k: s.by for k, s in self.stopping.items()}

    def recover(self, record: Record, job: JobView, view: View) -> None:
        """RECORD waits to resume JOB, suspended: if a pod of it still runs, it was
        preempted before a restart and holds its slot until its pods have stopped."""
        key = record.key
        if key in self.stopping:
            return
        pool = job.body["metadata"]["labels"].get(POOL_LABEL)
        active = Active(key, record.demand(), pool, record.spec.priority, job.started)
        stopping = Stopping(active, record.uid, None)
        if not _stopped(view, key, stopping):
            self.stopping[key] = stopping

    def settle(self, view: View, now: datetime) -> bool:
        """Let go of the victims whose pods have stopped; whether admission should decide
        again (one did, or a failed suspend is due to be tried again)."""
        done = [k for k, s in self.stopping.items() if _stopped(view, k, s)]
        for key in done:
            del self.stopping[key]
        again = self.again_at is not None and now >= self.again_at
        if again:
            self.again_at = None
        return bool(done) or again

    def carry_out(
        self,
        victims: Sequence[Victim],
        view: View,
        effects: Effects,
        actions: Actions,
        counted: Callable[[Category, str], None],  # the metrics
    ) -> bool:
        """Suspend each victim's Job and say so; False when one had to wait (a write of
        its own in flight, or its Job not seen yet): admission decides again later."""
        carried = True
        for victim in victims:
            key = victim.active.key
            record = view.records.get(key)
            job = view.job_of(record) if record is not None else None
            if key in effects.busy or record is None or job is None or job.suspended:
                carried = False
                continue
            self.stopping[key] = Stopping(victim.active, record.uid, victim.by.key)
            work = self._preempt(actions, record, job, victim, counted)
            effects.spawn(key, work, Lane.ADMIT)
        return carried

    async def _preempt(
        self,
        actions: Actions,
        record: Record,
        job: JobView,
        victim: Victim,
        counted: Callable[[Category, str], None],
    ) -> None:
        try:
            await actions.suspended(job, True)
        except ApiError:
            self.stopping.pop(record.key, None)  # not suspended: it keeps running, and its slot
            self.again_at = actions.clock.now() + timedelta(seconds=RETRY_AFTER_API_ERROR)
            raise
        category = victim.active.demand.category
        self.counts[(category, victim.reason)] += 1
        counted(category, victim.reason)
        by, now = victim.by, actions.clock.now()
        fair = victim.reason == "FairShare"
        transition = statuses.preempted(record, str(by.key), by.priority, now, fair_share=fair)
        await actions.write(record, transition)


def _stopped(view: View, key: JobKey, s: Stopping) -> bool:
    record = view.records.get(key)
    if record is None or record.uid != s.uid:
        return True  # deleted
    job = view.jobs.get(s.uid)
    if job is None or job.finished:
        return True
    if not job.suspended:
        return False
    _, pods = view.pods.get(s.uid, (0, {}))
    return all(p["status"].get("phase") in _STOPPED for p in pods.values())
