"""The library index: one JSON line per video, kept on the media volume by the workers.

Where: ``<media root>/.mediajobs/library.jsonl`` (a hidden directory: scans skip
it). The first line is a header (``{"mediajobsLibrary": 1}``), then one
:class:`Row` per file, sorted by path, so a person can read it with ``less``
or ``mediajobs library list`` and a diff of two versions reads naturally.

Why JSON lines and not SQLite: the media volume is often NFS or SMB, where
SQLite's WAL mode is unsafe (it needs shared memory) and its rollback journal
relies on POSIX byte-range locks that many network file systems break. So:

- **Readers never lock.** The file is only ever replaced whole: a writer
  writes a temporary sibling, fsyncs it, ``os.replace``s it over the index and
  fsyncs the directory. ``rename`` is atomic on local file systems and on NFS,
  so a reader sees the old index or the new one, never half of one; a crash
  leaves at most a temporary file, removed later.
- **Writers take a lock file** created with ``O_CREAT | O_EXCL`` (atomic on
  NFSv3+ and on local file systems) holding a random token. The lock covers
  only read-merge-write (a scan probes its files before taking it), so it is
  held for well under a second; one older than ``STALE_S`` is a crashed
  writer's. Breaking it renames it aside and checks that the renamed file is
  the stale one read before (if another writer took the lock in between, it is
  put back), and a writer checks that it still holds its token just before
  replacing the index: two writers never both replace it from one base.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from mediajobs.api.common import ApiModel
from mediajobs.catalog.library_params import Orientation
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, from_os_error

INDEX_DIR = ".mediajobs"
INDEX_NAME = "library.jsonl"
LOCK_NAME = "library.lock"
HEADER = {"mediajobsLibrary": 1}
STALE_S = 60.0  # a lock (or temporary file) this old was left by a writer that died
WAIT_S = 120.0  # how long a writer waits for the lock before giving up (retried later)
POLL_S = 0.05

T = TypeVar("T")


class Row(ApiModel):
    """One file of the library, as the last scan (or move) saw it."""

    path: str  # relative to the media root, POSIX separators
    size: int
    mtime_ns: int  # with size, decides whether a file changed since it was probed
    valid: bool
    reason: str | None = None  # why not valid, for a person
    container: str | None = None
    duration: float | None = None
    width: int | None = None  # as displayed (rotation metadata applied)
    height: int | None = None
    orientation: Orientation | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio: bool = False


Rows = dict[str, Row]


def index_path(root: Path) -> Path:
    return root / INDEX_DIR / INDEX_NAME


def parse(text: str, where: str) -> Rows:
    """The index file's TEXT as rows by path; InvalidInput naming the line if it is damaged."""
    lines = text.splitlines()
    if not lines:
        return {}
    try:
        header = json.loads(lines[0])
    except ValueError:
        header = None
    if header != HEADER:
        raise InvalidInput(f"{where} is not a mediajobs library index (first line {lines[0]!r})")
    rows: Rows = {}
    for number, line in enumerate(lines[1:], start=2):
        try:
            row = Row.model_validate_json(line)
        except ValidationError as err:
            raise InvalidInput(
                f"{where} line {number} is damaged ({err.errors()[0]['msg']}): remove the file "
                "and scan again"
            ) from err
        rows[row.path] = row
    return rows


def render(rows: Rows) -> str:
    """ROWS as the index file's text: the header, then one line per row by path."""
    lines = [json.dumps(HEADER)]
    lines += [json.dumps(rows[path].wire(), separators=(",", ":")) for path in sorted(rows)]
    return "\n".join(lines) + "\n"


def read_rows(root: Path) -> Rows:
    """The index as it is now (empty when there is none): no lock needed."""
    path = index_path(root)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as err:
        raise from_os_error(err, "reading the library index") from err
    return parse(text, f"{INDEX_DIR}/{INDEX_NAME}")


def update(root: Path, change: Callable[[Rows], tuple[Rows, T]]) -> T:
    """Apply CHANGE to the index under the lock and replace it atomically; CHANGE's answer.

    CHANGE gets the current rows and returns the new rows and what to report.
    """
    directory = root / INDEX_DIR
    try:
        directory.mkdir(exist_ok=True)
        with _locked(directory) as still_ours:
            rows, answer = change(read_rows(root))
            _replace(directory, render(rows), still_ours)
            return answer
    except OSError as err:
        raise from_os_error(err, "writing the library index") from err


# ---------------------------------------------------------------- the lock and the write


def _replace(directory: Path, text: str, still_ours: Callable[[], bool]) -> None:
    temp = directory / f"{INDEX_NAME}.tmp-{secrets.token_hex(6)}"
    try:
        with temp.open("w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        if not still_ours():
            raise TemporaryFailure("the library index lock was taken over: try again")
        temp.replace(directory / INDEX_NAME)
    finally:
        temp.unlink(missing_ok=True)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (where the file system allows a directory fsync)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _break_if_stale(lock: Path) -> None:
    """Remove LOCK when its holder has not touched it for STALE_S (it died)."""
    try:
        age = time.time() - lock.stat().st_mtime
    except FileNotFoundError:
        return
    seen = _read(lock)
    if age < STALE_S or seen is None:
        return
    aside = lock.with_name(f"{LOCK_NAME}.stale-{secrets.token_hex(6)}")
    try:
        lock.rename(aside)
    except FileNotFoundError:
        return  # another writer broke it first
    if _read(aside) != seen:  # a live writer's fresh lock: give it back, never overwriting
        with contextlib.suppress(FileExistsError):
            os.link(aside, lock)
    aside.unlink(missing_ok=True)


def _remove_leftovers(directory: Path) -> None:
    """Temporary files and broken locks of writers that died, once they are stale."""
    for leftover in [*directory.glob(f"{INDEX_NAME}.tmp-*"), *directory.glob(f"{LOCK_NAME}.*")]:
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > STALE_S:
                leftover.unlink()


@contextmanager
def _locked(directory: Path) -> Iterator[Callable[[], bool]]:
    """Hold the index's lock file; yields a check that the lock is still this writer's."""
    lock = directory / LOCK_NAME
    token = f"{socket.gethostname()} {os.getpid()} {secrets.token_hex(8)}\n"
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            _break_if_stale(lock)
            if time.monotonic() > deadline:
                holder = (_read(lock) or "another writer").strip()
                raise TemporaryFailure(
                    f"the library index stayed locked for {WAIT_S:.0f} s (by {holder})"
                ) from None
            time.sleep(POLL_S)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(token)
        break
    try:
        _remove_leftovers(directory)
        yield lambda: _read(lock) == token
    finally:
        if _read(lock) == token:
            lock.unlink(missing_ok=True)
