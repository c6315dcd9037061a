"""Before admission: the login check of scrape and publish jobs, on plain data."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediajobs.api.hitl import HitlPhase, HitlSessionStatus, SecretRef
from mediajobs.jobs.naming import CookiesRef, credentials_ref
from mediajobs.lifecycle.logins import (
    FRESH_SECONDS,
    CheckLogin,
    Login,
    NeedLogin,
    login_from,
    login_ref,
    login_step,
)
from mediajobs.lifecycle.plan import OpenSession, Queue, plan
from mediajobs.lifecycle.records import Record, record_from_body
from tests.builders import mediajob
from tests.unit.lifecycle.test_hitl import session
from tests.unit.lifecycle.test_plan import RETENTION

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECRET = credentials_ref("alice", "fans", None)
GOOD = Login(None, T0, T0 + timedelta(hours=1))
MISSING = Login("the Secret or its cookies key is missing", T0)


def scrape(operation: str = "scrape_profile", **status: Any) -> Record:
    body = mediajob("s", operation).no_input().creator("alice", "fans").obj()
    body["metadata"].update(
        namespace="ns", uid="u1", creationTimestamp="2026-11-25T11:00:00Z", resourceVersion="7"
    )
    body["status"] = status
    return record_from_body(body)


def cookies(*expires: float | None) -> bytes:
    return json.dumps(
        [{"name": f"c{i}", "value": "v", "expires": e} for i, e in enumerate(expires)]
    ).encode()


@pytest.mark.parametrize(
    ("record", "login", "now", "step"),
    [
        # Not yet checked, or checked too long ago: read the Secret first.
        (scrape(), None, T0, CheckLogin(SECRET)),
        (scrape(), GOOD, T0 + timedelta(seconds=FRESH_SECONDS), CheckLogin(SECRET)),
        (scrape(phase="BackingOff"), MISSING, T0 + timedelta(hours=2), CheckLogin(SECRET)),
        # A fresh verdict decides.
        (scrape(), GOOD, T0 + timedelta(seconds=1), None),
        (scrape("publish_post"), GOOD, T0, None),
        (
            scrape(),
            MISSING,
            T0,
            NeedLogin(
                f"the platform session Secret {SECRET.secret} cannot be used: {MISSING.problem}"
            ),
        ),
        # Already queued (after a check, or its session's resolution): not held back.
        (scrape(phase="Queued"), None, T0, None),
        (scrape(phase="Queued"), MISSING, T0, None),
    ],
)
def test_login_step(record: Record, login: Login | None, now: datetime, step: object) -> None:
    assert login_step(record, login_ref(record, None), login, now) == step


def test_jobs_that_act_on_no_platform_need_no_login() -> None:
    body = mediajob("t").creator("alice", "fans").obj()
    body["metadata"].update(namespace="ns", uid="u", creationTimestamp="2026-11-25T11:00:00Z")
    record = record_from_body(body)
    assert login_ref(record, session()) is None
    assert login_step(record, login_ref(record, None), None, T0) is None


def test_the_login_session_names_the_secret_checked_and_mounted() -> None:
    """Its credentialsSecretRef wins (a key left out is cookies.json); without a session,
    or a ref, the derived Secret. This one answer is what admission checks and what
    the scraper pod mounts (jobs/build.py)."""
    named = session(credentialsSecretRef={"name": "alice-state", "key": "state.json"})
    assert login_ref(scrape(), named) == CookiesRef("alice-state", "state.json")
    keyless = session(credentialsSecretRef={"name": "alice-state"})
    assert login_ref(scrape(), keyless) == CookiesRef("alice-state", "cookies.json")
    assert login_ref(scrape(), session()) == SECRET == login_ref(scrape(), None)
    assert plan(scrape(), None, T0, RETENTION, cookies=login_ref(scrape(), named)) == CheckLogin(
        CookiesRef("alice-state", "state.json")
    )


def test_a_verdict_turns_when_its_first_cookie_expires() -> None:
    login = login_from(cookies(None, T0.timestamp() + 60, T0.timestamp() + 30, -1), T0)
    assert login.problem is None and login.expires_at == T0 + timedelta(seconds=30)
    assert login.problem_at(T0 + timedelta(seconds=29)) is None
    assert login.problem_at(T0 + timedelta(seconds=30)) is not None
    assert login_from(cookies(None), T0).expires_at is None
    far = login_from(cookies(1e300), T0)  # hostile: no overflow, it never expires
    assert far.problem is None and far.expires_at is not None and far.expires_at.year == 9999


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "the Secret or its cookies key is missing"),
        (b"{", "the cookies are not JSON"),
        (cookies(T0.timestamp() - 1), "1 cookie(s) have expired: 'c0'"),
    ],
)
def test_unusable_cookies_say_why_and_never_their_value(raw: bytes | None, problem: str) -> None:
    login = login_from(raw, T0)
    assert login.problem == problem and "v" not in login.problem.split("'")


def test_plan_checks_the_login_before_it_queues() -> None:
    assert plan(scrape(), None, T0, RETENTION, cookies=SECRET) == CheckLogin(SECRET)
    assert plan(scrape(), None, T0, RETENTION, cookies=SECRET, login=GOOD) == Queue(1, 1)
    step = plan(scrape(), None, T0, RETENTION, cookies=SECRET, login=MISSING)
    assert isinstance(step, NeedLogin)


def test_a_session_opened_again_keeps_the_secret_a_person_pointed_the_last_one_at() -> None:
    """Logged out again after a resolved session whose credentialsSecretRef a person set:
    the new session names the same Secret and key (else the derived one)."""
    waiting = scrape(phase="WaitingForHuman", hitlSession="login-alice-fans-abc123")
    resolved = HitlSessionStatus(phase=HitlPhase.RESOLVED, closed_at=T0, waiting_jobs=[])
    ref = {"name": "alice-state", "key": "state.json"}
    step = plan(waiting, None, T0, RETENTION, session=session(resolved, credentialsSecretRef=ref))
    assert isinstance(step, OpenSession)
    assert step.spec.credentials_secret_ref == SecretRef(name="alice-state", key="state.json")
    fresh = plan(waiting, None, T0, RETENTION)
    assert isinstance(fresh, OpenSession)
    assert fresh.spec.credentials_secret_ref == SecretRef(name=SECRET.secret, key="cookies.json")
