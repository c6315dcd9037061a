"""When a progress value is worth publishing.

The operator turns each published event into (at most) one status write, so
the worker publishes a new value only when a second has passed since the last
publish or the value moved by ``min_step`` points; 100 is always published.
The clock is the caller's: ``due`` takes ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Throttle:
    min_interval: float = 1.0  # seconds
    min_step: int = 5  # percentage points
    last_value: int | None = None
    last_at: float | None = None

    def due(self, progress: int, now: float) -> bool:
        """Whether to publish PROGRESS at NOW; a True answer is recorded as published."""
        publish = self._due(progress, now)
        if publish:
            self.last_value, self.last_at = progress, now
        return publish

    def _due(self, progress: int, now: float) -> bool:
        if self.last_value is None or self.last_at is None:
            return True
        if progress <= self.last_value:
            return False
        return (
            progress >= 100
            or progress - self.last_value >= self.min_step
            or now - self.last_at >= self.min_interval
        )
