"""`mediajobs scrape` through the browser adapter: Debian's Chromium (/usr/bin/chromium)
driven by Playwright, against the fake platform on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from tests.scraper.conftest import (
    JS_PROFILE,
    Scrape,
    browser_platform,
    cookies_json,
    http_platform,
)
from tests.scraper.fake_platform import EXPIRED_SESSION, Platform

OK, INVALID, LOGIN_REQUIRED = 0, 2, 3


def test_a_page_rendered_by_javascript(scrape: Scrape, platform: Platform) -> None:
    run = scrape("scrape_profile", browser_platform(platform.base))
    assert run.data["metrics"] == {"followers": 777, "likes": 1500}
    assert run.data["posts"] == ["j1", "j2"]
    # The same page over plain HTTP has none of it: only a browser sees these facts.
    page = {key: value for key, value in JS_PROFILE.items() if key != "steps"}
    plain = scrape("scrape_profile", http_platform(platform.base, profile=page))
    assert (plain.data["metrics"], plain.data["posts"]) == ({}, [])


def test_the_browser_honours_retry_after(scrape: Scrape, platform: Platform) -> None:
    platform.limit("/js/u/erin", times=1, retry_after=1)
    run = scrape("scrape_profile", browser_platform(platform.base), creatorProfile="erin")
    assert run.data["metrics"]["followers"] == 777
    first, second = platform.seen("/js/u/erin")
    assert second.at - first.at >= 1.0


def test_the_browser_sees_the_login_page(scrape: Scrape, platform: Platform) -> None:
    run = scrape("scrape_profile", browser_platform(platform.base),
                 cookies=cookies_json(EXPIRED_SESSION))  # fmt: skip
    assert (run.code, run.error) == (
        LOGIN_REQUIRED,
        "login required: fakeplace sent the job to its login page",
    )


def test_the_browser_refuses_private_addresses(scrape: Scrape, platform: Platform) -> None:
    before = len(platform.requests)
    run = scrape("scrape_profile", browser_platform(platform.base), allowPrivateUrls=False)
    assert (run.code, run.error) == (
        INVALID,
        "request refused: 127.0.0.1 resolves to a private or local address (127.0.0.1)",
    )
    assert len(platform.requests) == before


def test_publish_through_the_upload_form(
    scrape: Scrape, platform: Platform, media_root: Path
) -> None:
    (media_root / "teaser.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + b"x" * 5000)
    upload = {
        "path": "/upload",
        "result": {"selectors": {"postId": "#post-id", "url": "a.permalink@href"}},
        "steps": [
            {"goto": "/upload"},
            {"upload": "#media"},
            {"fill": {"#caption": "{caption} {tags}"}},
            {"click": "#send"},
            {"waitFor": "#post-id"},
            {"extract": True},
        ],
    }
    run = scrape("publish_post", browser_platform(platform.base, upload=upload),
                 params={"caption": "Behind the scenes", "tags": ["bts"]},
                 inputs=[{"path": "teaser.mp4"}])  # fmt: skip
    post_id = run.data["postId"]
    assert run.data["url"] == f"{platform.base}/p/{post_id}"
    fields = platform.uploads[int(post_id.removeprefix("post-")) - 1]
    assert fields["caption"] == ["Behind the scenes bts"]
    assert fields["media"][0]["filename"] == "teaser.mp4"
    assert fields["media"][0]["bytes"] == 5012
