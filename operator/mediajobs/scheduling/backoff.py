"""Retry delays: exponential, capped (the reference systems: 2, 4, 8 minutes).

A platform that answers HTTP 429 with Retry-After says when to come back: the
worker exits 75 with ``retryAfterSeconds`` and the next attempt waits exactly
that long, spending no retry (a polite wait should not fail a job that would
otherwise succeed), at most ``MAX_RATE_LIMITED_WAITS`` times per MediaJob; past
that a 429 is a failed attempt like any other, still waiting as long as asked.
"""

from __future__ import annotations

from mediajobs.api.mediajob import Backoff

MAX_RATE_LIMITED_WAITS = 5


def retry_delay(failures: int, backoff: Backoff, asked: int | None = None) -> float:
    """Seconds to wait before the next attempt after FAILURES failed attempts (>= 1);
    ASKED: the platform's Retry-After, waited at least."""
    if failures < 1:
        raise ValueError("retry_delay needs at least one failure")
    delay = min(backoff.seconds * backoff.factor ** (failures - 1), backoff.max_seconds)
    return float(max(delay, asked or 0))
