"""What the halves of `make bench` share: the report table, the machine, small statistics."""

from __future__ import annotations

import asyncio
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The Q-th quantile (0..1) of VALUES, linearly interpolated between the nearest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def until(
    what: str, probe: Callable[[], Awaitable[T | None]], timeout: float, interval: float = 0.2
) -> T:
    """Await PROBE every INTERVAL until it returns something truthy; fail after TIMEOUT."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


async def event_within(what: str, event: asyncio.Event, timeout: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}") from None


@dataclass
class Row:
    what: str
    measured: str
    target: str
    ok: bool | None  # None: information only, no target


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, what: str, measured: str, target: str = "", ok: bool | None = None) -> None:
        self.rows.append(Row(what, measured, target, ok))

    def note(self, text: str) -> None:
        log(text)
        self.notes.append(text)

    def table(self) -> str:
        header = ("what", "measured", "target", "ok")
        cells = [
            (r.what, r.measured, r.target, {True: "yes", False: "NO", None: ""}[r.ok])
            for r in self.rows
        ]
        widths = [max(len(c[i]) for c in [header, *cells]) for i in range(4)]

        def line(values: Sequence[str]) -> str:
            return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

        return "\n".join([line(header), line(["-" * w for w in widths]), *(line(c) for c in cells)])


def machine() -> list[str]:
    """The machine a run was measured on, in a few lines."""
    lines = [
        f"machine: {platform.node()}, {platform.system()} {platform.release()}, "
        f"nproc {len(os.sched_getaffinity(0))}, python {platform.python_version()}",
    ]
    cpuinfo = Path("/proc/cpuinfo")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
            if line.startswith("model name")
        ),
        None,
    )
    if model:
        lines.append(f"cpu: {model}")
    if shutil.which("free"):
        free = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False)
        lines.extend(f"  {row}" for row in free.stdout.rstrip().splitlines())
    return lines


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def command(module: str) -> str:
    """How this run was started, to print next to its figures."""
    return shlex.join([os.path.relpath(sys.executable), "-m", module, *sys.argv[1:]])
