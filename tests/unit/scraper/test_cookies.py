"""The session's cookies: parsed as the operator checks them, sent only where they belong."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from mediajobs.scraper.cookies import (
    Cookie,
    browser_cookies,
    cookie_header,
    parse_cookies,
    secret_values,
)
from mediajobs.scraper.errors import LoginRequired
from mediajobs.scraper.scrub import Scrubber
from mediajobs.scraper.urls import page_url, render
from mediajobs.worker.errors import InvalidInput

NOW = datetime(2026, 12, 7, tzinfo=UTC)
BASE = "https://fan.example/"
JAR = [
    Cookie("host", "h-value"),
    Cookie("wide", "w-value", domain=".fan.example"),
    Cookie("api", "a-value", domain="api.fan.example", path="/v1"),
    Cookie("safe", "s-value", domain="fan.example", secure=True),
]


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("https://fan.example/u/a", "host=h-value; wide=w-value; safe=s-value"),
        ("http://fan.example/u/a", "host=h-value; wide=w-value"),
        # a cookie with a domain goes to its subdomains too (RFC 6265); host-only ones do not
        ("https://api.fan.example/v1/me", "wide=w-value; api=a-value; safe=s-value"),
        ("https://api.fan.example/v10", "wide=w-value; safe=s-value"),
        ("https://evilfan.example/", None),
        ("https://cdn.other.example/x.js", None),
    ],
)
def test_a_cookie_goes_only_where_it_belongs(url: str, header: str | None) -> None:
    assert cookie_header(JAR, url, BASE) == header


def test_parse_the_storage_state_or_a_list() -> None:
    state = {"cookies": [{"name": "sid", "value": "v1", "domain": ".fan.example",
                          "expires": -1, "httpOnly": True, "sameSite": "Lax"}]}  # fmt: skip
    [cookie] = parse_cookies(json.dumps(state).encode(), NOW)
    assert cookie == Cookie("sid", "v1", domain=".fan.example", http_only=True, same_site="Lax")
    [plain] = parse_cookies(b'[{"name": "a", "value": "b"}]', NOW)
    assert plain == Cookie("a", "b")
    assert browser_cookies([cookie, plain], BASE) == [
        {"name": "sid", "value": "v1", "domain": ".fan.example", "path": "/",
         "secure": False, "httpOnly": True, "sameSite": "Lax"},
        {"name": "a", "value": "b", "url": "https://fan.example", "secure": False,
         "httpOnly": False},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (None, "the Secret or its cookies key is missing"),
        (b"{", "the cookies are not JSON"),
        (b'[{"name": "sid", "value": "v", "expires": 100}]', "1 cookie(s) have expired: 'sid'"),
    ],
)
def test_unusable_cookies_mean_login_required(raw: bytes | None, why: str) -> None:
    with pytest.raises(LoginRequired) as raised:
        parse_cookies(raw, NOW)
    assert str(raised.value) == f"login required: the platform session cannot be used: {why}"
    assert raised.value.exit_code == 3


def test_scrubbing_removes_every_value_everywhere() -> None:
    scrub = Scrubber(secret_values([Cookie("a", "abcdefgh"), Cookie("b", "xy")]))
    assert scrub.data({"t": ["see abcdefgh"], "abcdefgh": 1}) == {
        "t": ["see <redacted>"],
        "<redacted>": 1,
    }
    assert scrub.message("failed: Cookie: a=abcdefgh; b=xy") == "failed: Cookie: <redacted>"


def test_templates_encode_url_values_whole() -> None:
    values = {"profile": "a b/../c?x", "caption": "Hi {there}"}
    assert page_url(BASE, "/u/{profile}", values) == "https://fan.example/u/a%20b%2F..%2Fc%3Fx"
    assert render("{caption}!", values, in_url=False) == "Hi {there}!"
    with pytest.raises(InvalidInput, match=r"\{postId\} has no value"):
        page_url(BASE, "/p/{postId}", values)
    with pytest.raises(InvalidInput, match="only http and https"):
        page_url(BASE, "file:///etc/passwd", values)
