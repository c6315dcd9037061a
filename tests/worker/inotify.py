"""Which files a process opened: Linux inotify through ctypes (no package needed).

Tests watch files outside the media root and assert that no run of the worker
(or of the FFmpeg it starts) ever opened them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_IN_OPEN = 0x00000020
_IN_ACCESS = 0x00000001
_IN_NONBLOCK = 0o4000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then len bytes of name)

_libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


class Watch:
    """Opens and reads of the watched paths since the watch began."""

    def __init__(self, paths: list[Path]) -> None:
        self._fd = _libc.inotify_init1(_IN_NONBLOCK)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self._names: dict[int, Path] = {}
        for path in paths:
            wd = _libc.inotify_add_watch(self._fd, os.fsencode(path), _IN_OPEN | _IN_ACCESS)
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")
            self._names[wd] = path

    def touched(self) -> set[Path]:
        """The watched paths opened or read so far."""
        seen: set[Path] = set()
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return seen
            at = 0
            while at < len(data):
                wd, _mask, _cookie, length = _EVENT.unpack_from(data, at)
                seen.add(self._names[wd])
                at += _EVENT.size + length

    def close(self) -> None:
        os.close(self._fd)


@contextmanager
def watching(*paths: Path) -> Iterator[Watch]:
    watch = Watch(list(paths))
    try:
        yield watch
    finally:
        watch.close()
