"""Scrape and publish jobs on the real node: real scraper pods (images/scraper) against
the fake platform (tests/scraper/fake_platform.py) on the host end of the node's veth.

The chart install is the product's own (conftest.py): its values name the platform's
two faces (the http and the browser adapter, tests/e2e/product.py). A scrape with no
login waits for a person on a HitlSession that a second job joins; the cookies stored
and the session resolved, both run in their original order. A scraper whose cookies the
platform has revoked exits 3 mid-run and goes on, as the same attempt, once a person
has logged in; a 429 is waited out for its Retry-After; a cancelled login fails the job
waiting on it. The cookies' values are then looked for in everything a person could
read: statuses, Events, the operator's and every scraper pod's log.

Named to run after test_product.py and before test_product_uninstall.py (the release
is gone after that one).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest

from mediajobs.jobs.naming import hitl_session_name, platform_secret_name
from tests.e2e.conftest import Product
from tests.e2e.product import (
    BROWSER_PLATFORM,
    HTTP_PLATFORM,
    MEDIAJOB_LABEL,
    RELEASE_NAMESPACE,
    SCRAPE_NAMESPACE,
    jobs_mod,
)
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.scraper.conftest import cookies_json
from tests.scraper.fake_platform import EXPIRED_SESSION, Platform
from tests.scraper.fake_platform import SESSION as COOKIE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PROFILE = "alice"
# A scraper pod's start on the real node (Chromium's included) takes seconds.
RUN_TIMEOUT = 180.0
# Longer than the platform config's maxRetryWaitSeconds (5): the scraper does not wait
# in-process, it exits 75 and the operator starts the next attempt no sooner.
RETRY_AFTER = 8


@pytest.fixture
def scrape_ns(product: Product) -> Kubectl:
    return product.kube.in_namespace(SCRAPE_NAMESPACE)


def mediajob(
    name: str, operation: str, platform: str, profile: str = PROFILE, **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": name},
        "spec": {"operation": operation, "creatorProfile": profile, "platform": platform,
                 "resources": {"cpu": jobs_mod.CPU}, **spec},
    }  # fmt: skip


def store_cookies(
    kube: Kubectl, platform: str, profile: str = PROFILE, value: str = COOKIE
) -> None:
    """The platform session Secret, as a person's browser extension would write it."""
    data = {"cookies.json": base64.b64encode(cookies_json(value).encode()).decode()}
    name = platform_secret_name(profile, platform)
    kube.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data})


def status(kube: Kubectl, kind: str, name: str) -> dict[str, Any]:
    return (kube.get_or_none(kind, name) or {}).get("status") or {}


def in_phase(kube: Kubectl, kind: str, name: str, phase: str, timeout: float) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = status(kube, kind, name)
        assert found.get("phase") not in ("Failed", "Cancelled") or found.get("phase") == phase, (
            f"{kind}/{name} ended {found.get('phase')}: {found.get('message')}"
        )
        return found if found.get("phase") == phase else None

    return wait_for(f"{kind}/{name} to be {phase}", probe, timeout=timeout)


def succeeded(kube: Kubectl, name: str) -> dict[str, Any]:
    """NAME's result data once it succeeded (a failure says why at once)."""
    done = in_phase(kube, "mediajob", name, "Succeeded", RUN_TIMEOUT)
    return done["result"]["data"]  # type: ignore[no-any-return]


def jobs_of(kube: Kubectl, name: str) -> list[dict[str, Any]]:
    return kube.items("jobs", f"--selector={MEDIAJOB_LABEL}={name}")


def created(obj: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(obj["metadata"]["creationTimestamp"])


def assert_cookie_never_said(kube: Kubectl, jobs: list[str]) -> None:
    """Statuses, Events, the operator replicas' logs and JOBS' scraper pods' logs."""
    system = kube.in_namespace(RELEASE_NAMESPACE)
    # Running replicas only: test_product's leader deletion may leave one still starting.
    operators = [
        p for p in system.items("pods", "--selector=app.kubernetes.io/component=operator")
        if p["status"].get("phase") == "Running"
    ]  # fmt: skip
    pods = [p for job in jobs for p in kube.items("pods", f"--selector={MEDIAJOB_LABEL}={job}")]
    assert operators and len(pods) >= len(jobs), (operators, pods)
    places = {
        "statuses": kube.run("get", "mj,hitl", "-o", "json").stdout,
        "events": kube.run("get", "events", "-o", "json").stdout,
        "operator events": system.run("get", "events", "-o", "json").stdout,
    }
    for pod in operators:
        name = pod["metadata"]["name"]
        places[name] = system.run("logs", name, "--all-containers").stdout
    for pod in pods:
        name = pod["metadata"]["name"]
        places[name] = kube.run("logs", name, "--all-containers").stdout
    for value in (COOKIE, EXPIRED_SESSION):
        assert [where for where, text in places.items() if value in text] == [], value


def resolve(kube: Kubectl, session: str) -> None:
    """A person has logged in (the Secret is stored): the session says so."""
    patch = {"spec": {"resolution": {"method": "browser_extension"}}}
    kube.run("patch", "hitl", session, "--type=merge", "-p", json.dumps(patch))


def exit_codes(kube: Kubectl, name: str) -> list[int]:
    """The scraper's exit code in each of NAME's pods, oldest first."""
    pods = sorted(kube.items("pods", f"--selector={MEDIAJOB_LABEL}={name}"), key=created)
    return [
        s["state"]["terminated"]["exitCode"]
        for p in pods
        for s in p["status"].get("containerStatuses") or []
        if "terminated" in s["state"]
    ]


def test_a_scrape_waits_for_a_login_that_a_second_job_joins_then_both_run_in_order(
    scrape_ns: Kubectl, fake_platform: Platform
) -> None:
    kube, session = scrape_ns, hitl_session_name(PROFILE, HTTP_PLATFORM)
    kube.apply(mediajob("scrape-a", "scrape_profile", HTTP_PLATFORM))
    waiting = in_phase(kube, "mediajob", "scrape-a", "WaitingForHuman", WAIT_LONG)
    assert waiting["hitlSession"] == session
    assert "the Secret or its cookies key is missing" in waiting["message"]
    kube.apply(mediajob("scrape-b", "scrape_profile", HTTP_PLATFORM))
    assert in_phase(kube, "mediajob", "scrape-b", "WaitingForHuman", WAIT_LONG)["hitlSession"] == (
        session
    )
    wait_for(
        "both jobs on the session",
        lambda: (
            status(kube, "hitl", session).get("waitingJobs") == ["scrape-a", "scrape-b"] or None
        ),
    )
    assert status(kube, "hitl", session)["phase"] == "Pending"
    assert jobs_of(kube, "scrape-a") == jobs_of(kube, "scrape-b") == []  # no Job, no slot
    assert fake_platform.seen("/u/") == []

    store_cookies(kube, HTTP_PLATFORM)
    resolve(kube, session)
    in_phase(kube, "hitl", session, "Resolved", WAIT_LONG)
    for name in ("scrape-a", "scrape-b"):
        data = succeeded(kube, name)
        # JSON-LD's counters and the configured selector, read by the pod over HTTP
        assert data["metrics"] == {"followers": 12345, "posts": 3, "followersShown": 12300}
        assert data["posts"] == ["p1", "p2", "p3"]
        assert status(kube, "mediajob", name)["attempts"] == 1
    # The queue's order (priority, creationTimestamp, uid), and the platform's start rate
    # spaces the two starts: the first Job is the one queued first.
    order = sorted(
        ("scrape-a", "scrape-b"),
        key=lambda n: (created(kube.get("mj", n)), kube.get("mj", n)["metadata"]["uid"]),
    )
    first, second = (jobs_of(kube, n)[0] for n in order)
    assert created(first) < created(second)
    # Only the scraper pods read the profile, each with the session's cookie.
    reads = fake_platform.seen(f"/u/{PROFILE}")
    assert len(reads) == 2 and all(r.cookie == f"sid={COOKIE}" for r in reads)
    assert_cookie_never_said(kube, ["scrape-a", "scrape-b"])


def test_the_browser_adapter_reads_a_page_rendered_by_javascript(
    scrape_ns: Kubectl, fake_platform: Platform
) -> None:
    kube = scrape_ns
    store_cookies(kube, BROWSER_PLATFORM)  # a login that works: admitted at once
    kube.apply(mediajob("scrape-js", "scrape_profile", BROWSER_PLATFORM))
    data = succeeded(kube, "scrape-js")
    assert data["metrics"] == {"followers": 777, "likes": 1500}  # only Chromium sees them
    assert data["posts"] == ["j1", "j2"]
    assert kube.get_or_none("hitl", hitl_session_name(PROFILE, BROWSER_PLATFORM)) is None
    assert fake_platform.seen(f"/js/u/{PROFILE}")
    assert_cookie_never_said(kube, ["scrape-js"])


def test_publish_post_returns_the_platforms_post_id_and_url(
    scrape_ns: Kubectl, product: Product, fake_platform: Platform
) -> None:
    kube, media = scrape_ns, product.media / "scrape" / "teaser.mp4"
    media.parent.mkdir(exist_ok=True)
    media.write_bytes(b"\0\0\0\x18ftypmp42" + b"x" * 5000)
    store_cookies(kube, HTTP_PLATFORM)
    job = mediajob("publish", "publish_post", HTTP_PLATFORM, input={"path": "scrape/teaser.mp4"},
                   params={"caption": "New set is up!", "tags": ["teaser"]})  # fmt: skip
    kube.apply(job)
    data = succeeded(kube, "publish")
    [upload] = fake_platform.uploads  # the platform's answer: {"id": "post-1", "url": ...}
    assert (data["postId"], data["url"]) == ("post-1", f"{fake_platform.base}/p/post-1")
    assert upload["media"][0]["bytes"] == media.stat().st_size == data["bytes"]
    assert "New set is up!" in upload["caption"][0]
    assert_cookie_never_said(kube, ["publish"])


def test_a_scraper_logged_out_mid_run_goes_on_as_the_same_attempt_after_the_login(
    scrape_ns: Kubectl, fake_platform: Platform
) -> None:
    kube, profile = scrape_ns, "bob"
    session = hitl_session_name(profile, HTTP_PLATFORM)
    # Cookies that have not expired (admitted), but the platform has revoked them.
    store_cookies(kube, HTTP_PLATFORM, profile, EXPIRED_SESSION)
    kube.apply(mediajob("logout", "scrape_profile", HTTP_PLATFORM, profile))
    waiting = in_phase(kube, "mediajob", "logout", "WaitingForHuman", RUN_TIMEOUT)
    assert waiting["hitlSession"] == session and waiting["attempts"] == 1, waiting
    assert "failures" not in waiting
    assert exit_codes(kube, "logout") == [3]  # the real scraper found the login wall
    wait_for(
        "the session to list the job",
        lambda: status(kube, "hitl", session).get("waitingJobs") == ["logout"] or None,
    )

    store_cookies(kube, HTTP_PLATFORM, profile)
    resolve(kube, session)
    kube.run("wait", "--for=condition=Resolved", f"--timeout={WAIT_LONG:.0f}s", f"hitl/{session}")
    data = succeeded(kube, "logout")
    assert data["metrics"]["followers"] == 12345
    final = status(kube, "mediajob", "logout")
    # No retry spent and attempts unchanged: attempt 1 went on as a second run (Job).
    assert (final["attempts"], final["runs"]) == (1, 2) and "failures" not in final, final
    jobs = sorted(jobs_of(kube, "logout"), key=created)
    assert [j["metadata"]["labels"]["mediajobs.dev/attempt"] for j in jobs] == ["1", "1"]
    assert [j["metadata"]["labels"]["mediajobs.dev/run"] for j in jobs] == ["1", "2"]
    assert exit_codes(kube, "logout") == [3, 0]
    reads = fake_platform.seen(f"/u/{profile}")
    assert [r.cookie for r in reads] == [f"sid={EXPIRED_SESSION}", f"sid={COOKIE}"]
    assert_cookie_never_said(kube, ["logout"])


def test_a_429_is_waited_out_for_its_retry_after_with_no_retry_spent(
    scrape_ns: Kubectl, fake_platform: Platform
) -> None:
    kube, profile = scrape_ns, "carol"
    store_cookies(kube, HTTP_PLATFORM, profile)
    fake_platform.limit(f"/u/{profile}", times=1, retry_after=RETRY_AFTER)
    kube.apply(mediajob("limited", "scrape_profile", HTTP_PLATFORM, profile))
    waiting = in_phase(kube, "mediajob", "limited", "BackingOff", RUN_TIMEOUT)
    assert waiting["rateLimitedWaits"] == 1 and "failures" not in waiting, waiting
    admitted = next(c for c in waiting["conditions"] if c["type"] == "Admitted")
    assert admitted["reason"] == "RateLimited"
    assert f"retry after {RETRY_AFTER}s as the platform asked" in admitted["message"]
    data = succeeded(kube, "limited")
    assert data["metrics"]["followers"] == 12345
    final = status(kube, "mediajob", "limited")
    assert (final["attempts"], final["rateLimitedWaits"]) == (2, 1) and "failures" not in final
    assert exit_codes(kube, "limited") == [75, 0]
    first, second = fake_platform.seen(f"/u/{profile}")
    assert second.at - first.at >= RETRY_AFTER  # not the generic backoff's 120 s either
    assert second.at - first.at < 120
    assert_cookie_never_said(kube, ["limited"])


def test_a_cancelled_login_fails_the_scrape_waiting_on_it(
    scrape_ns: Kubectl, fake_platform: Platform
) -> None:
    kube, profile = scrape_ns, "dave"
    session = hitl_session_name(profile, HTTP_PLATFORM)
    kube.apply(mediajob("unloved", "scrape_profile", HTTP_PLATFORM, profile))
    in_phase(kube, "mediajob", "unloved", "WaitingForHuman", WAIT_LONG)
    in_phase(kube, "hitl", session, "Pending", WAIT_LONG)
    kube.run("patch", "hitl", session, "--type=merge", "-p", '{"spec": {"cancel": true}}')
    failed = in_phase(kube, "mediajob", "unloved", "Failed", WAIT_LONG)
    reason = next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"]
    assert reason == "HitlCancelled"
    assert status(kube, "hitl", session)["phase"] == "Cancelled"
    assert jobs_of(kube, "unloved") == [] and fake_platform.seen(f"/u/{profile}") == []
