"""The MediaJobSchedule controller: two informers, one loop, a timer per schedule.

Schedules are rare, and each needs its runs (the MediaJobs it started) in view
before it decides: Forbid must see the active run, a restart must see the run it
created just before it stopped. So it keeps informers of its own (kube/watch.py),
one of the schedules and one of the runs alone (selected by label on the server),
and plans nothing until both have listed, where kopf's event handler could not say
when its first list was complete. The decisions are lifecycle/schedule.py's; this
carries them out: replaced and pruned runs deleted, the run created (a 409 for a
run of this schedule is success: a second operator, or this one before a restart,
made it), the status written, the Events posted.

The loop sleeps until the earliest next scheduled time (a timer on the injected
clock) or until an informer sees a change, and plans every schedule again every
``RESYNC_SECONDS`` as a safety net. Only the leader runs it (controller/operator.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from mediajobs.clock import Clock
from mediajobs.controller.events import announce
from mediajobs.kube.port import (
    Api,
    ApiError,
    Body,
    Selection,
    mediajobs_path,
    mediajobschedules_path,
)
from mediajobs.kube.watch import Informer
from mediajobs.lifecycle.records import explain, resource_version_of
from mediajobs.lifecycle.schedule import Plan, plan
from mediajobs.lifecycle.schedule_records import (
    RUN_ANNOTATION,
    SCHEDULE_UID_LABEL,
    Schedule,
    run_bodies,
    run_from_body,
    schedule_from_body,
)
from mediajobs.lifecycle.statuses import Event

log = logging.getLogger("mediajobs.schedules")

Key = tuple[str, str]  # (namespace, name)

RESYNC_SECONDS = 300.0
RETRY_SECONDS = 5.0  # after a failed write, the schedule is planned again this much later


def _key(body: Mapping[str, Any]) -> Key:
    return body["metadata"]["namespace"], body["metadata"]["name"]


class ScheduleController:
    def __init__(
        self, api: Api, clock: Clock, namespaces: Sequence[str], leading: Callable[[], bool]
    ) -> None:
        self.api, self.clock, self.leading = api, clock, leading
        self.namespaces = list(namespaces)
        self.schedules: dict[Key, Mapping[str, Any]] = {}
        self.runs: dict[tuple[str, str], dict[str, Mapping[str, Any]]] = {}  # (ns, uid) -> runs
        self.wake: dict[Key, datetime] = {}
        self.dirty: set[Key] = set()
        self.kick = asyncio.Event()

    # ---- what the informers hand over -------------------------------------------------

    def informers(self) -> list[Informer]:
        scopes: list[str | None] = [*self.namespaces] or [None]
        runs = Selection(labels=SCHEDULE_UID_LABEL)  # the label's presence
        out = []
        for ns in scopes:
            out += [
                Informer(
                    self.api, mediajobschedules_path(ns), self.observe_schedule, clock=self.clock
                ),
                Informer(
                    self.api, mediajobs_path(ns), self.observe_run, selection=runs, clock=self.clock
                ),
            ]
        return out

    def observe_schedule(self, event_type: str, body: Mapping[str, Any]) -> None:
        key = _key(body)
        if event_type == "DELETED":
            self.schedules.pop(key, None)
            self.wake.pop(key, None)
            return
        known = self.schedules.get(key)
        if known is None or resource_version_of(body["metadata"]) >= resource_version_of(
            known["metadata"]
        ):
            self.schedules[key] = body  # else older than our own write's answer: keep that
        self._touch(key)

    def observe_run(self, event_type: str, body: Mapping[str, Any]) -> None:
        meta = body["metadata"]
        owner = (meta.get("labels") or {}).get(SCHEDULE_UID_LABEL)
        if owner is None:
            return
        runs = self.runs.setdefault((meta["namespace"], owner), {})
        if event_type == "DELETED":
            runs.pop(meta["name"], None)
        else:
            runs[meta["name"]] = body
        for key, schedule in self.schedules.items():
            if schedule["metadata"]["uid"] == owner:
                self._touch(key)

    def _touch(self, key: Key) -> None:
        self.dirty.add(key)
        self.kick.set()

    # ---- the loop ---------------------------------------------------------------------

    async def run(self, informers: Sequence[Informer]) -> None:
        """Plan each schedule when it or its runs change, or its next time comes."""
        await asyncio.gather(*(i.synced.wait() for i in informers))
        log.info("synced %d MediaJobSchedules", len(self.schedules))
        resynced = self.clock.monotonic()
        while True:
            self.kick.clear()
            if self.clock.monotonic() - resynced >= RESYNC_SECONDS:
                self.dirty.update(self.schedules)
                resynced = self.clock.monotonic()
            now = self.clock.now()
            due = self.dirty | {k for k, t in self.wake.items() if t <= now}
            self.dirty = set()
            for key in sorted(due):
                self.wake.pop(key, None)
                await self.reconcile(key)
            timeout = RESYNC_SECONDS - (self.clock.monotonic() - resynced)
            if self.wake:
                soonest = (min(self.wake.values()) - self.clock.now()).total_seconds()
                timeout = min(timeout, soonest)
            await self.clock.wait(self.kick, max(timeout, 0.0))

    async def reconcile(self, key: Key) -> None:
        body = self.schedules.get(key)
        if body is None or not self.leading():
            return
        try:
            schedule = schedule_from_body(body)
        except ValidationError as err:  # the CRD's schema is the same model: rare
            log.warning("%s/%s: %s", *key, explain(err, "spec"))
            return
        runs = self.runs.get((schedule.namespace, schedule.uid), {}).values()
        step = plan(
            schedule, [r for r in map(run_from_body, runs) if r is not None], self.clock.now()
        )
        try:
            await self._carry_out(schedule, body, step)
        except ApiError as err:
            if err.fatal:
                raise
            log.warning("%s/%s: %s; again in %gs", *key, err, RETRY_SECONDS)
            self.wake[key] = self.clock.now() + timedelta(seconds=RETRY_SECONDS)
            return
        if step.wake_at is not None:
            self.wake[key] = step.wake_at

    async def _carry_out(self, schedule: Schedule, body: Mapping[str, Any], step: Plan) -> None:
        ns = schedule.namespace
        events = list(step.events)
        known = self.runs.get((ns, schedule.uid), {})
        for run in step.delete:
            for name in _members(known, run):
                await self.api.delete(mediajobs_path(ns, name))
                known.pop(name, None)
        if step.create is not None:
            made, taken = await self._create(schedule, step.create)
            if not made:  # another operator made it, and said so
                events = [e for e in events if e.reason != "RunCreated"]
            if taken is not None:
                events.append(taken)
        if step.status is not None:
            path = mediajobschedules_path(ns, schedule.name) + "/status"
            patch = {"status": step.status.model_dump(by_alias=True, mode="json")}
            self.schedules[(ns, schedule.name)] = await self.api.merge_patch(path, patch)
        for event in events:
            await announce(self.api, log, body, event, self.clock.now())

    async def _create(self, schedule: Schedule, at: datetime) -> tuple[bool, Event | None]:
        """Create the MediaJobs of the run due AT: whether this call made any, and a
        Warning Event when a name is another object's."""
        made, taken = False, None
        for run in run_bodies(schedule, at):
            name = run["metadata"]["name"]
            created, new = await self.api.create(mediajobs_path(schedule.namespace), run)
            made = made or new
            found: Body | None = (
                created if new else await self.api.get(mediajobs_path(schedule.namespace, name))
            )
            if found is None:
                continue  # made and deleted meanwhile: the status counts it as started
            owners = found["metadata"].get("ownerReferences") or []
            if not any(o.get("uid") == schedule.uid for o in owners):
                said = f"{name} exists and is not a run of this schedule"
                taken = Event("Warning", "RunNameTaken", said)
                continue
            self.runs.setdefault((schedule.namespace, schedule.uid), {})[name] = found
        return made, taken


def _members(known: Mapping[str, Mapping[str, Any]], run: str) -> list[str]:
    """The MediaJobs of RUN among KNOWN (a run of one MediaJob: RUN itself)."""
    named = [
        name
        for name, body in known.items()
        if (body["metadata"].get("annotations") or {}).get(RUN_ANNOTATION) == run
    ]
    return sorted(named) or [run]
