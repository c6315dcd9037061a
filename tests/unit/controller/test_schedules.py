"""The MediaJobSchedule controller on the fake API and the fake clock: it wakes at the
scheduled instant (and not before), a create that meets its own run is success, a
restart at the instant starts nothing twice."""

from __future__ import annotations

import asyncio
from typing import Any

from mediajobs.controller.schedules import ScheduleController
from mediajobs.kube.port import mediajobs_path, mediajobschedules_path
from mediajobs.lifecycle.schedule_records import SCHEDULE_UID_LABEL
from tests.unit.controller.world import NS, World, world

NAME = "nightly"
RUN = "nightly-20261125-1201"  # the fake clock starts at 2026-11-25 12:00 UTC


async def schedule(w: World, **spec: Any) -> dict[str, Any]:
    body = {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJobSchedule",
        "metadata": {"name": NAME},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {"spec": {"operation": "scan", "params": {"directory": "lib"}}},
            **spec,
        },
    }
    with w.api.user():
        created, _ = await w.api.create(mediajobschedules_path(NS), body)
    await w.settle()
    assert created is not None
    return created


def start(w: World) -> list[asyncio.Task[None]]:
    """A schedule controller, running beside the world's reconciler."""
    c = ScheduleController(w.api, w.clock, [NS], lambda: True)
    informers = c.informers()
    tasks = [asyncio.create_task(i.run()) for i in informers]
    tasks.append(asyncio.create_task(c.run(informers)))
    w._tasks += tasks
    return tasks


async def stop(w: World, tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    w._tasks = [t for t in w._tasks if t not in tasks]


def runs(w: World) -> list[str]:
    items = w.api.items(mediajobs_path(NS))
    return sorted(
        m["metadata"]["name"] for m in items if SCHEDULE_UID_LABEL in m["metadata"]["labels"]
    )


def status(w: World) -> dict[str, Any]:
    return w.api.read(mediajobschedules_path(NS, NAME)).get("status") or {}


def reasons(w: World) -> list[str]:
    return [e["reason"] for e in w.api.events if e["involvedObject"]["name"] == NAME]


async def test_wakes_at_the_instant_and_not_before() -> None:
    async with world() as w:
        start(w)
        await schedule(w)
        assert status(w)["nextScheduleTime"] == "2026-11-25T12:01:00Z"
        calls = len(w.api.calls)
        await w.advance(59.9)
        assert runs(w) == [] and len(w.api.calls) == calls  # asleep: no polling
        await w.advance(0.1)
        assert runs(w) == [RUN]
        assert status(w)["active"] == [RUN]
        assert status(w)["lastScheduleTime"] == "2026-11-25T12:01:00Z"
        assert status(w)["nextScheduleTime"] == "2026-11-25T12:02:00Z"
        assert reasons(w) == ["RunCreated"]
        owner = w.mediajob(RUN)["metadata"]["ownerReferences"][0]
        assert owner["name"] == NAME and owner["controller"] is True


async def test_a_run_another_operator_made_is_success() -> None:
    async with world() as w:
        made = await schedule(w)
        start(w)
        await w.settle()
        # A second operator created this instant's run first.
        twin = {
            "metadata": {
                "name": RUN,
                "labels": {SCHEDULE_UID_LABEL: made["metadata"]["uid"]},
                "annotations": {"mediajobs.dev/scheduled-at": "2026-11-25T12:01:00Z"},
                "ownerReferences": [{"uid": made["metadata"]["uid"], "name": NAME}],
            },
            "spec": {"operation": "scan", "params": {"directory": "lib"}},
        }
        with w.api.user():
            await w.api.create(mediajobs_path(NS), twin)
        await w.advance(60)
        assert runs(w) == [RUN]
        assert status(w)["runs"] == 1 and status(w)["active"] == [RUN]
        assert "RunNameTaken" not in reasons(w)


async def test_a_foreign_object_with_the_run_name_is_said() -> None:
    async with world() as w:
        await schedule(w)
        start(w)
        with w.api.user():
            await w.api.create(
                mediajobs_path(NS),
                {"metadata": {"name": RUN}, "spec": {"operation": "scan"}},
            )
        await w.advance(60)
        assert "RunNameTaken" in reasons(w)


async def test_a_restart_at_the_instant_starts_nothing_twice() -> None:
    async with world() as w:
        first = start(w)
        await schedule(w)
        await w.advance(60)
        assert runs(w) == [RUN]
        await stop(w, first)
        start(w)  # a new process: its view is built from a fresh list
        await w.settle()
        await w.advance(1)
        assert runs(w) == [RUN]
        assert status(w)["runs"] == 1
        assert reasons(w) == ["RunCreated"]


async def test_a_failed_status_write_is_retried_and_converges() -> None:
    async with world() as w:
        start(w)
        await schedule(w)
        w.api.fail("patch", "mediajobschedules", status=500, times=1)
        await w.advance(60)
        assert runs(w) == [RUN]
        await w.advance(10)
        assert status(w)["runs"] == 1 and status(w)["active"] == [RUN]
