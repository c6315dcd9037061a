"""RateLimit: the token bucket behind every throttle (the clock passed in)."""

from __future__ import annotations

from mediajobs.throttle import RateLimit


def test_a_burst_then_the_rate() -> None:
    limit: RateLimit[None] = RateLimit(rate=2.0, burst=3.0)
    assert [limit.take(None, 0.0) for _ in range(4)] == [True, True, True, False]
    assert limit.ready_at(None, 0.0) == 0.5
    assert not limit.take(None, 0.4)
    assert limit.take(None, 0.5)


def test_keys_are_limited_apart_and_forgotten() -> None:
    limit: RateLimit[str] = RateLimit(rate=0.1)
    assert limit.take("a", 0.0)
    assert not limit.take("a", 5.0)
    assert limit.take("b", 5.0)
    assert limit.ready_at("a", 5.0) == 10.0
    limit.forget("a")
    assert limit.take("a", 5.0)


def test_spend_never_waits_and_never_goes_below_empty() -> None:
    limit: RateLimit[None] = RateLimit(rate=1.0)
    limit.spend(None, 0.0)
    limit.spend(None, 0.0)
    assert limit.ready_at(None, 0.0) == 1.0
