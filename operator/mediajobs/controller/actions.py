"""The API writes that carry out each step, through the port (kube/port.py).

Create or resume a Job, patch a status and post its Event, record an outcome,
cancel, suspend, expire. Each is safe to run twice (deterministic names: a
repeated create is a 409, a repeated delete a 404). The API's answer to a write
goes back into the view at once: the watch can lag seconds behind it under load.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mediajobs.clock import Clock
from mediajobs.config import OperatorConfig
from mediajobs.jobs.build import build_job, suspend_patch
from mediajobs.jobs.naming import POOL_LABEL, CookiesRef
from mediajobs.jobs.outcome import Outcome, outcome
from mediajobs.kube.port import Api, Selection, jobs_path, mediajobs_path, pods_path
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.dependencies import runnable_spec
from mediajobs.lifecycle.records import JobView, Record

Observe = Callable[[str, Mapping[str, Any]], None]


@dataclass
class Actions:
    api: Api
    config: OperatorConfig
    clock: Clock
    observe_mediajob: Observe
    observe_job: Observe
    # A phase change was written (the transition's phase is set).
    transitioned: Callable[[Record, statuses.Transition, datetime], None]
    announce: Callable[[Coroutine[Any, Any, None]], None]  # posts an Event after the status
    # Where a job's login cookies are: the Secret its pod mounts (lifecycle/logins.py
    # login_ref, the one checked before admission).
    cookies: Callable[[Record], CookiesRef | None]

    async def write(self, record: Record, transition: statuses.Transition) -> None:
        """Patch the status (and post the Event); the answer updates the view."""
        path = mediajobs_path(record.key.namespace, record.key.name) + "/status"
        body = await self.api.merge_patch(path, {"status": transition.fields})
        self.observe_mediajob("MODIFIED", body)
        now = self.clock.now()
        if transition.phase is not None and transition.phase != record.phase:
            self.transitioned(record, transition, now)
        if transition.event is not None:
            e = transition.event
            self.announce(
                self.api.post_event(
                    record.reference, type_=e.type, reason=e.reason, message=e.message, now=now
                )
            )

    async def admitted(self, record: Record, job: JobView) -> None:
        """The Running status of JOB's run (the Job is the record of admission)."""
        now = self.clock.now()
        await self.write(record, statuses.admitted(record, job.attempt, job.run, job.name, now))

    async def finish(self, record: Record, job: JobView) -> bool:
        """Record JOB's outcome; False when its pods do not say yet how it ended."""
        pods, _ = await self.api.list_versioned(
            pods_path(job.namespace), Selection(labels=f"job-name={job.name}")
        )
        result = outcome(job.body, pods)
        if not result.kind.finished:
            return False
        now = self.clock.now()
        if record.runs >= job.run:
            await self.write(record, statuses.finished(record, result, now))
            return True
        # The Job ended before its Running status went out (a backlog of reports, or a
        # crash): one write says both, Succeeded (or Failed...) with startedAt.
        start = statuses.admitted(record, job.attempt, job.run, job.name, now)
        running = statuses.applied(record, start)
        await self.write(running, statuses.combined(start, statuses.finished(running, result, now)))
        return True

    async def give_up(self, record: Record, job: JobView, why: Outcome) -> None:
        """End an attempt whose worker did not start: its Job goes (and its slot), WHY
        is the attempt's outcome (a retry, or the MediaJob fails)."""
        await self.api.delete(jobs_path(job.namespace, job.name))
        self.observe_job("DELETED", job.body)  # the watch may take a while to say so
        await self.write(record, statuses.finished(record, why, self.clock.now()))

    async def cancel(self, record: Record, job: JobView | None) -> None:
        if job is not None:
            # Background: the Job goes now, its pods get their grace period to stop.
            await self.api.delete(jobs_path(job.namespace, job.name))
        await self.write(record, statuses.cancelled(record, self.clock.now()))

    async def suspend(self, record: Record, job: JobView | None) -> None:
        if job is not None:
            await self.suspended(job, True)
        await self.write(record, statuses.suspended(record, self.clock.now()))

    async def suspended(self, job: JobView, suspend: bool) -> None:
        patched = await self.api.merge_patch(
            jobs_path(job.namespace, job.name), suspend_patch(suspend)
        )
        self.observe_job("MODIFIED", patched)

    async def expire(self, record: Record) -> None:
        await self.api.delete(mediajobs_path(record.key.namespace, record.key.name))

    async def create_job(
        self, record: Record, run: int, attempt: int, pool_name: str | None
    ) -> None:
        """The Job of RUN (its name's number), for ATTEMPT."""
        if record.placement is None:
            raise ValueError(f"{record.key} cannot run: {record.invalid}")
        pool = next((p for p in self.config.gpu_pools if p.name == pool_name), None)
        body = build_job(
            name=record.key.name,
            namespace=record.key.namespace,
            uid=record.uid,
            spec=runnable_spec(record),  # inputs from other jobs resolved
            attempt=attempt,
            run=run,
            placement=record.placement,
            cookies=self.cookies(record),
            config=self.config,
            pool=pool,
        )
        if pool is not None:
            body["metadata"]["labels"][POOL_LABEL] = pool.name
        for target in (body["metadata"], body["spec"]["template"]["metadata"]):
            # The MediaJob's own labels travel with its pods; ours win on a clash.
            target["labels"] = record.labels | target.get("labels", {})
        name = str(body["metadata"]["name"])
        created, _ = await self.api.create(jobs_path(record.key.namespace), body)
        # A 409 is our own earlier create (the watch lagged, or a crash): read it instead.
        current = created or await self.api.get(jobs_path(record.key.namespace, name))
        if current is not None:
            self.observe_job("ADDED", current)
