"""Which videos of the index a compilation joins: pure, reproducible from a seed."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from mediajobs.catalog.library_params import Orientation
from mediajobs.worker.library.diff import under
from mediajobs.worker.library.index import Row


@dataclass(frozen=True)
class Criteria:
    """What a chosen video must be (None: anything)."""

    min_duration: float | None = None
    max_duration: float | None = None
    orientation: Orientation | None = None
    directory: str | None = None  # relative to the media root

    def matches(self, row: Row) -> bool:
        duration = row.duration or 0.0
        return (
            row.valid
            and duration > 0
            and (self.min_duration is None or duration >= self.min_duration)
            and (self.max_duration is None or duration <= self.max_duration)
            and (self.orientation is None or row.orientation is self.orientation)
            and (self.directory is None or under(row.path, self.directory.strip("/")))
        )

    def describe(self) -> str:
        said = [
            *([f"at least {self.min_duration:g} s"] if self.min_duration is not None else []),
            *([f"at most {self.max_duration:g} s"] if self.max_duration is not None else []),
            *([self.orientation.value] if self.orientation is not None else []),
            *([f"under {self.directory}"] if self.directory is not None else []),
        ]
        return ", ".join(said) or "any valid video"


def choose(rows: Iterable[Row], criteria: Criteria, count: int, seed: int) -> list[Row]:
    """COUNT rows matching CRITERIA (all of them when fewer match), drawn with SEED.

    The candidates are sorted by path first, so the draw depends only on the
    index's content and the seed, never on the order rows were read in.
    """
    candidates = sorted((r for r in rows if criteria.matches(r)), key=lambda r: r.path)
    draw = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    return draw.sample(candidates, min(count, len(candidates)))
