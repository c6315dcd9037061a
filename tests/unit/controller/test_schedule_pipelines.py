"""A MediaJobSchedule of steps on the fake API and the fake clock, with the reconciler
running the steps: a run creates every step at once and they run in order; Replace
deletes every MediaJob of the run it replaces."""

from __future__ import annotations

from tests.unit.controller.test_schedules import RUN, runs, schedule, start, status
from tests.unit.controller.world import world

NEXT = "nightly-20261125-1202"
STEPS = [
    {"name": "scan", "spec": {"operation": "scan", "params": {"directory": "lib"}}},
    {
        "name": "check",
        "spec": {"operation": "validate", "input": {"path": "a.mp4"}, "dependsOn": ["scan"]},
    },
]


async def test_a_run_creates_its_steps_which_run_in_order() -> None:
    async with world() as w:
        start(w)
        await schedule(w, jobTemplate={"steps": STEPS})
        await w.advance(60)
        assert runs(w) == [f"{RUN}-check", f"{RUN}-scan"]
        assert (w.phase(f"{RUN}-scan"), w.phase(f"{RUN}-check")) == ("Running", "Pending")
        assert w.mediajob(f"{RUN}-check")["spec"]["dependsOn"] == [f"{RUN}-scan"]
        assert status(w)["active"] == [RUN]
        await w.end_job(f"{RUN}-scan")
        assert w.phase(f"{RUN}-check") == "Running"
        await w.end_job(f"{RUN}-check")
        assert status(w)["succeeded"] == 1 and status(w)["active"] == []


async def test_replace_deletes_every_mediajob_of_the_run_it_replaces() -> None:
    async with world() as w:
        start(w)
        await schedule(w, concurrencyPolicy="Replace", jobTemplate={"steps": STEPS})
        await w.advance(60)
        assert runs(w) == [f"{RUN}-check", f"{RUN}-scan"]
        await w.advance(60)
        assert runs(w) == [f"{NEXT}-check", f"{NEXT}-scan"]
        assert status(w)["active"] == [NEXT]
