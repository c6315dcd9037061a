"""The HitlSession plan: open, refuse, resolve, cancel, expire, on a fake clock."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from mediajobs.api.hitl import HitlPhase, HitlSessionSpec, HitlSessionStatus
from mediajobs.jobs.naming import hitl_session_name, platform_secret_name
from mediajobs.lifecycle.hitl import Session, Step, cookies_problem, plan
from tests.fakes.clock import T0, FakeClock

COOKIE_VALUE = "s3cr3t-cookie-value"


def session(status: HitlSessionStatus | None = None, **spec: Any) -> Session:
    fields = {"creatorProfile": "alice", "platform": "fans", "sessionType": "login_required"}
    return Session(
        "ns",
        "login-alice-fans-abc123",
        1,
        T0,
        HitlSessionSpec.model_validate(fields | spec),
        status or HitlSessionStatus(),
    )


def cookies(*expires: float | None) -> bytes:
    return json.dumps(
        [{"name": f"c{i}", "value": COOKIE_VALUE, "expires": e} for i, e in enumerate(expires)]
    ).encode()


def after(step: Step, s: Session) -> Session:
    """S as it reads once STEP's status is written."""
    assert step.status is not None
    fields = s.status.model_dump(exclude_unset=True) | step.status.model_dump(exclude_unset=True)
    return Session(
        s.namespace, s.name, s.generation, s.created, s.spec, HitlSessionStatus(**fields)
    )


def conditions(step: Step) -> dict[str, tuple[str, str]]:
    assert step.status is not None
    return {c.type: (c.status, c.reason) for c in step.status.conditions or []}


def test_a_new_session_opens_pending_with_its_expiry_and_an_event() -> None:
    clock = FakeClock()
    step = plan(session(ttlSeconds=3600), None, clock.now())
    assert step.status is not None and step.status.phase == HitlPhase.PENDING
    assert step.status.expires_at == T0 + timedelta(hours=1) == step.check_at
    assert conditions(step)["Resolved"] == ("False", "WaitingForLogin")
    assert step.event is not None and step.event.reason == "LoginRequired"
    again = plan(after(step, session(ttlSeconds=3600)), None, clock.now())
    assert again.status is None and again.event is None  # nothing new to write


def test_default_ttl_is_a_day_and_expiry_closes_it() -> None:
    clock = FakeClock()
    opened = after(plan(session(), None, clock.now()), session())
    clock.jump(86399)
    assert plan(opened, None, clock.now()).status is None
    clock.jump(86400)
    step = plan(opened, None, clock.now())
    assert step.status is not None and step.status.phase == HitlPhase.EXPIRED
    assert step.status.closed_at == clock.now()
    assert step.event is not None and step.event.reason == "Expired"
    assert plan(after(step, opened), None, clock.now()).status is None  # final


def test_resolution_with_good_cookies_resolves() -> None:
    clock = FakeClock()
    s = session(resolution={"method": "manual_cookies"})
    good = cookies(None, -1, (T0 + timedelta(days=30)).timestamp())
    step = plan(s, good, clock.now())
    assert step.status is not None and step.status.phase == HitlPhase.RESOLVED
    assert step.status.resolution_method == "manual_cookies"
    assert step.status.resolved_at == step.status.closed_at == T0
    assert conditions(step)["Resolved"] == ("True", "Resolved")
    assert step.event is not None and step.event.type == "Normal"


def test_expired_or_missing_cookies_are_refused_with_a_reason_and_no_value() -> None:
    clock = FakeClock()
    s = session(resolution={"method": "browser_extension"})
    stale = cookies((T0 - timedelta(seconds=1)).timestamp(), None)
    step = plan(s, stale, clock.now())
    assert step.status is not None and step.status.phase == HitlPhase.IN_PROGRESS
    assert "1 cookie(s) have expired: 'c0'" in (step.status.message or "")
    assert conditions(step)["Resolved"] == ("False", "CookiesRefused")
    said = step.status.model_dump_json() + repr(step.event)
    assert COOKIE_VALUE not in said
    missing = plan(s, None, clock.now())
    assert missing.status is not None and "missing" in (missing.status.message or "")


def test_a_secret_the_operator_may_not_read_is_said() -> None:
    s = session(resolution={"method": "manual_cookies"})
    step = plan(s, None, T0, unreadable="forbidden: cannot get secrets x in namespace ns")
    assert step.status is not None and step.status.phase == HitlPhase.IN_PROGRESS
    assert "refused: forbidden: cannot get secrets x" in (step.status.message or "")


def test_cookie_checks() -> None:
    now = T0
    assert cookies_problem(b"not json", now) == "the cookies are not JSON"
    assert cookies_problem(b"[]", now) is not None
    assert cookies_problem(b'[{"name": "a"}]', now) == "every cookie needs a name and a value"
    assert cookies_problem(b'[{"name": "a", "value": "v", "expires": "soon"}]', now) is not None
    state = {"cookies": [{"name": "a", "value": "v", "expires": now.timestamp() + 60}]}
    assert cookies_problem(json.dumps(state).encode(), now) is None  # Playwright's storage state


def test_cancel_wins_over_waiting_and_is_final() -> None:
    clock = FakeClock()
    s = session(cancel=True)
    step = plan(s, None, clock.now())
    assert step.status is not None and step.status.phase == HitlPhase.CANCELLED
    assert step.event is not None and step.event.reason == "Cancelled"
    resolved = HitlSessionStatus(phase=HitlPhase.RESOLVED)
    assert plan(session(resolved, cancel=True), None, clock.now()).status is None


def test_names_are_derived_valid_and_distinct() -> None:
    a = hitl_session_name("Alice_1", "fans")
    assert a == hitl_session_name("Alice_1", "fans") != hitl_session_name("alice-1", "fans")
    assert a.startswith("login-alice-1-fans-") and len(a) <= 63
    long = hitl_session_name("x" * 63, "p" * 32)
    assert len(long) <= 63 and long.endswith(long[-6:])
    assert platform_secret_name("Alice_1", "fans") == "session-" + a.removeprefix("login-")
