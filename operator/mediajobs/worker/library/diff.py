"""What a scan changes in the index: pure functions over rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mediajobs.worker.library.index import Row, Rows


def under(path: str, directory: str) -> bool:
    """Whether the index PATH lies in DIRECTORY ("" is the whole media volume)."""
    return not directory or path == directory or path.startswith(directory + "/")


def same_file(row: Row, size: int, mtime_ns: int) -> bool:
    """Size and mtime decide whether a file changed since ROW was probed."""
    return (row.size, row.mtime_ns) == (size, mtime_ns)


@dataclass(frozen=True)
class Counts:
    """What one scan found, against the index as it was when the scan's rows went in."""

    files: int
    new: int
    changed: int
    removed: int
    invalid: int

    def data(self) -> dict[str, int]:
        return {
            "files": self.files,
            "new": self.new,
            "changed": self.changed,
            "removed": self.removed,
            "invalid": self.invalid,
        }


def merge(current: Rows, directory: str, seen: Iterable[Row]) -> tuple[Rows, Counts]:
    """CURRENT with DIRECTORY's rows replaced by SEEN (every file a scan of it found)."""
    fresh = {row.path: row for row in seen}
    gone = [p for p in current if under(p, directory) and p not in fresh]
    new = [p for p in fresh if p not in current]
    changed = [
        p
        for p, r in fresh.items()
        if p in current and not same_file(current[p], r.size, r.mtime_ns)
    ]
    rows = {p: row for p, row in current.items() if p not in gone} | fresh
    counts = Counts(
        files=len(fresh),
        new=len(new),
        changed=len(changed),
        removed=len(gone),
        invalid=sum(not row.valid for row in fresh.values()),
    )
    return rows, counts
