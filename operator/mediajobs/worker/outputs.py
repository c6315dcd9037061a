"""Where outputs go, how they appear atomically, and how the result describes them.

An output is ``output.path``, or a file under ``output.prefix``, or (neither
set) under ``mediajobs/<namespace>/<name>/``; always inside the media root,
even through symlinked directories. FFmpeg writes a hidden temporary name in
the same directory and the file is renamed only when complete, so a killed
job never leaves a half file under the final name (a retry removes what a
SIGKILL left behind).
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mediajobs.api.mediajob import OutputFile, OutputRef
from mediajobs.worker.errors import InvalidInput, from_os_error
from mediajobs.worker.inputs import inside, relative_path
from mediajobs.worker.probe import Probe

DEFAULT_PREFIX = "mediajobs"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PARTIAL = ".partial-"


def safe_stem(name: str, fallback: str) -> str:
    """A file-name stem made of safe characters (from an input or URL name).

    Letters outside ASCII are transliterated ("Été à Zürich" -> "Ete_a_Zurich",
    "東京" -> "DongJing"), not dropped; what is left unsafe becomes ``_``.
    """
    from anyascii import anyascii  # noqa: PLC0415 - its tables load only for a default name

    stem = _UNSAFE.sub("_", anyascii(PurePosixPath(name).stem)).strip("._")
    return stem[:100] or fallback


def output_relpath(output: OutputRef, namespace: str, name: str, filename: str) -> PurePosixPath:
    """The output's path relative to the media root."""
    if output.path is not None:
        return relative_path(output.path)
    if output.prefix is not None:
        return relative_path(output.prefix) / filename
    return PurePosixPath(DEFAULT_PREFIX, namespace, name, filename)


def make_dirs(root: Path, rel_dir: PurePosixPath) -> Path:
    """Create REL_DIR under ROOT one level at a time, never following a link out of ROOT."""
    current = root
    for part in rel_dir.parts:
        current = current / part
        if current.is_symlink() or current.exists():
            try:
                current = current.resolve(strict=True)
            except (OSError, RuntimeError) as err:  # dangling or looping link
                raise InvalidInput(f"output path unusable: {rel_dir}") from err
            if not inside(root, current):
                raise InvalidInput(f"output path escapes the media volume: {rel_dir}")
            if not current.is_dir():
                raise InvalidInput(f"output directory is a file: {rel_dir}")
        else:
            try:
                current.mkdir()
            except FileExistsError:
                pass  # created by a concurrent job: the next check still applies
            except OSError as err:
                raise from_os_error(err, "creating the output directory") from err
    return current


def final_path(root: Path, rel: PurePosixPath) -> Path:
    """The absolute output file for REL, its directory created and confined."""
    directory = make_dirs(root, rel.parent)
    target = directory / rel.name
    if target.is_dir():
        raise InvalidInput(f"output path is a directory: {rel}")
    return target


@dataclass
class Staged:
    """A temporary sibling of ``final`` that FFmpeg writes; renamed over it on commit."""

    final: Path
    temp: Path
    committed: bool = False

    def commit(self) -> None:
        try:
            with self.temp.open("rb") as written:
                os.fsync(written.fileno())  # the data is on disk before the name points at it
            self.temp.replace(self.final)
        except OSError as err:
            raise from_os_error(err, "saving the output") from err
        self.committed = True


@contextmanager
def staged(final: Path) -> Iterator[Staged]:
    """A temporary name next to FINAL (same suffix, so FFmpeg picks the same muxer).

    Whatever is not committed when the block ends is removed, as are the
    temporaries of earlier attempts that were killed before they could clean up.
    """
    pattern = f".{glob.escape(final.stem)}{_PARTIAL}*{glob.escape(final.suffix)}"
    for leftover in final.parent.glob(pattern):
        leftover.unlink(missing_ok=True)
    temp = final.with_name(f".{final.stem}{_PARTIAL}{secrets.token_hex(4)}{final.suffix}")
    stage = Staged(final, temp)
    try:
        yield stage
    finally:
        if not stage.committed:
            temp.unlink(missing_ok=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: Path, rel: PurePosixPath, probe: Probe) -> OutputFile:
    """The result's entry for one output file (PATH may still be its temporary name)."""
    picture, sound = probe.video, probe.audio
    return OutputFile(
        path=rel.as_posix(),
        bytes=path.stat().st_size,
        sha256=sha256_of(path),
        duration=None if probe.is_image else probe.media_duration,
        width=picture.display_width if picture else None,
        height=picture.display_height if picture else None,
        video_codec=picture.codec_name if picture else None,
        audio_codec=sound.codec_name if sound else None,
    )
