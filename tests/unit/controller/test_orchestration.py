"""The reconciler end to end on the fake API and the fake clock: no cluster, no sleeps.

Each test drives the real informers, loop, lanes and writes; the fake API
answers (with latency or failures where a test asks), the fake clock moves only
when a test advances it.
"""

from __future__ import annotations

from datetime import timedelta

from mediajobs.api.common import Category
from mediajobs.controller.ledger import JOB_WATCH_GRACE
from mediajobs.controller.reports import POSITION_MIN_INTERVAL
from mediajobs.kube.port import jobs_path, mediajobs_path
from tests.builders import mediajob
from tests.fakes.api import stamp
from tests.unit.controller.world import NS, world

CAP_1 = {"cpu": {"maxRunning": 1}}


def names(keys: object) -> list[str]:
    return sorted(k.name for k in keys)  # type: ignore[attr-defined]


async def test_a_job_runs_and_succeeds_with_one_status_write_per_transition() -> None:
    async with world() as w:
        await w.submit(mediajob("a"))
        assert w.phase("a") == "Running"
        assert len(w.jobs_of("a")) == 1
        await w.end_job("a")
        assert w.phase("a") == "Succeeded"
        assert w.patches("a", "phase") == ["Running", "Succeeded"]
        assert [e["reason"] for e in w.api.events] == ["Admitted", "Succeeded"]


async def test_admission_is_assumed_before_the_create_and_a_lagging_watch_admits_no_more() -> None:
    async with world(limits={"cpu": {"maxRunning": 2}}) as w:
        w.api.hold("jobs")  # the Job watch shows nothing of the creates for now
        w.api.latency["create"] = 3.0
        await w.submit(*(mediajob(f"j{i}").priority(i + 1) for i in range(4)))
        # Decided and entered in the ledger; the creates are still on their way.
        assert names(w.rec.ledger.holding) == ["j0", "j1"]
        assert w.api.items(jobs_path(NS)) == []
        running = w.rec.snapshot().categories[Category.CPU].running
        assert names(running) == ["j0", "j1"]

        await w.advance(3.0)
        assert len(w.api.items(jobs_path(NS))) == 2
        await w.advance(60.0)
        w.api.release("jobs")
        await w.settle()
        assert w.api.count("create", "jobs") == 2
        assert w.phases() == {"j0": "Running", "j1": "Running", "j2": "Queued", "j3": "Queued"}
        assert [w.status(n)["queuePosition"] for n in ("j2", "j3")] == [1, 2]


async def test_a_failed_create_is_forgotten_and_retried_in_order() -> None:
    async with world(limits=CAP_1) as w:
        w.api.latency["create"] = 1.0
        w.api.fail("create", "jobs", status=500, times=2)
        await w.submit(mediajob("first").priority(1), mediajob("second").priority(2))
        for _ in range(2):
            await w.advance(1.0)  # a create fails: the slot is given back, decided again
            assert names(w.rec.ledger.holding) == ["first"]
            assert w.api.items(jobs_path(NS)) == []
        await w.advance(1.0)
        assert w.api.count("create", "jobs") == 3
        assert w.phases() == {"first": "Running", "second": "Queued"}
        assert len(w.jobs_of("first")) == 1


async def test_a_failed_status_write_is_retried() -> None:
    async with world() as w:
        await w.submit(mediajob("a"))
        w.api.fail("patch", "mediajobs", status=503)
        await w.end_job("a")
        assert w.phase("a") == "Succeeded"
        assert w.patches("a", "phase") == ["Running", "Succeeded"]  # the failed one never landed


async def test_a_crash_between_the_job_create_and_its_running_status_is_adopted() -> None:
    async with world() as w:
        w.api.latency["patch"] = 5.0  # the Running status is still on its way...
        await w.submit(mediajob("a"))
        assert len(w.jobs_of("a")) == 1
        await w.crash()  # ...when the operator dies
        assert w.phase("a") is None

        w.api.latency.clear()
        await w.start()
        job = w.jobs_of("a")
        assert len(job) == 1  # adopted, not created again
        assert w.api.count("create", "jobs") == 1
        status = w.status("a")
        assert (status["phase"], status["attempts"]) == ("Running", 1)
        assert status["jobName"] == job[0]["metadata"]["name"]
        assert names(w.rec.ledger.holding) == ["a"]


async def test_a_job_that_vanished_is_created_again_after_the_watch_grace() -> None:
    async with world() as w:
        await w.submit(mediajob("a"))
        name = w.jobs_of("a")[0]["metadata"]["name"]
        await w.delete(jobs_path(NS, name))  # behind the operator's back
        assert [j["metadata"]["name"] for j in w.jobs_of("a")] == [name]
        assert w.api.count("create", "jobs") == 2

        # Gone again at once: the operator first gives its own watch time to show it.
        await w.delete(jobs_path(NS, name))
        await w.advance(JOB_WATCH_GRACE - 1)
        assert w.jobs_of("a") == []
        assert names(w.rec.ledger.holding) == ["a"]  # the slot stays taken meanwhile
        await w.advance(1.0)
        assert len(w.jobs_of("a")) == 1
        assert w.phase("a") == "Running"


async def test_a_restart_rebuilds_the_order_and_rewrites_stale_positions() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("run"))
        await w.submit(*(mediajob(n).priority(p) for n, p in (("a", 3), ("b", 5), ("c", 7))))
        assert [w.status(n)["queuePosition"] for n in "abc"] == [1, 2, 3]
        await w.crash()

        # While it is down: the running Job ends, an urgent job comes, "a" is deleted.
        await w.end_job("run")
        await w.submit(mediajob("urgent").priority(1))
        await w.delete(mediajobs_path(NS, "a"))

        await w.start()
        assert w.phases() == {"run": "Succeeded", "urgent": "Running", "b": "Queued", "c": "Queued"}
        assert [w.status(n)["queuePosition"] for n in "bc"] == [1, 2]
        assert w.api.count("create", "jobs") == 2  # run's and urgent's


async def test_positions_are_rewritten_coalesced() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("run"))
        queued = [f"q{i:02}" for i in range(30)]
        await w.submit(*(mediajob(n) for n in queued))
        assert [w.patches(n, "queuePosition") for n in queued] == [[i + 1] for i in range(30)]

        await w.end_job("run")  # q00 starts: every other position moves by one
        assert w.phase("q00") == "Running"
        assert [w.patches(n, "queuePosition") for n in queued[1:]] == [[i + 2] for i in range(29)]

        await w.advance(POSITION_MIN_INTERVAL)  # each job's interval is over; 20 a second
        moved = [n for n in queued[1:] if len(w.patches(n, "queuePosition")) == 2]
        assert moved == queued[1:21]  # the front of the queue first
        await w.advance(1.0)
        assert [w.patches(n, "queuePosition") for n in queued[1:]] == [
            [i + 2, i + 1] for i in range(29)
        ]
        await w.advance(60.0)  # written once per move, not once per pass
        assert w.patches("q00", "queuePosition") == [1, None]  # Running takes it off
        assert [len(w.patches(n, "queuePosition")) for n in queued[1:]] == [2] * 29


async def test_progress_is_written_coalesced() -> None:
    async with world() as w:
        await w.submit(mediajob("a"))
        uid = w.mediajob("a")["metadata"]["uid"]
        for value in range(10, 100, 10):
            w.rec.observe_progress(uid, 1, value)
        await w.settle()
        assert w.patches("a", "progress") == [0, 90]  # Running, then the newest value
        w.rec.observe_progress(uid, 1, 95)
        w.rec.observe_progress(uid, 0, 99)  # a late event of an earlier attempt
        await w.settle()
        assert w.patches("a", "progress") == [0, 90]
        await w.advance(1.0)
        assert w.patches("a", "progress") == [0, 90, 95]


async def test_start_after_waits_for_its_time() -> None:
    async with world() as w:
        start = w.clock.now() + timedelta(seconds=60)
        await w.submit(mediajob("later").spec(startAfter=stamp(start)))
        await w.advance(59.0)
        assert w.jobs_of("later") == []
        await w.advance(1.0)
        assert w.phase("later") == "Running"


async def test_retry_after_waits_for_its_time() -> None:
    async with world() as w:
        await w.submit(mediajob("flaky").retry(limit=2, seconds=30))
        await w.end_job("flaky", failed=True)
        assert w.phase("flaky") == "BackingOff"
        await w.advance(29.0)
        assert len(w.jobs_of("flaky")) == 1
        await w.advance(1.0)
        assert len(w.jobs_of("flaky")) == 2
        assert (w.phase("flaky"), w.status("flaky")["attempts"]) == ("Running", 2)


async def test_a_retry_request_queues_a_failed_job_again_with_a_fresh_budget() -> None:
    async with world() as w:
        await w.submit(mediajob("broken").retry(limit=0))
        await w.end_job("broken", failed=True)
        assert (w.phase("broken"), w.status("broken")["failures"]) == ("Failed", 1)
        await w.edit("broken", manualRetries=1, priority=4)
        status = w.status("broken")
        assert (status["phase"], status["attempts"], status["failures"]) == ("Running", 1, 0)
        assert (status["runs"], status["manualRetries"]) == (2, 1)
        assert "completedAt" not in status
        assert len(w.jobs_of("broken")) == 2  # a new Job: runs keep naming them
        assert ("Normal", "Retried") in [(t, r) for t, r, _ in w.events("broken")]
        await w.end_job("broken", failed=True)
        assert w.phase("broken") == "Failed"  # the fresh budget (no retries) is spent
        await w.advance(600.0)
        assert len(w.jobs_of("broken")) == 2  # a request is acted on once


async def test_a_retry_request_to_a_succeeded_job_is_ignored() -> None:
    async with world() as w:
        await w.submit(mediajob("done"))
        await w.end_job("done")
        await w.edit("done", manualRetries=1)
        assert w.phase("done") == "Succeeded"
        assert w.events("done")[-1][1] == "EditIgnored"
        assert len(w.jobs_of("done")) == 1


async def test_a_finished_job_is_deleted_after_its_ttl() -> None:
    async with world() as w:
        await w.submit(mediajob("short").spec(ttlSecondsAfterFinished=30))
        await w.end_job("short")
        assert w.phase("short") == "Succeeded"
        await w.advance(29.0)
        assert "short" in w.phases()
        await w.advance(1.0)
        assert w.phases() == {}
        assert w.api.items(jobs_path(NS)) == []  # its Job went with it


async def test_an_edit_to_a_finished_job_is_observed_and_said_to_be_ignored() -> None:
    async with world() as w:
        await w.submit(mediajob("done"))
        await w.end_job("done")
        await w.edit("done", priority=7)
        status = w.status("done")
        assert status["phase"] == "Succeeded"
        assert status["observedGeneration"] == 2  # kubectl wait --for=condition=... returns
        assert {c["observedGeneration"] for c in status["conditions"]} == {2}
        assert w.events("done")[-1] == (
            "Normal",
            "EditIgnored",
            "the MediaJob has finished (Succeeded); spec changes are not acted on",
        )
        assert w.api.count("create", "jobs") == 1
        await w.advance(60.0)
        assert [e[1] for e in w.events("done")].count("EditIgnored") == 1  # said once


async def test_an_edit_to_a_running_job_is_observed_and_said_to_wait_for_its_next_attempt() -> None:
    async with world(limits={"cpu": {"maxRunning": 1}, "gpu_encode": {"maxRunning": 1}}) as w:
        await w.submit(mediajob("run"))
        await w.submit(mediajob("gpu").category("gpu_encode"))
        assert w.phases() == {"run": "Running", "gpu": "Running"}
        await w.edit("run", category="gpu_encode", priority=1)
        status = w.status("run")
        assert (status["phase"], status["observedGeneration"]) == ("Running", 2)
        assert {c["observedGeneration"] for c in status["conditions"]} == {2}
        assert w.events("run")[-1][:2] == ("Normal", "EditDeferred")
        # It holds the slot it was admitted with: cpu's, not gpu_encode's.
        running = w.rec.snapshot().categories
        assert names(running[Category.CPU].running) == ["run"]
        assert names(running[Category.GPU_ENCODE].running) == ["gpu"]
        await w.advance(60.0)
        assert [e[1] for e in w.events("run")].count("EditDeferred") == 1


async def test_an_edit_to_a_queued_job_is_acted_on_and_observed() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("first"), mediajob("b").priority(5), mediajob("c").priority(5))
        assert [w.status(n)["queuePosition"] for n in ("b", "c")] == [1, 2]
        await w.edit("c", priority=1)
        await w.advance(POSITION_MIN_INTERVAL)
        assert [w.status(n)["queuePosition"] for n in ("b", "c")] == [2, 1]
        assert w.status("c")["observedGeneration"] == 2
        assert w.events("c") == []  # nothing to say: it is acted on
        await w.end_job("first")
        assert w.phases() == {"first": "Succeeded", "b": "Queued", "c": "Running"}


async def test_a_job_that_ended_before_its_running_status_gets_one_status_write() -> None:
    async with world(writers=1) as w:  # one report slot
        w.api.latency["patch"] = 5.0
        await w.submit(mediajob("first"))  # its Running status holds the report slot...
        await w.submit(mediajob("a"))
        assert len(w.jobs_of("a")) == 1
        await w.end_job("a")  # ...until a's Job has ended
        assert w.phase("a") is None
        await w.advance(10.0)
        assert w.patches("first", "phase") == ["Running"]
        assert w.patches("a", "phase") == ["Succeeded"]
        status = w.status("a")
        assert (status["attempts"], status["jobName"]) == (1, w.jobs_of("a")[0]["metadata"]["name"])
        assert status["startedAt"] and status["completedAt"]
        conditions = {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}
        assert conditions["Admitted"] == ("True", "Admitted")
        assert conditions["Complete"] == ("True", "Succeeded")
        assert [e["reason"] for e in w.api.events] == ["Admitted", "Succeeded"]  # first's, a's
        await w.advance(60.0)
        assert w.patches("a", "phase") == ["Succeeded"]


async def test_a_flood_admitted_at_once_gets_no_queue_position_writes() -> None:
    async with world(limits={"cpu": {"maxRunning": 100}}) as w:
        await w.submit(*(mediajob(f"j{i:03}") for i in range(120)))
        await w.advance(60.0)
        phases = w.phases()
        running = sorted(n for n, p in phases.items() if p == "Running")
        assert len(running) == 100
        assert all(w.patches(n, "queuePosition") in ([], [None]) for n in running)
        assert all(w.patches(n, "phase") == ["Running"] for n in running)


async def test_a_status_write_does_not_wait_for_its_event() -> None:
    async with world(writers=4) as w:  # one report writer, one Event writer
        w.api.latency["patch"] = 1.0
        w.api.latency["create"] = 1.0  # Jobs and Events
        await w.submit(*(mediajob(f"j{i}") for i in range(4)))
        await w.advance(5.5)  # Jobs at 1 s, then four status patches one after the other
        assert set(w.phases().values()) == {"Running"}  # not two: patch, Event, patch...
        assert len(w.api.events) == 3  # one at a time beside them
        await w.advance(10.0)
        assert [e["reason"] for e in w.api.events] == ["Admitted"] * 4
