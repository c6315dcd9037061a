"""Inputs on the media volume: relative paths, confined to the media root.

A path is relative, has no ``..``, and the file it names (symlinks followed)
must still lie under the media root; anything else is an invalid spec.
URLs are :mod:`mediajobs.worker.download`'s.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mediajobs.worker.errors import InvalidInput


def relative_path(text: str) -> PurePosixPath:
    """TEXT as a path relative to the media root; absolute paths and ``..`` are refused."""
    path = PurePosixPath(text)
    if not text or "\0" in text or path.is_absolute() or ".." in path.parts:
        raise InvalidInput(f"path must be relative inside the media volume: {text!r}")
    return path


def inside(root: Path, path: Path) -> bool:
    """Whether PATH (already resolved) is ROOT (resolved) or under it."""
    return path == root or path.is_relative_to(root)


def media_file(root: Path, text: str) -> Path:
    """The existing file TEXT names under ROOT, with symlinks resolved and confined."""
    try:
        resolved = (root / relative_path(text)).resolve(strict=True)
    except FileNotFoundError as err:
        raise InvalidInput(f"input not found: {text}") from err
    except (OSError, RuntimeError) as err:  # a path through a file; a symlink loop (3.11 raises)
        raise InvalidInput(f"input path unusable: {text}") from err
    if not inside(root, resolved):
        raise InvalidInput(f"input path escapes the media volume: {text}")
    if not resolved.is_file():
        raise InvalidInput(f"input is not a file: {text}")
    return resolved
