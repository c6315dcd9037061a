"""HitlSessions with the operator as a real process: a worker that exits 3 (KWOK, by
label) opens its login's session, a second job joins it, a person stores cookies and
resolves it, and both jobs run again in their original order; expiry and cancel fail
the waiting jobs. The cookie value is never said in a status, an Event or the log."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from mediajobs.jobs.naming import hitl_session_name, platform_secret_name
from tests.builders import hitlsession, mediajob
from tests.integration.operator_checks import jobs_of, status, wait_phase
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
CAP_1 = {"limits": {"cpu": {"maxRunning": 1}}}
SESSION = hitl_session_name("alice", "fans")
COOKIE = "c00kie-value-that-must-never-be-said"


def session(ns: Kubectl) -> dict[str, Any]:
    return ns.get("hitl", SESSION)


def session_phase(ns: Kubectl, phase: str, timeout: float = WAIT_LONG) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        current = (ns.get_or_none("hitl", SESSION) or {}).get("status") or {}
        return current if current.get("phase") == phase else None

    return wait_for(f"{SESSION} to be {phase}", probe, timeout)


def store_cookies(ns: Kubectl, expires: float) -> None:
    cookies = [{"name": "sid", "value": COOKIE, "domain": ".fans.test", "expires": expires}]
    data = {"cookies.json": base64.b64encode(json.dumps(cookies).encode()).decode()}
    name = platform_secret_name("alice", "fans")
    ns.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data})


def resolve(ns: Kubectl) -> None:
    patch = json.dumps({"spec": {"resolution": {"method": "manual_cookies"}}})
    ns.run("patch", "hitl", SESSION, "--type=merge", "-p", patch)


def login_job(name: str) -> dict[str, Any]:
    return mediajob(name).creator("alice", "fans").kwok(exit_code=3).obj()


def two_waiting(ns: Kubectl) -> None:
    """a logs out and opens the session; b logs out and joins it."""
    ns.apply(login_job("a"))
    wait_phase(ns, "a", "WaitingForHuman")
    ns.apply(login_job("b"))
    wait_phase(ns, "b", "WaitingForHuman")
    assert status(ns, "a")["hitlSession"] == status(ns, "b")["hitlSession"] == SESSION
    wait_for(
        "both jobs listed",
        lambda: (session(ns).get("status") or {}).get("waitingJobs") == ["a", "b"] or None,
    )


def said(ns: Kubectl, op: OperatorProcess) -> str:
    """Everything the operator said: statuses, Events, its log."""
    return "\n".join(
        [
            ns.run("get", "mj,hitl", "-o", "json").stdout,
            ns.run("get", "events", "-o", "json").stdout,
            op.log.read_text(),
        ]
    )


def test_exit_3_opens_a_session_resolution_requeues_both_jobs_in_order(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    op = start_operator(**CAP_1)
    two_waiting(ns)
    columns = ns.run("get", "hitl", SESSION).stdout.split("\n")[0].split()
    assert columns == [
        "NAME", "PLATFORM", "PROFILE", "TYPE", "PHASE", "WAITING", "MESSAGE", "EXPIRES", "AGE",
    ]  # fmt: skip
    assert session_phase(ns, "Pending")["expiresAt"]
    # The login works now: the next attempts' pods end with exit code 0.
    for name in ("a", "b"):
        ns.run("label", "mj", name, "--overwrite", "kwok.mediajobs.dev/exit-code=0")

    store_cookies(ns, time.time() - 60)  # stale: refused, with a reason
    resolve(ns)
    refused = session_phase(ns, "InProgress")
    assert "1 cookie(s) have expired: 'sid'" in refused["message"]
    assert status(ns, "a")["phase"] == "WaitingForHuman"

    store_cookies(ns, time.time() + 86400)  # the sweep sees the fresh ones
    ns.run("wait", "--for=condition=Resolved", f"--timeout={WAIT_LONG:.0f}s", f"hitl/{SESSION}")
    done = {n: wait_phase(ns, n, "Succeeded") for n in ("a", "b")}
    for name, final in done.items():
        # The logout spent nothing: attempt 1 went on as a second run (a second Job).
        assert (final["attempts"], final["runs"]) == (1, 2) and "failures" not in final, name
    second = {n: jobs_of(ns, n) for n in ("a", "b")}
    assert {n: len(jobs) for n, jobs in second.items()} == {"a": 2, "b": 2}
    started = {
        n: max(j["metadata"]["creationTimestamp"] for j in jobs) for n, jobs in second.items()
    }
    assert started["a"] <= started["b"]  # original order, one slot
    reasons = {e["reason"] for e in ns.items("events") if e["involvedObject"]["name"] == SESSION}
    assert {"LoginRequired", "CookiesRefused", "Resolved"} <= reasons
    assert 'media_hitl_sessions{phase="Resolved"} 1.0' in op.metrics()
    assert "media_hitl_resolve_seconds_count 1.0" in op.metrics()
    assert COOKIE not in said(ns, op)


def test_an_expired_session_fails_its_jobs(ns: Kubectl, start_operator: StartOperator) -> None:
    op = start_operator(**CAP_1)
    ns.apply(hitlsession(SESSION, creatorProfile="alice", platform="fans", ttlSeconds=60))
    session_phase(ns, "Pending")
    two_waiting(ns)  # both join the session that was there
    for name in ("a", "b"):
        failed = wait_phase(ns, name, "Failed", timeout=WAIT_LONG + 30)
        reason = next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"]
        assert reason == "HitlExpired"
    assert session_phase(ns, "Expired")["message"] == "nobody resolved it within 60s"
    assert 'media_hitl_sessions{phase="Expired"} 1.0' in op.metrics()


def test_a_cancelled_session_fails_its_jobs(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(**CAP_1)
    two_waiting(ns)
    ns.run("patch", "hitl", SESSION, "--type=merge", "-p", '{"spec": {"cancel": true}}')
    session_phase(ns, "Cancelled")
    for name in ("a", "b"):
        failed = wait_phase(ns, name, "Failed")
        reason = next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"]
        assert reason == "HitlCancelled"
