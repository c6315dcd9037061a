"""Progress on the real Redis stream: 0 → 100, monotonic, the result last; no Redis, no harm."""

from __future__ import annotations

import time
from typing import cast

import redis

from mediajobs.api.mediajob import JobResult
from mediajobs.progress.wire import ProgressEvent, decode
from tests.localcluster import free_port
from tests.worker.conftest import Work

STREAM = "mediajobs:progress:worker-tests"


def events(redis_url: str, uid: str) -> list[ProgressEvent]:
    client = redis.Redis.from_url(redis_url)
    try:
        entries = client.xrange(STREAM)
    finally:
        client.close()
    typed = cast(list[tuple[bytes, dict[bytes, bytes]]], entries)
    decoded = [decode(fields) for _, fields in typed]
    return [e for e in decoded if e.uid == uid]


def test_progress_goes_from_0_to_100_on_the_stream(work: Work, redis_url: str) -> None:
    started = time.monotonic()
    outcome = work(
        "create_teaser",
        "in/long.mp4",
        params={"duration": 6, "preset": "veryslow"},
        progress={"redisUrl": redis_url, "stream": STREAM},
        attempt=2,
    )
    took = time.monotonic() - started
    result = outcome.result
    seen = events(redis_url, outcome.task["uid"])
    values = [e.progress for e in seen]
    assert values[0] == 0 and values[-1] == 100
    assert values == sorted(values)  # monotonic
    assert len(values) == len(set(values))  # the throttle never repeats a value
    if took > 1.5:  # FFmpeg writes a progress block every 0.5 s: a longer run shows some
        assert any(0 < v < 100 for v in values)
    assert all(e.result is None for e in seen[:-1])
    final = seen[-1]
    assert final.result is not None and JobResult.model_validate(final.result) == result
    assert (final.namespace, final.name, final.attempt) == ("worker-tests", outcome.task["name"], 2)
    stamps = [e.at for e in seen]
    assert stamps == sorted(stamps)


def test_no_redis_configured(work: Work) -> None:
    assert work("thumbnail_generate", "in/clip.mp4").code == 0


def test_redis_down_never_fails_the_job_nor_holds_it_up(work: Work) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    started = time.monotonic()
    outcome = work("thumbnail_generate", "in/clip.mp4", progress={"redisUrl": closed})
    assert outcome.code == 0
    assert time.monotonic() - started < 5  # refused connections cost nothing like a timeout


def test_unusable_redis_url_never_fails_the_job(work: Work) -> None:
    outcome = work("thumbnail_generate", "in/clip.mp4", progress={"redisUrl": "nosuch://x"})
    assert outcome.code == 0
