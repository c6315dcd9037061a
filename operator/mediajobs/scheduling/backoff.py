"""Retry delays: exponential, capped (the reference systems: 2, 4, 8 minutes)."""

from __future__ import annotations

from mediajobs.api.mediajob import Backoff


def retry_delay(failures: int, backoff: Backoff) -> float:
    """Seconds to wait before the next attempt after FAILURES failed attempts (>= 1)."""
    if failures < 1:
        raise ValueError("retry_delay needs at least one failure")
    return float(min(backoff.seconds * backoff.factor ** (failures - 1), backoff.max_seconds))
