"""The sanitiser every status message passes through."""

from __future__ import annotations

import pytest

from mediajobs.jobs.messages import clean

HIDDEN = "s3cr3t-value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain words stay", "plain words stay"),
        ("two\nlines\r\n and\ttabs", "two lines and tabs"),
        (
            f"GET https://user:{HIDDEN}@cdn.example/a.mp4 failed",
            "GET https://<redacted>@cdn.example/a.mp4 failed",
        ),
        (
            f"403 on https://cdn.example/a.mp4?X-Amz-Signature={HIDDEN}&e=1#t=3",
            "403 on https://cdn.example/a.mp4?<redacted>#t=3",
        ),
        (f"rtmp://live:{HIDDEN}@ingest.example/app", "rtmp://<redacted>@ingest.example/app"),
        (f"Authorization: Bearer {HIDDEN}", "Authorization: <redacted>"),
        (f"authorization=Basic {HIDDEN} next", "authorization=<redacted> next"),
        (f"sent Cookie: sid={HIDDEN}; auth={HIDDEN} then", "sent Cookie: <redacted> then"),
        (f"set-cookie={HIDDEN}", "set-cookie=<redacted>"),
        (f"token={HIDDEN}&page=2", "token=<redacted>&page=2"),
        (f"access_token: {HIDDEN}", "access_token: <redacted>"),
        (f'{{"refreshToken": "{HIDDEN}", "n": 1}}', '{"refreshToken": <redacted>, "n": 1}'),
        (f"password='{HIDDEN}' user=bob", "password=<redacted> user=bob"),
        (f"API-KEY={HIDDEN}", "API-KEY=<redacted>"),
        (f"sessionid={HIDDEN};", "sessionid=<redacted>;"),
        (f"header bearer {HIDDEN}", "header bearer <redacted>"),
    ],
)
def test_clean(text: str, expected: str) -> None:
    assert clean(text) == expected
    assert HIDDEN not in clean(text)


def test_clean_is_idempotent() -> None:
    text = f"https://u:{HIDDEN}@x.example/?a=1 token={HIDDEN} Cookie: a=b"
    assert clean(clean(text)) == clean(text)


@pytest.mark.parametrize("limit", [10, 1024])
def test_clean_truncates(limit: int) -> None:
    out = clean("x" * 5000, limit)
    assert len(out) == limit and out.endswith("…")


def test_short_text_is_not_truncated() -> None:
    assert clean("x" * 1024) == "x" * 1024
