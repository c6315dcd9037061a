"""``move_to_library``: a file moves from the inbox into a library directory, atomically.

The input was opened like every input (sniffed, probed) before the handler
runs, so only a real video moves. The move is ``link`` then ``unlink`` on the
same volume: ``link`` fails when the target name exists, so nothing is ever
overwritten (``rename`` would replace it silently), and works on NFS, where
``renameat2(RENAME_NOREPLACE)`` does not. A crash between the two leaves both
names on one file; the retry sees the target is that same file and finishes
the move. The index then loses the old path and gains the new one.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path, PurePosixPath

from mediajobs.api.mediajob import JobResult
from mediajobs.catalog import library_params as lp
from mediajobs.worker.errors import InvalidInput, from_os_error
from mediajobs.worker.inputs import relative_path
from mediajobs.worker.library.index import Rows, update
from mediajobs.worker.library.scan import row_of
from mediajobs.worker.operations import Job
from mediajobs.worker.outputs import describe, make_dirs


def link_then_unlink(source: Path, target: Path, shown: str) -> None:
    """Move SOURCE to TARGET on one file system, never replacing an existing TARGET."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        if not source.samefile(target):
            raise InvalidInput(f"{shown} exists: move_to_library never overwrites") from None
    except OSError as err:
        if err.errno == errno.EXDEV:
            raise InvalidInput(f"{shown} is on another file system than the input") from err
        raise from_os_error(err, "moving the input") from err
    try:
        source.unlink()
    except OSError as err:
        raise from_os_error(err, "removing the input's old name") from err


def move_to_library(job: Job, params: lp.MoveToLibraryParams) -> JobResult:
    ref = job.task.inputs[0]
    if ref.path is None:
        raise InvalidInput("move_to_library moves a file on the media volume, not a URL")
    if (job.root / relative_path(ref.path)).is_symlink():
        raise InvalidInput("input is a symbolic link: move_to_library moves files, not links")
    source = Path(job.source.path)  # resolved and confined to the media volume
    directory = make_dirs(job.root, relative_path(params.target_directory))
    target = directory / source.name
    old = source.relative_to(job.root).as_posix()
    new = PurePosixPath(target.relative_to(job.root).as_posix())
    if target == source:
        raise InvalidInput(f"{old} is already in {params.target_directory}")
    link_then_unlink(source, target, new.as_posix())
    row = row_of(new.as_posix(), target.stat(), job.source)

    def moved(rows: Rows) -> tuple[Rows, None]:
        return {path: r for path, r in rows.items() if path != old} | {row.path: row}, None

    update(job.root, moved)
    job.report(100)
    return JobResult(outputs=[describe(target, new, job.source.probe)], data={"from": old})
