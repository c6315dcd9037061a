"""The whole orchestration on the fake API and the fake clock: informers, the loop, writes.

``settle`` runs the event loop until every task waits (on the fake clock, a
watch with nothing to say, or a lane): the state is then what the operator
makes of what happened so far. ``advance`` moves the fake clock, stopping at
each deadline on the way. Nothing sleeps; a test runs in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from mediajobs.config import OperatorConfig
from mediajobs.controller.metrics import Metrics
from mediajobs.controller.reconciler import Reconciler
from mediajobs.jobs.naming import UID_LABEL
from mediajobs.kube.port import jobs_path, mediajobs_path, pods_path
from tests.builders import MediaJobBuilder
from tests.fakes.api import FakeApi
from tests.fakes.clock import FakeClock

NS = "ns"
MAX_TURNS = 100_000  # turns of the event loop before a settle gives up (a busy loop)


class World:
    def __init__(self, *, writers: int = 32, scope: Sequence[str] = (NS,), **config: Any) -> None:
        self.writers, self.scope = writers, list(scope)
        self.clock = FakeClock()
        self.api = FakeApi(self.clock)
        self.config = OperatorConfig.model_validate(config)
        self._rec: Reconciler | None = None
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def rec(self) -> Reconciler:
        assert self._rec is not None, "the operator is not running"
        return self._rec

    # ---- the operator -------------------------------------------------------------------

    async def start(self) -> Reconciler:
        """An operator process: informers and the loop, a view built from nothing."""
        rec = Reconciler(
            self.api,
            self.config,
            Metrics(),
            clock=self.clock,
            writers=self.writers,
            namespaces=self.scope,
        )
        informers = rec.informers()
        self._tasks = [asyncio.create_task(i.run()) for i in informers]
        self._tasks.append(asyncio.create_task(rec.run(informers)))
        self._rec = rec
        await self.settle()
        assert rec.ready.is_set()
        return rec

    async def crash(self) -> None:
        """The process dies where it stands: in-flight writes are lost, nothing is cleaned."""
        tasks = [*self._tasks, *self.rec.effects.tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._rec, self._tasks = None, []

    async def settle(self) -> None:
        """Run until every task waits for something only a test can bring."""
        loop = asyncio.get_running_loop()
        for _ in range(MAX_TURNS):
            await asyncio.sleep(0)
            for task in self._tasks:
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise AssertionError(f"{task.get_name()} died") from task.exception()
            if not loop._ready:  # type: ignore[attr-defined]  # nothing is runnable but us
                return
        raise AssertionError(f"still busy after {MAX_TURNS} turns: a loop that never waits")

    async def advance(self, seconds: float) -> None:
        target = self.clock.monotonic() + seconds
        while (deadline := self.clock.next_deadline()) is not None and deadline <= target:
            self.clock.jump(deadline)
            await self.settle()
        self.clock.jump(target)
        await self.settle()

    # ---- what users and the cluster do --------------------------------------------------

    async def submit(self, *builders: MediaJobBuilder) -> None:
        with self.api.user():
            for builder in builders:
                await self.api.create(mediajobs_path(NS), builder.obj())
        await self.settle()

    async def delete(self, path: str) -> None:
        with self.api.user():
            await self.api.delete(path)
        await self.settle()

    async def edit(self, name: str, **spec: Any) -> None:
        with self.api.user():
            await self.api.merge_patch(mediajobs_path(NS, name), {"spec": spec})
        await self.settle()

    async def end_job(self, mediajob: str, *, failed: bool = False) -> None:
        """The Job controller's verdict on MEDIAJOB's newest Job."""
        job = self.jobs_of(mediajob)[-1]
        condition = (
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
            if failed
            else {"type": "Complete", "status": "True"}
        )
        path = jobs_path(NS, job["metadata"]["name"]) + "/status"
        with self.api.user():
            await self.api.merge_patch(path, {"status": {"conditions": [condition], "active": 0}})
        await self.settle()

    async def pod_says(self, mediajob: str, status: dict[str, Any]) -> None:
        """The pod of MEDIAJOB's newest Job (created by the Job controller, as its
        template says, with the job-name label it adds) now has STATUS."""
        job = self.jobs_of(mediajob)[-1]
        name = job["metadata"]["name"] + "-pod"
        with self.api.user():
            if not any(p["metadata"]["name"] == name for p in self.api.items(pods_path(NS))):
                labels = job["spec"]["template"]["metadata"]["labels"] | {
                    "job-name": job["metadata"]["name"]
                }
                await self.api.create(pods_path(NS), {"metadata": {"name": name, "labels": labels}})
            await self.api.merge_patch(pods_path(NS) + f"/{name}/status", {"status": status})
        await self.settle()

    # ---- what there is to see -----------------------------------------------------------

    def mediajob(self, name: str) -> dict[str, Any]:
        return self.api.read(mediajobs_path(NS, name))

    def status(self, name: str) -> dict[str, Any]:
        return self.mediajob(name).get("status") or {}

    def phase(self, name: str) -> str | None:
        return self.status(name).get("phase")

    def phases(self) -> dict[str, str | None]:
        return {
            m["metadata"]["name"]: (m.get("status") or {}).get("phase")
            for m in self.api.items(mediajobs_path(NS))
        }

    def jobs_of(self, mediajob: str) -> list[dict[str, Any]]:
        uid = self.mediajob(mediajob)["metadata"]["uid"]
        jobs = [
            j for j in self.api.items(jobs_path(NS)) if j["metadata"]["labels"][UID_LABEL] == uid
        ]
        return sorted(jobs, key=lambda j: j["metadata"]["name"])

    def events(self, name: str) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Events the operator posted about NAME."""
        return [
            (e["type"], e["reason"], e["message"])
            for e in self.api.events
            if e["involvedObject"]["name"] == name
        ]

    def patches(self, name: str, field: str) -> list[Any]:
        """The values of status FIELD that the operator's patches of NAME carried."""
        return [
            body["status"][field]
            for path, body in self.api.patches
            if path == mediajobs_path(NS, name) + "/status" and field in body.get("status", {})
        ]


@asynccontextmanager
async def world(
    *, writers: int = 32, scope: Sequence[str] = (NS,), **config: Any
) -> AsyncIterator[World]:
    """An operator watching SCOPE (empty: the whole cluster) with CONFIG."""
    w = World(writers=writers, scope=scope, **config)
    await w.start()
    try:
        yield w
    finally:
        if w._rec is not None:
            await w.crash()
