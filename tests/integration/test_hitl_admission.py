"""Scrape and publish jobs with the operator as a real process: the login is checked
before admission (no Secret: the job waits for a person with no Job, and a second job
joins its session; cookies stored and the session resolved: both run in their
original order), a valid Secret admits at once, the per-platform start rate spaces
starts, and a 429's Retry-After sets when the next attempt starts. The cookie value is
never said in a status, an Event or the log."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mediajobs.jobs.naming import platform_secret_name
from tests.builders import MediaJobBuilder, mediajob
from tests.integration.operator_checks import jobs_of, wait_phase
from tests.integration.test_hitl_sessions import (
    COOKIE,
    SESSION,
    StartOperator,
    resolve,
    said,
    session,
    session_phase,
    store_cookies,
)
from tests.integration.test_login import (  # the fixture too
    OPERATOR_RULES,
    service_account,  # noqa: F401
    token,
    write_kubeconfig,
)
from tests.localcluster import WAIT_LONG, Kubectl, wait_for

CAP_1 = {"limits": {"cpu": {"maxRunning": 1}}}
DAY = 86400


def scrape(name: str) -> MediaJobBuilder:
    return mediajob(name, "scrape_profile").no_input().creator("alice", "fans")


def created(job: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(job["metadata"]["creationTimestamp"])


def test_no_secret_waits_with_no_job_a_second_job_joins_resolution_runs_both_in_order(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    op = start_operator(**CAP_1)
    ns.apply(scrape("a").obj())
    waiting = wait_phase(ns, "a", "WaitingForHuman")
    assert waiting["hitlSession"] == SESSION
    assert "the Secret or its cookies key is missing" in waiting["message"]
    ns.apply(scrape("b").obj())
    wait_phase(ns, "b", "WaitingForHuman")
    wait_for(
        "both jobs listed",
        lambda: (session(ns).get("status") or {}).get("waitingJobs") == ["a", "b"] or None,
    )
    assert session_phase(ns, "Pending")
    assert jobs_of(ns, "a") == jobs_of(ns, "b") == []  # no Job, no slot

    store_cookies(ns, time.time() + DAY)
    resolve(ns)
    done = {n: wait_phase(ns, n, "Succeeded") for n in ("a", "b")}
    for name, final in done.items():
        assert final["attempts"] == 1 and "failures" not in final, name
    # The queue's order is (priority, creationTimestamp, uid): the timestamp has whole
    # seconds, so a and b, applied within one, are ordered by their uids.
    order = sorted(
        "ab", key=lambda n: (created(ns.get("mj", n)), ns.get("mj", n)["metadata"]["uid"])
    )
    first, second = (jobs_of(ns, n)[0] for n in order)
    assert created(first) <= created(second)  # original order, one slot
    # One LoginRequired per job and one for the session, not one per pass.
    opened = [e for e in ns.items("events") if e["reason"] == "LoginRequired"]
    assert sorted(e["involvedObject"]["name"] for e in opened) == sorted(["a", "b", SESSION])
    assert COOKIE not in said(ns, op)


def test_a_valid_secret_admits_at_once(ns: Kubectl, start_operator: StartOperator) -> None:
    op = start_operator(**CAP_1)
    store_cookies(ns, time.time() + DAY)
    ns.apply(scrape("a").obj())
    assert wait_phase(ns, "a", "Succeeded")["attempts"] == 1
    assert ns.items("hitl") == []
    assert COOKIE not in said(ns, op)


def test_the_platform_start_rate_spaces_starts_and_says_so(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(limits={"cpu": {"maxRunning": 5}}, platformStartRates={"fans": 6})
    store_cookies(ns, time.time() + DAY)
    for name in ("a", "b"):
        ns.apply(scrape(name).kwok(run_for="60s").obj())
    wait_phase(ns, "a", "Running")
    held = wait_phase(ns, "b", "Queued")
    assert held["waitingReason"] == "platform fans: rate limit of 6 starts/min"
    wait_phase(ns, "b", "Running", timeout=WAIT_LONG + 10)
    first, second = (jobs_of(ns, n)[0] for n in ("a", "b"))
    assert created(second) - created(first) >= timedelta(seconds=9)  # 10 s, to the second


def test_a_429_is_retried_when_the_platform_said(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(**CAP_1)
    ns.apply(mediajob("a").retry(limit=1, seconds=1).kwok(run_for="20s", exit_code=75).obj())
    pod = wait_for(
        "the worker's pod",
        lambda: next(iter(ns.items("pods", "-l", "kwok.mediajobs.dev/exit-code=75")), None),
    )
    # The worker's termination message after a 429 (KWOK writes what the pod says).
    message = '{"error": "HTTP 429 from fans", "retryAfterSeconds": 3600}'
    ns.run("annotate", "pod", pod["metadata"]["name"], f"kwok.mediajobs.dev/message={message}")
    backing_off = wait_phase(ns, "a", "BackingOff")
    assert "failures" not in backing_off and backing_off["rateLimitedWaits"] == 1
    running = next(c for c in backing_off["conditions"] if c["type"] == "Running")
    assert running["reason"] == "RateLimited"
    assert "retry after 3600s as the platform asked" in running["message"]
    ended = datetime.fromisoformat(running["lastTransitionTime"])
    retry_after = datetime.fromisoformat(backing_off["retryAfter"])
    assert timedelta(seconds=3600) <= retry_after - ended <= timedelta(seconds=3602)


def test_where_secrets_may_not_be_read_the_job_says_so_and_runs_once_granted(
    ns: Kubectl,
    start_operator: StartOperator,
    service_account: Callable[..., str],  # noqa: F811 - test_login's fixture, imported above
    tmp_path: Path,
) -> None:
    service_account("op", OPERATOR_RULES)  # the chart's Role without namespaces[].secrets
    user = {"token": token(ns, "op")}
    config = write_kubeconfig(tmp_path / "op.yaml", ns, user, inline_ca=False)
    op = start_operator(args=["--kubeconfig", str(config)], env={"KUBECONFIG": None}, **CAP_1)
    ns.apply(scrape("a").obj())
    waiting = wait_phase(ns, "a", "WaitingForHuman")
    secret = platform_secret_name("alice", "fans")
    assert (
        f"forbidden: cannot get secrets {secret} in namespace {ns.namespace}"
        in (waiting["message"])
    )
    session_phase(ns, "Pending")
    store_cookies(ns, time.time() + DAY)
    resolve(ns)  # before the grant: refused and said; the operator goes on
    assert "forbidden: cannot get secrets" in session_phase(ns, "InProgress")["message"]
    # namespaces[].secrets: true, as the chart renders it.
    rules = [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]
    ns.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
              "metadata": {"name": "op-secrets"}, "rules": rules})  # fmt: skip
    ns.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "op-secrets"},
              "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": ns.namespace}],
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                          "name": "op-secrets"}})  # fmt: skip
    assert wait_phase(ns, "a", "Succeeded")["attempts"] == 1  # the sweep reads it again
    assert COOKIE not in said(ns, op)
