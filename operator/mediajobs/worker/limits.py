"""The container's memory limit and the largest frame a decoder may allocate under it.

Plain arithmetic on the standard library: the start-up path (worker/start.py)
uses it before the heavier modules load; :mod:`budget` builds on it.
"""

from __future__ import annotations

import os
from pathlib import Path

MiB = 1024 * 1024
BASELINE_BYTES = 64 * MiB  # FFmpeg's own RSS before frames: 45-60 MB measured
WORST_BYTES_PER_PIXEL = 8  # 16-bit RGBA: the largest frame a probe may decode
INT_MAX = 2**31 - 1
_CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")


def memory_limit(task_limit: int | None) -> int:
    """The container's memory limit in bytes: the Task's, else the cgroup's, else all RAM."""
    if task_limit is not None:
        return task_limit
    try:
        text = _CGROUP_MEMORY_MAX.read_text().strip()
    except OSError:
        text = "max"
    if text.isdigit():
        return int(text)
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def max_pixels(limit: int) -> int:
    """The largest frame (in pixels) any decoder may allocate under LIMIT.

    FFmpeg's option is an int: a limit of more than 16 GiB no longer narrows it.
    """
    return max(1, min((limit - BASELINE_BYTES) // WORST_BYTES_PER_PIXEL, INT_MAX))
