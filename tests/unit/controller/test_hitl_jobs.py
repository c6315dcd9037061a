"""MediaJobs and HitlSessions on the fake API and the fake clock: a worker that exits 3
opens (or joins) its login's session; the session's end queues the jobs again in their
original order, or fails them."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from mediajobs.controller.hitl import SessionController
from mediajobs.jobs.naming import CONTAINER, hitl_session_name, platform_secret_name
from mediajobs.kube.port import hitlsessions_path
from tests.builders import mediajob
from tests.fakes.clock import T0
from tests.unit.controller.test_metrics import one, samples
from tests.unit.controller.world import NS, World, world

CAP_1 = {"cpu": {"maxRunning": 1}}
SESSION = hitl_session_name("alice", "fans")
COOKIE = "cookie-value-never-said"
LOGIN_WALL = {
    "phase": "Failed",
    "containerStatuses": [
        {"name": CONTAINER, "state": {"terminated": {"exitCode": 3, "reason": "Error"}}}
    ],
}


async def logged_out(w: World, name: str) -> None:
    await w.pod_says(name, LOGIN_WALL)
    await w.end_job(name, failed=True)


def session(w: World) -> dict[str, Any]:
    return w.api.read(hitlsessions_path(NS, SESSION))


async def controller(w: World) -> SessionController:
    """The session controller, fed the session as kopf would hand it over."""
    c = SessionController(w.api, w.clock, w.rec.metrics, lambda: True)
    await c.event("ADDED", session(w))
    await w.settle()
    return c


async def resolve(
    w: World, c: SessionController, expires: float, *, then: Callable[[], None] = lambda: None
) -> None:
    """A person stores cookies expiring at EXPIRES and resolves the session; THEN is
    called once the session controller has written its verdict, before the jobs act."""
    cookies = [{"name": "sid", "value": COOKIE, "expires": expires}]
    data = {"cookies.json": base64.b64encode(json.dumps(cookies).encode()).decode()}
    secret = {"metadata": {"name": platform_secret_name("alice", "fans")}, "data": data}
    with w.api.user():
        await w.api.create(f"/api/v1/namespaces/{NS}/secrets", secret)
        patch = {"spec": {"resolution": {"method": "manual_cookies"}}}
        await w.api.merge_patch(hitlsessions_path(NS, SESSION), patch)
    await c.event("MODIFIED", session(w))
    then()
    await w.settle()


async def one_resolved(w: World) -> None:
    """a logs out, its session is resolved with fresh cookies."""
    await w.submit(mediajob("a").creator("alice", "fans"))
    await logged_out(w, "a")
    await resolve(w, await controller(w), T0.timestamp() + 86400)


async def two_waiting(w: World) -> None:
    """a and b log out in turn (c, no login, waits behind them); both wait on one session."""
    login = [mediajob(n).creator("alice", "fans") for n in ("a", "b")]
    await w.submit(*login, mediajob("c"))
    await logged_out(w, "a")
    assert w.phase("a") == "WaitingForHuman"
    assert w.status("a")["hitlSession"] == SESSION
    assert session(w)["spec"]["creatorProfile"] == "alice"
    await logged_out(w, "b")
    assert w.phases() == {"a": "WaitingForHuman", "b": "WaitingForHuman", "c": "Running"}
    assert session(w)["status"]["waitingJobs"] == ["a", "b"]  # one session, joined


async def test_a_resolved_session_queues_its_jobs_again_in_their_order_no_retry_spent() -> None:
    async with world(limits=CAP_1) as w:
        await two_waiting(w)
        c = await controller(w)
        assert session(w)["status"]["phase"] == "Pending"
        await resolve(w, c, (T0.timestamp() + 86400))
        assert session(w)["status"]["phase"] == "Resolved"
        assert w.phases() == {"a": "Queued", "b": "Queued", "c": "Running"}
        assert [w.status(n)["queuePosition"] for n in ("a", "b")] == [1, 2]
        await w.end_job("c")
        assert (w.phase("a"), w.phase("b")) == ("Running", "Queued")
        await w.end_job("a")
        assert (w.phase("a"), w.phase("b")) == ("Succeeded", "Running")
        await w.end_job("b")
        for name in ("a", "b"):
            status = w.status(name)
            assert status["phase"] == "Succeeded" and "failures" not in status
            # The logout spent nothing: the same attempt went on as a second run (Job).
            assert (status["attempts"], status["runs"]) == (1, 2) and "hitlSession" not in status
            jobs = [j["metadata"] for j in w.jobs_of(name)]
            assert [j["name"][-2:] for j in jobs] == ["-1", "-2"]
            assert [j["labels"]["mediajobs.dev/attempt"] for j in jobs] == ["1", "1"]
        said = json.dumps([w.api.patches, w.api.events])
        assert COOKIE not in said


async def test_stale_cookies_are_refused_and_the_jobs_keep_waiting() -> None:
    async with world(limits=CAP_1) as w:
        await two_waiting(w)
        c = await controller(w)
        await resolve(w, c, T0.timestamp() - 1)
        status = session(w)["status"]
        assert status["phase"] == "InProgress"
        assert "1 cookie(s) have expired: 'sid'" in status["message"]
        assert (w.phase("a"), w.phase("b")) == ("WaitingForHuman", "WaitingForHuman")
        assert COOKIE not in json.dumps([w.api.patches, w.api.events])


async def test_an_expired_session_fails_its_jobs() -> None:
    async with world(limits=CAP_1) as w:
        await two_waiting(w)
        c = await controller(w)
        await w.advance(86400)
        await c.reconcile((NS, SESSION))
        await w.settle()
        assert session(w)["status"]["phase"] == "Expired"
        for name in ("a", "b"):
            assert w.phase(name) == "Failed"
            failed = [x for x in w.status(name)["conditions"] if x["type"] == "Failed"]
            assert failed[0]["reason"] == "HitlExpired"


async def test_a_cancelled_session_fails_its_jobs_and_a_new_login_opens_a_new_one() -> None:
    async with world(limits=CAP_1) as w:
        await two_waiting(w)
        c = await controller(w)
        with w.api.user():
            await w.api.merge_patch(hitlsessions_path(NS, SESSION), {"spec": {"cancel": True}})
        await c.event("MODIFIED", session(w))
        await w.settle()
        assert [e[1] for e in w.events(SESSION)] == ["LoginRequired", "Cancelled"]
        reasons = [w.events(n)[-1][1] for n in ("a", "b")]
        assert reasons == ["HitlCancelled", "HitlCancelled"]
        old = session(w)["metadata"]["uid"]
        await w.advance(1)
        await w.submit(mediajob("d").creator("alice", "fans"))
        await w.end_job("c")
        await logged_out(w, "d")
        assert w.phase("d") == "WaitingForHuman"
        fresh = session(w)
        assert fresh["metadata"]["uid"] != old and fresh["status"]["waitingJobs"] == ["d"]


async def test_with_a_free_slot_a_resolved_job_is_admitted_at_once_and_adopted() -> None:
    async with world(limits=CAP_1) as w:
        await one_resolved(w)
        assert (w.phase("a"), w.status("a")["attempts"], w.status("a")["runs"]) == (
            "Running",
            1,
            2,
        )
        assert len(w.jobs_of("a")) == 2
        assert "attempt 1 goes on after the login" in w.events("a")[-1][2]
        await w.end_job("a")
        assert w.phase("a") == "Succeeded"


async def test_a_job_logged_out_again_after_its_session_resolved_opens_a_new_one() -> None:
    async with world(limits=CAP_1) as w:
        await one_resolved(w)
        resolved = session(w)["metadata"]["uid"]
        await w.advance(1)
        await logged_out(w, "a")  # the second run finds itself logged out too
        assert w.phase("a") == "WaitingForHuman" and w.status("a")["attempts"] == 1
        fresh = session(w)
        assert fresh["metadata"]["uid"] != resolved and fresh["status"]["waitingJobs"] == ["a"]
        assert len(w.jobs_of("a")) == 2  # not queued again by the old resolution


@pytest.mark.timeout(30)
async def test_a_crash_after_the_run_after_a_login_was_created_adopts_it() -> None:
    """The Job of run 2 exists, its Running status never went out: the restarted
    operator reads run and attempt back from the Job's labels (no third Job)."""
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("a").creator("alice", "fans"))
        await logged_out(w, "a")
        c = await controller(w)

        def slow_patches() -> None:  # the Running status will still be on its way...
            w.api.latency["patch"] = 5.0

        await resolve(w, c, T0.timestamp() + 86400, then=slow_patches)
        assert len(w.jobs_of("a")) == 2
        await w.crash()  # ...when the operator dies
        w.api.latency.clear()
        await w.start()
        assert w.api.count("create", "jobs") == 2
        status = w.status("a")
        assert (status["phase"], status["attempts"], status["runs"]) == ("Running", 1, 2)
        assert status["jobName"] == w.jobs_of("a")[-1]["metadata"]["name"]


async def test_the_secret_a_session_names_is_the_one_checked_and_mounted() -> None:
    """A person points the session at the Secret their browser extension wrote (another
    name, another key): the resolution checks it, and the scrape's pod mounts it."""
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("a", "scrape_profile").no_input().creator("alice", "fans"))
        assert w.phase("a") == "WaitingForHuman" and w.jobs_of("a") == []  # no Secret yet
        c = await controller(w)
        cookies = [{"name": "sid", "value": COOKIE, "expires": T0.timestamp() + 86400}]
        data = {"state.json": base64.b64encode(json.dumps(cookies).encode()).decode()}
        ref = {"name": "alice-extension", "key": "state.json"}
        with w.api.user():
            secret = {"metadata": {"name": ref["name"]}, "data": data}
            await w.api.create(f"/api/v1/namespaces/{NS}/secrets", secret)
            patch = {"spec": {"credentialsSecretRef": ref, "resolution": {"method": "oauth"}}}
            await w.api.merge_patch(hitlsessions_path(NS, SESSION), patch)
        await c.event("MODIFIED", session(w))
        await w.settle()
        assert session(w)["status"]["phase"] == "Resolved"
        assert w.phase("a") == "Running"
        pod = w.jobs_of("a")[-1]["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if v["name"] == "session"]
        assert volume["secret"]["secretName"] == "alice-extension"
        assert volume["secret"]["items"] == [{"key": "state.json", "path": "cookies.json"}]
        # The check before admission reads that Secret too (the derived one does not exist).
        await w.submit(mediajob("b", "scrape_profile").no_input().creator("alice", "fans"))
        assert w.phase("b") == "Queued"
        assert COOKIE not in json.dumps([w.api.patches, w.api.events])


async def test_sessions_per_phase_and_the_time_to_resolve_are_measured() -> None:
    """media_hitl_sessions{phase} follows the session; media_hitl_resolve_seconds
    observes its creation to its resolution, on the operator's clock."""
    async with world(limits=CAP_1) as w:
        await two_waiting(w)
        c = await controller(w)
        assert samples(w)[one("media_hitl_sessions", phase="Pending")] == 1
        await w.advance(150)
        await resolve(w, c, T0.timestamp() + 86400)
        got = samples(w)
        assert got[one("media_hitl_sessions", phase="Pending")] == 0
        assert got[one("media_hitl_sessions", phase="Resolved")] == 1
        assert got[one("media_hitl_resolve_seconds_count")] == 1
        assert got[one("media_hitl_resolve_seconds_sum")] == 150
        assert got[one("media_hitl_resolve_seconds_bucket", le="300.0")] == 1
        assert got[one("media_hitl_resolve_seconds_bucket", le="60.0")] == 0
