"""MediaJobs and HitlSessions on the fake API and the fake clock: a worker that exits 3
opens (or joins) its login's session; the session's end queues the jobs again in their
original order, or fails them."""

from __future__ import annotations

import base64
import json
from typing import Any

from mediajobs.controller.hitl import SessionController
from mediajobs.jobs.naming import CONTAINER, hitl_session_name, platform_secret_name
from mediajobs.kube.port import hitlsessions_path
from tests.builders import mediajob
from tests.fakes.clock import T0
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


async def resolve(w: World, c: SessionController, expires: float) -> None:
    cookies = [{"name": "sid", "value": COOKIE, "expires": expires}]
    data = {"cookies.json": base64.b64encode(json.dumps(cookies).encode()).decode()}
    secret = {"metadata": {"name": platform_secret_name("alice", "fans")}, "data": data}
    with w.api.user():
        await w.api.create(f"/api/v1/namespaces/{NS}/secrets", secret)
        patch = {"spec": {"resolution": {"method": "manual_cookies"}}}
        await w.api.merge_patch(hitlsessions_path(NS, SESSION), patch)
    await c.event("MODIFIED", session(w))
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
            assert status["attempts"] == 2 and "hitlSession" not in status
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
        assert (w.phase("a"), w.status("a")["attempts"]) == ("Running", 2)
        assert len(w.jobs_of("a")) == 2
        await w.end_job("a")
        assert w.phase("a") == "Succeeded"


async def test_a_job_logged_out_again_after_its_session_resolved_opens_a_new_one() -> None:
    async with world(limits=CAP_1) as w:
        await one_resolved(w)
        resolved = session(w)["metadata"]["uid"]
        await w.advance(1)
        await logged_out(w, "a")  # the second attempt finds itself logged out too
        assert w.phase("a") == "WaitingForHuman" and w.status("a")["attempts"] == 2
        fresh = session(w)
        assert fresh["metadata"]["uid"] != resolved and fresh["status"]["waitingJobs"] == ["a"]
        assert len(w.jobs_of("a")) == 2  # not queued again by the old resolution
