"""Scrape and publish jobs on the fake API and the fake clock: the login is checked
before admission (a missing or expired one opens the login's HitlSession, and the job
waits holding no slot and no Job), the per-platform start rate, and a 429's wait."""

from __future__ import annotations

import base64
import json

from mediajobs.jobs.naming import CONTAINER, platform_secret_name
from mediajobs.lifecycle.logins import FRESH_SECONDS
from tests.builders import MediaJobBuilder, mediajob
from tests.fakes.clock import T0
from tests.unit.controller.test_hitl_jobs import COOKIE, SESSION, controller, resolve, session
from tests.unit.controller.world import NS, World, world

CAP_1 = {"cpu": {"maxRunning": 1}}
SECRETS = f"/api/v1/namespaces/{NS}/secrets"
DAY = 86400


def scrape(name: str, operation: str = "scrape_profile") -> MediaJobBuilder:
    return mediajob(name, operation).no_input().creator("alice", "fans")


async def store(w: World, expires: float) -> None:
    cookies = [{"name": "sid", "value": COOKIE, "expires": expires}]
    data = {"cookies.json": base64.b64encode(json.dumps(cookies).encode()).decode()}
    with w.api.user():
        await w.api.create(
            SECRETS, {"metadata": {"name": platform_secret_name("alice", "fans")}, "data": data}
        )


def said(w: World) -> str:
    return json.dumps([w.api.patches, w.api.events])


def login_required(w: World, name: str) -> int:
    return sum(1 for e in w.events(name) if e[1] == "LoginRequired")


async def test_no_secret_opens_the_session_and_the_jobs_wait_with_no_slot_and_no_job() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(scrape("a"), scrape("b", "publish_post").path("in.mp4"), mediajob("c"))
        assert w.phases() == {"a": "WaitingForHuman", "b": "WaitingForHuman", "c": "Running"}
        assert (w.jobs_of("a"), w.jobs_of("b")) == ([], [])
        assert w.status("a")["hitlSession"] == w.status("b")["hitlSession"] == SESSION
        assert (
            "cannot be used: the Secret or its cookies key is missing" in w.status("a")["message"]
        )
        assert sorted(session(w)["status"]["waitingJobs"]) == ["a", "b"]
        assert w.api.count("get", "secrets") == 1  # both checked by one read
        c = await controller(w)
        await w.advance(60)
        await c.reconcile((NS, SESSION))  # as its sweep does
        await w.settle()
        assert [login_required(w, n) for n in ("a", "b", SESSION)] == [1, 1, 1]  # not per pass

        await resolve(w, c, T0.timestamp() + DAY)
        assert w.phases() == {"a": "Queued", "b": "Queued", "c": "Running"}
        assert [w.status(n)["queuePosition"] for n in ("a", "b")] == [1, 2]  # creation order
        await w.end_job("c")
        assert (w.phase("a"), w.phase("b")) == ("Running", "Queued")
        await w.end_job("a")
        assert (w.phase("a"), w.phase("b")) == ("Succeeded", "Running")
        assert w.status("a")["attempts"] == 1 and "failures" not in w.status("a")
        assert COOKIE not in said(w)


async def test_a_valid_secret_admits_at_once_and_a_flood_reads_it_once() -> None:
    async with world(limits={"cpu": {"maxRunning": 100}}) as w:
        await store(w, T0.timestamp() + DAY)
        await w.submit(*(scrape(f"s{i}") for i in range(50)))
        assert set(w.phases().values()) == {"Running"}
        assert w.api.count("get", "secrets") == 1
        assert not w.api.items(f"/apis/mediajobs.dev/v1alpha1/namespaces/{NS}/hitlsessions")
        await w.advance(FRESH_SECONDS)  # the verdict is stale: the next job reads again
        await w.submit(scrape("late"))
        assert w.phase("late") == "Running" and w.api.count("get", "secrets") == 2
        assert COOKIE not in said(w)


async def test_expired_cookies_wait_for_a_person_and_a_retry_after_resolution_is_admitted() -> None:
    async with world(limits=CAP_1) as w:
        await store(w, T0.timestamp() - 1)
        await w.submit(scrape("a"))
        assert w.phase("a") == "WaitingForHuman"
        assert "1 cookie(s) have expired: 'sid'" in w.status("a")["message"]
        with w.api.user():
            await w.api.delete(f"{SECRETS}/{platform_secret_name('alice', 'fans')}")
        await resolve(w, await controller(w), T0.timestamp() + DAY)
        assert w.phase("a") == "Running"
        # Within the verdict's 10 s, a new job reads the new cookies, not the stale verdict.
        reads = w.api.count("get", "secrets")
        await w.submit(scrape("b"))
        assert w.phase("b") == "Queued" and w.api.count("get", "secrets") == reads + 1


async def test_the_platform_start_rate_holds_its_jobs_and_says_so() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}}, platformStartRates={"fans": 2}) as w:
        await store(w, T0.timestamp() + DAY)
        await w.submit(scrape("a"), scrape("b"), scrape("c"), mediajob("d"))
        assert w.phases() == {"a": "Running", "b": "Queued", "c": "Queued", "d": "Running"}
        assert w.status("b")["waitingReason"] == "platform fans: rate limit of 2 starts/min"
        assert w.status("b")["queuePosition"] == 1
        await w.advance(29)
        assert w.phase("b") == "Queued"
        await w.advance(1)
        assert (w.phase("b"), w.phase("c")) == ("Running", "Queued")
        await w.advance(30)
        assert w.phase("c") == "Running"


async def test_a_429_is_retried_when_the_platform_said_spending_no_retry() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("a").retry(limit=1, seconds=1))
        message = json.dumps({"error": "HTTP 429 from fans", "retryAfterSeconds": 300})
        terminated = {"exitCode": 75, "reason": "Error", "message": message}
        await w.pod_says(
            "a",
            {
                "phase": "Failed",
                "containerStatuses": [{"name": CONTAINER, "state": {"terminated": terminated}}],
            },
        )
        await w.end_job("a", failed=True)
        status = w.status("a")
        assert status["phase"] == "BackingOff" and "failures" not in status
        assert status["retryAfter"] == "2026-11-25T12:05:00Z" and status["rateLimitedWaits"] == 1
        await w.advance(299)
        assert w.phase("a") == "BackingOff"
        await w.advance(1)
        assert (w.phase("a"), w.status("a")["attempts"]) == ("Running", 2)
