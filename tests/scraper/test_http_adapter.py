"""`mediajobs scrape` through the http adapter, against the fake platform on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.scraper.conftest import REPO_OPERATOR, Scrape, cookies_json, http_platform
from tests.scraper.fake_platform import EXPIRED_SESSION, SESSION, Platform

OK, INVALID, LOGIN_REQUIRED, TEMPORARY = 0, 2, 3, 75


def test_scrape_profile_reads_json_ld_open_graph_and_selectors(
    scrape: Scrape, platform: Platform
) -> None:
    before = len(platform.seen("/u/alice"))
    run = scrape("scrape_profile", http_platform(platform.base), params={"maxPosts": 2})
    assert run.code == OK
    assert run.data == {
        "platform": "fakeplace",
        "profile": "alice",
        "metrics": {"followers": 12345, "posts": 3, "followersShown": 12300},
        "meta": {
            "name": "Alice",
            "identifier": "alice",
            "og:title": "alice on Fakeplace",
            "og:url": f"{platform.base}/u/alice",
        },
        "posts": ["p1", "p2"],
    }
    [seen] = platform.seen("/u/alice")[before:]
    assert seen.cookie == f"sid={SESSION}"  # the session went to its own host


def test_scrape_post_performance_reads_the_profiles_posts(
    scrape: Scrape, platform: Platform
) -> None:
    run = scrape("scrape_post_performance", http_platform(platform.base))
    posts = run.data["posts"]
    assert [p["id"] for p in posts] == ["p1", "p2", "p3"]
    assert posts[0]["metrics"] == {"likes": 42, "shares": 7, "comments": 5, "views": 1204}
    assert posts[0]["meta"]["og:url"] == f"{platform.base}/p/p1"
    assert posts[0]["meta"]["datePublished"] == "2026-11-30T12:00:00Z"


def test_scrape_post_performance_of_named_posts(scrape: Scrape, platform: Platform) -> None:
    before = len(platform.seen("/u/"))
    run = scrape("scrape_post_performance", http_platform(platform.base),
                 params={"postIds": ["x/../9", "y"], "maxPosts": 1})  # fmt: skip
    assert [p["id"] for p in run.data["posts"]] == ["x/../9"]
    assert platform.seen("/p/x%2F..%2F9")  # an id is one path segment, encoded
    assert len(platform.seen("/u/")) == before  # no profile read: the ids were given


def test_a_json_endpoint_mapped_to_metrics(scrape: Scrape, platform: Platform) -> None:
    profile = {"path": "/api/users/{profile}", "format": "json", "postLinks": "data.user.posts",
               "extract": {"fields": {"followers": "data.user.followers",
                                      "following": "data.user.following",
                                      "missing": "data.user.nothing"}}}  # fmt: skip
    run = scrape("scrape_profile", http_platform(platform.base, profile=profile))
    assert run.data["metrics"] == {"followers": 999, "following": 1100}
    assert run.data["posts"] == ["a1", "a2"]


def test_publish_post_uploads_the_media_with_caption_and_tags(
    scrape: Scrape, platform: Platform, media_root: Path
) -> None:
    clip = media_root / "out" / "clip.mp4"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(b"\0\0\0\x18ftypmp42" + bytes(range(256)) * 40)
    run = scrape(
        "publish_post",
        http_platform(platform.base),
        params={"caption": "New drop\nout now", "tags": ["bts", "summer"],
                "publishAt": "2026-12-24T18:00:00Z"},
        inputs=[{"path": "out/clip.mp4"}],
    )  # fmt: skip
    post_id = run.data["postId"]
    assert run.data == {
        "platform": "fakeplace",
        "profile": "alice",
        "postId": post_id,
        "url": f"{platform.base}/p/{post_id}",
        "media": "out/clip.mp4",
        "bytes": clip.stat().st_size,
    }
    upload = platform.uploads[int(post_id.removeprefix("post-")) - 1]
    assert upload["caption"] == ["New drop\nout now"]
    assert upload["tags"] == ["bts", "summer"]
    assert upload["publishAt"] == ["2026-12-24T18:00:00+00:00"]
    [media] = upload["media"]
    assert media == {"filename": "clip.mp4", "bytes": clip.stat().st_size,
                     "sha256": hashlib.sha256(clip.read_bytes()).hexdigest()}  # fmt: skip


def test_publish_post_refuses_media_outside_the_volume(scrape: Scrape, platform: Platform) -> None:
    run = scrape("publish_post", http_platform(platform.base), inputs=[{"path": "../secret"}])
    assert run.code == INVALID
    assert "inputs.0.path" in run.error


# ---------------------------------------------------------------- login walls


def test_a_redirect_to_the_login_page_is_login_required(scrape: Scrape, platform: Platform) -> None:
    logins = len(platform.seen("/login"))
    run = scrape("scrape_profile", http_platform(platform.base),
                 cookies=cookies_json(EXPIRED_SESSION))  # fmt: skip
    assert (run.code, run.error) == (
        LOGIN_REQUIRED,
        "login required: fakeplace redirected to its login page",
    )
    assert len(platform.seen("/login")) == logins  # not followed


def test_a_403_is_login_required(scrape: Scrape, platform: Platform) -> None:
    run = scrape("scrape_profile", http_platform(platform.base, profile={"path": "/forbidden/x"}))
    assert (run.code, run.error) == (
        LOGIN_REQUIRED,
        f"login required: fakeplace answered HTTP 403 ({platform.base}/forbidden/x)",
    )


def test_a_logged_out_marker_is_login_required(scrape: Scrape, platform: Platform) -> None:
    walled = http_platform(platform.base, profile={"path": "/walled/u/{profile}"})
    run = scrape("scrape_profile", walled)
    assert (run.code, run.error) == (
        LOGIN_REQUIRED,
        "login required: fakeplace's page says 'Log in to continue'",
    )


def test_expired_cookies_are_login_required_before_any_request(
    scrape: Scrape, platform: Platform
) -> None:
    before = len(platform.requests)
    run = scrape("scrape_profile", http_platform(platform.base),
                 cookies=cookies_json(expires=time.time() - 60))  # fmt: skip
    assert (run.code, run.error) == (
        LOGIN_REQUIRED,
        "login required: the platform session cannot be used: 1 cookie(s) have expired: 'sid'",
    )
    assert len(platform.requests) == before


def test_no_cookies_file_is_login_required(scrape: Scrape, platform: Platform) -> None:
    run = scrape("scrape_profile", http_platform(platform.base), cookies=None)
    assert (run.code, run.error) == (
        LOGIN_REQUIRED,
        "login required: the platform session cannot be used: the Secret or its cookies key is "
        "missing",
    )


# ---------------------------------------------------------------- 429 and Retry-After


def test_a_429_is_retried_after_its_retry_after(scrape: Scrape, platform: Platform) -> None:
    platform.limit("/u/bob", times=1, retry_after=1)
    run = scrape("scrape_profile", http_platform(platform.base), creatorProfile="bob")
    assert run.data["metrics"]["followers"] == 12345
    first, second = platform.seen("/u/bob")
    assert second.at - first.at >= 1.0  # the server's clock: the wait it asked for was kept


def test_a_long_retry_after_ends_the_attempt_with_it(scrape: Scrape, platform: Platform) -> None:
    platform.limit("/u/carol", times=1, retry_after=120)
    run = scrape("scrape_profile", http_platform(platform.base), creatorProfile="carol")
    assert run.code == TEMPORARY
    assert run.message.retry_after_seconds == 120
    assert run.error == (
        f"rate limited: fakeplace answered HTTP 429, Retry-After 120s ({platform.base}/u/carol)"
    )
    assert len(platform.seen("/u/carol")) == 1  # not waited for here: the operator waits


def test_429s_past_the_retries_end_the_attempt(scrape: Scrape, platform: Platform) -> None:
    platform.limit("/u/dave", times=5, retry_after=1)
    run = scrape("scrape_profile", http_platform(platform.base, maxRetries=1),
                 creatorProfile="dave")  # fmt: skip
    assert (run.code, run.message.retry_after_seconds) == (TEMPORARY, 1)
    first, second = platform.seen("/u/dave")
    assert second.at - first.at >= 1.0


# ---------------------------------------------------------------- refusals and secrets


def test_private_addresses_are_refused(scrape: Scrape, platform: Platform) -> None:
    before = len(platform.requests)
    run = scrape("scrape_profile", http_platform(platform.base), allowPrivateUrls=False)
    assert (run.code, run.error) == (
        INVALID,
        "request refused: 127.0.0.1 resolves to a private or local address (127.0.0.1)",
    )
    assert len(platform.requests) == before


def test_link_local_addresses_are_refused(scrape: Scrape) -> None:
    run = scrape("scrape_profile", http_platform("http://169.254.169.254/"),
                 allowPrivateUrls=False)  # fmt: skip
    assert run.code == INVALID
    assert "169.254.169.254 resolves to a private or local address" in run.error


def test_a_page_echoing_the_cookie_has_it_scrubbed(scrape: Scrape, platform: Platform) -> None:
    run = scrape("scrape_profile", http_platform(platform.base, profile={"path": "/echo"}))
    assert run.data["meta"]["og:description"] == "sid=<redacted>"


def test_an_unconfigured_platform_is_invalid(scrape: Scrape) -> None:
    run = scrape("scrape_profile", None)
    assert (run.code, run.error) == (
        INVALID,
        "platform fakeplace is not configured: add it to the operator config's platforms",
    )


def test_a_missing_post_is_invalid(scrape: Scrape, platform: Platform) -> None:
    run = scrape("scrape_profile", http_platform(platform.base, profile={"path": "/nope"}))
    assert (run.code, run.error) == (INVALID, f"fakeplace answered HTTP 404 ({platform.base}/nope)")


def test_sigterm_mid_request_ends_the_attempt_as_temporary(
    scrape: Scrape, platform: Platform
) -> None:
    def stop_once_asked(proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while not platform.seen("/slow") and proc.poll() is None:
            assert time.monotonic() < deadline, "the scraper never asked for the page"
            time.sleep(0.05)  # polling the server's record, not waiting for an outcome
        proc.send_signal(signal.SIGTERM)

    run = scrape("scrape_profile", http_platform(platform.base, profile={"path": "/slow"}),
                 on_start=stop_once_asked)  # fmt: skip
    assert (run.code, run.error) == (TEMPORARY, "stopped by SIGTERM before finishing")


def test_the_cli_runs_the_scraper(tmp_path: Path) -> None:
    """`mediajobs scrape` (the image's command) is this worker: no task is exit 2."""
    termination = tmp_path / "termination"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAJOB_")}
    env |= {"MEDIAJOB_TERMINATION_LOG": str(termination),
            "PYTHONPATH": str(REPO_OPERATOR)}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "mediajobs", "scrape"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == INVALID
    assert json.loads(termination.read_text()) == {
        "error": "no task: set MEDIAJOB_TASK or MEDIAJOB_TASK_FILE"
    }
