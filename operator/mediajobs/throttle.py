"""The one throttle: a token bucket per key, the clock passed in.

Everything the operator and the worker hold back goes through it: the worker's
progress publishes, the operator's progress and queue-position writes (each
job's and all of them together) and the loop's scans for those writes. It
answers "may I now?" and "when may I?", so a loop can sleep until then instead
of polling.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class RateLimit(Generic[K]):
    """RATE events per second per key, BURST at most at once (a token bucket)."""

    rate: float
    burst: float = 1.0
    _buckets: dict[K, tuple[float, float]] = field(default_factory=dict)  # key -> (tokens, at)

    def _tokens(self, key: K, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + max(0.0, now - at) * self.rate)

    def ready_at(self, key: K, now: float) -> float:
        """When KEY has a whole token (NOW if it has one)."""
        return now + max(0.0, 1.0 - self._tokens(key, now)) / self.rate

    def take(self, key: K, now: float) -> bool:
        """Spend one of KEY's tokens if it has one."""
        tokens = self._tokens(key, now)
        if tokens < 1.0:
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True

    def spend(self, key: K, now: float) -> None:
        """Spend a token whether KEY has one or not (an event that may not wait)."""
        self._buckets[key] = (max(0.0, self._tokens(key, now) - 1.0), now)

    def forget(self, key: K) -> None:
        self._buckets.pop(key, None)

    def copy(self) -> RateLimit[K]:
        """An independent bucket state (to try spending on, as an admission pass does)."""
        return RateLimit(self.rate, self.burst, dict(self._buckets))


@dataclass
class Throttle:
    """When a progress value is worth publishing: a second after the last publish, or
    ``min_step`` points above it; 100 always. Each publish becomes (at most) one
    status write in the operator."""

    min_interval: float = 1.0  # seconds
    min_step: int = 5  # percentage points
    last_value: int | None = None
    _limit: RateLimit[None] = field(init=False)

    def __post_init__(self) -> None:
        self._limit = RateLimit(rate=1.0 / self.min_interval)

    def due(self, progress: int, now: float) -> bool:
        """Whether to publish PROGRESS at NOW; a True answer is recorded as published."""
        if self.last_value is not None and progress <= self.last_value:
            return False
        last = self.last_value
        if last is None or progress >= 100 or progress - last >= self.min_step:
            self._limit.spend(None, now)
        elif not self._limit.take(None, now):
            return False
        self.last_value = progress
        return True
