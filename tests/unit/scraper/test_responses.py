"""What a platform's answer means, and how long a 429 asks us to wait."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mediajobs.api.platform import PlatformConfig
from mediajobs.scraper.errors import LoginRequired, RateLimited
from mediajobs.scraper.responses import check_answer, is_login_page, retry_after
from mediajobs.scraper.retry import with_retries
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, WorkerError

NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
PLATFORM = PlatformConfig.model_validate(
    {
        "baseUrl": "https://fan.example/app/",
        "login": {"url": "/login", "markers": ["Sign in"]},
        "maxRetries": 2,
        "maxRetryWaitSeconds": 30,
    }
)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("5", 5),
        ("0", 1),
        (" 120 ", 120),
        ("999999", 86400),
        ("Mon, 07 Dec 2026 12:00:30 GMT", 30),
        ("Mon, 07 Dec 2026 11:00:00 GMT", 1),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, seconds: int | None) -> None:
    assert retry_after(header, NOW) == seconds


@pytest.mark.parametrize(
    ("url", "login"),
    [
        ("https://fan.example/login", True),
        ("https://FAN.example/login/step2?next=/u/a", True),
        ("https://fan.example/loginhelp", False),
        ("https://other.example/login", False),
        ("https://fan.example/u/a", False),
    ],
)
def test_is_login_page(url: str, login: bool) -> None:
    assert is_login_page(PLATFORM, url) is login


def _check(status: int, body: str = "", header: str | None = None) -> None:
    check_answer("fan", PLATFORM, status=status, url="https://fan.example/u/a?token=s3cret",
                 body=body, retry_after_header=header, now=NOW)  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (401, "", LoginRequired, "login required: fan answered HTTP 401 (https://fan.example/u/a)"),
        (403, "", LoginRequired, "login required: fan answered HTTP 403 (https://fan.example/u/a)"),
        (200, "<h1>Sign in</h1>", LoginRequired, "login required: fan's page says 'Sign in'"),
        (503, "", TemporaryFailure, "fan answered HTTP 503 (https://fan.example/u/a)"),
        (404, "", InvalidInput, "fan answered HTTP 404 (https://fan.example/u/a)"),
    ],
)
def test_check_answer(status: int, body: str, kind: type[WorkerError], message: str) -> None:
    with pytest.raises(kind) as raised:
        _check(status, body)
    assert type(raised.value) is kind
    assert str(raised.value) == message


def test_a_429_carries_its_retry_after_and_a_200_passes() -> None:
    with pytest.raises(RateLimited) as raised:
        _check(429, header="7")
    assert raised.value.retry_after == 7
    assert raised.value.exit_code == 75
    _check(200, "<h1>Welcome</h1>")


def test_retries_wait_what_was_asked_and_stop_when_told() -> None:
    waits: list[float] = []
    answers: list[int | None] = [3, 4]

    def call() -> str:
        if answers:
            raise RateLimited("429", answers.pop(0))
        return "page"

    assert with_retries(call, PLATFORM, waits.append) == "page"
    assert waits == [3, 4]
    for asked in ([40], [None], [1, 1, 1]):  # too long; not said; one retry too many
        answers[:] = asked
        waits.clear()
        with pytest.raises(RateLimited):
            with_retries(call, PLATFORM, waits.append)
        assert len(waits) == (2 if asked == [1, 1, 1] else 0)
