"""``mediajobs library list DIR``: the index as a table a person reads."""

from __future__ import annotations

from pathlib import Path

from mediajobs.worker.library.diff import under
from mediajobs.worker.library.index import Row, Rows, index_path, read_rows


def find_root(directory: Path) -> Path | None:
    """The media root whose index covers DIRECTORY: DIRECTORY or its nearest ancestor with one."""
    start = directory.resolve()
    return next((d for d in (start, *start.parents) if index_path(d).is_file()), None)


def _cells(row: Row) -> list[str]:
    if not row.valid:
        return [row.path, "-", "-", "-", "-", f"INVALID: {row.reason}"]
    size = f"{row.width}x{row.height}"
    codecs = f"{row.video_codec}+{row.audio_codec}" if row.audio else f"{row.video_codec} (silent)"
    orientation = row.orientation.value if row.orientation else "-"
    return [row.path, f"{row.duration or 0:.2f}s", size, orientation, codecs, "ok"]


def table(rows: Rows, directory: str = "") -> list[str]:
    """The rows under DIRECTORY as aligned lines, with a header and a count."""
    chosen = [rows[p] for p in sorted(rows) if under(p, directory)]
    lines = [["PATH", "DURATION", "SIZE", "ORIENTATION", "CODECS", "STATUS"]]
    lines += [_cells(row) for row in chosen]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]) - 1)]
    out = ["  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]])
           for line in lines]  # fmt: skip
    invalid = sum(not row.valid for row in chosen)
    return [*out, f"{len(chosen)} files, {invalid} invalid"]


def list_directory(directory: Path) -> list[str]:
    """The table for DIRECTORY; a line saying so when no index covers it."""
    root = find_root(directory)
    if root is None:
        return [f"{directory}: no library index here or above (run a scan first)"]
    rel = directory.resolve().relative_to(root).as_posix()
    return table(read_rows(root), "" if rel == "." else rel)
