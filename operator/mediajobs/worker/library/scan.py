"""``scan`` and ``public_scan``: walk a directory, probe what is new or changed, index it.

Candidates are chosen by extension (:data:`VIDEO_SUFFIXES`; hidden files and
directories, the index's own among them, are skipped; a linked directory is
not entered); then the content decides: each file goes through the one door
every worker input takes (:func:`~mediajobs.worker.sources.open_source`:
sniffed signature, pinned demuxer, ffprobe with a pixel ceiling), so a
``.mp4`` that is really a PNG, a playlist or a truncated file is recorded as
invalid with the reason a person reads. Size and mtime decide whether a file
changed since its row was written (``skipExisting``).

Probing happens without the index's lock; only the merge of the rows into
the index as it is then takes it (:func:`~mediajobs.worker.library.index.update`),
so two scans at once each finish, and the counts compare with the index the
rows went into.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mediajobs.api.mediajob import JobResult
from mediajobs.catalog import library_params as lp
from mediajobs.catalog.library_params import Orientation
from mediajobs.worker.argv import Source
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.inputs import inside, media_file, relative_path
from mediajobs.worker.library.diff import merge, same_file
from mediajobs.worker.library.index import INDEX_DIR, INDEX_NAME, Row, read_rows, update
from mediajobs.worker.operations import VIDEOS, Job
from mediajobs.worker.sources import open_source

VIDEO_SUFFIXES = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".m2ts"}
)
PUBLIC_DIRECTORY = "public"  # the public gallery, relative to the media root
# ffprobe processes at once: each mostly waits on its start and the disk, so a few in
# parallel scan several times faster even on one CPU (bench/library.py).
PROBES_AT_ONCE = 4
LISTED_INVALID = 20  # invalid files named in the result (the index holds them all)
_UNKNOWN_CODECS = (None, "none", "unknown")


def orientation(width: int, height: int) -> Orientation:
    if width == height:
        return Orientation.SQUARE
    return Orientation.LANDSCAPE if width > height else Orientation.PORTRAIT


def playable(source: Source) -> None:
    """Refuse what opens but is no usable video: no picture, an unknown codec, no length."""
    video = source.probe.video
    if video is None:
        raise InvalidInput("no video stream")
    if video.codec_name in _UNKNOWN_CODECS:
        raise InvalidInput("unsupported codec")
    if not source.probe.media_duration:
        raise InvalidInput("no duration (empty or not a video)")


def row_of(rel: str, stat: os.stat_result, source: Source) -> Row:
    """The index row of a file that opened as a playable video."""
    video, sound = source.video, source.probe.audio
    width, height = video.display_width, video.display_height
    return Row(
        path=rel,
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        valid=True,
        container=source.container.label,
        duration=source.probe.media_duration,
        width=width,
        height=height,
        orientation=orientation(width, height),
        video_codec=video.codec_name,
        audio_codec=sound.codec_name if sound else None,
        audio=sound is not None,
    )


def record(root: Path, rel: str, limit: int) -> Row | None:
    """REL's row: probed through open_source, or invalid with the reason; None once gone."""
    named = root / rel
    try:
        path = media_file(root, rel)  # a link leading out of the volume is refused here
        stat = path.stat()
        if stat.st_size == 0:
            raise InvalidInput("empty (0 bytes)")
        source = open_source(path, VIDEOS, "scan", limit)
        playable(source)
    except InvalidInput as err:
        try:
            stat = named.lstat()
        except FileNotFoundError:
            return None  # removed while the scan ran
        return Row(
            path=rel, size=stat.st_size, mtime_ns=stat.st_mtime_ns, valid=False, reason=str(err)
        )
    return row_of(rel, stat, source)


def _directory(root: Path, text: str) -> tuple[Path, str]:
    """The directory TEXT names, resolved and confined, and its path in the index."""
    try:
        base = (root / relative_path(text)).resolve(strict=True)
    except (OSError, RuntimeError) as err:
        raise InvalidInput(f"directory not found: {text}") from err
    if not inside(root, base):
        raise InvalidInput(f"directory escapes the media volume: {text}")
    if not base.is_dir():
        raise InvalidInput(f"not a directory: {text}")
    rel = base.relative_to(root).as_posix()
    return base, "" if rel == "." else rel


def candidates(root: Path, base: Path) -> list[str]:
    """Video files under BASE by extension, as index paths, sorted; hidden names skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(base):  # linked directories are not entered
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in VIDEO_SUFFIXES:
                found.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(found)


def _unchanged(root: Path, old: Row | None) -> bool:
    """Whether OLD's file has the size and mtime it had when OLD was probed."""
    if old is None:
        return False
    try:
        stat = (root / old.path).stat()
    except OSError:
        return False
    return same_file(old, stat.st_size, stat.st_mtime_ns)


def _rows(job: Job, paths: list[str], skip_existing: bool) -> tuple[list[Row], int]:
    """Every path's row (probed, or the known one when unchanged) and how many were probed."""
    known = read_rows(job.root)
    kept = {p: known[p] for p in paths if skip_existing and _unchanged(job.root, known.get(p))}
    todo = [p for p in paths if p not in kept]
    fresh: dict[str, Row | None] = {}
    with ThreadPoolExecutor(PROBES_AT_ONCE) as pool:
        probed = pool.map(lambda path: record(job.root, path, job.limit), todo)
        for path, row in zip(todo, probed, strict=True):
            fresh[path] = row
            job.report((len(kept) + len(fresh)) * 100 // len(paths))
    rows = [kept.get(p) or fresh.get(p) for p in paths]
    return [row for row in rows if row is not None], len(todo)


def scan_directory(job: Job, directory: str, skip_existing: bool) -> JobResult:
    root = job.root
    base, rel = _directory(root, directory)
    seen, probed = _rows(job, candidates(root, base), skip_existing)
    counts = update(root, lambda current: merge(current, rel, seen))
    invalid = [{"path": r.path, "reason": r.reason} for r in seen if not r.valid]
    data: dict[str, Any] = {
        "directory": rel or ".",
        "index": f"{INDEX_DIR}/{INDEX_NAME}",
        **counts.data(),
        "probed": probed,
        "invalidFiles": invalid[:LISTED_INVALID],
    }
    return JobResult(data=data)


def scan(job: Job, params: lp.ScanParams) -> JobResult:
    return scan_directory(job, params.directory, params.skip_existing)


def public_scan(job: Job, params: lp.PublicScanParams) -> JobResult:
    return scan_directory(job, PUBLIC_DIRECTORY, params.skip_existing)
