"""The operator under test as a process: start, /metrics, /stats, memory, CPU, its log."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from tests.operator_harness import OperatorProcess

from bench.common import (
    until,
)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM... of PID in bytes."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0]) * 1024
    return out


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mb(n: float) -> str:
    return f"{n / 1e6:.0f} MB"


@dataclass
class Operator:
    """tests/operator_harness.py's OperatorProcess, driven from asyncio."""

    process: OperatorProcess

    @property
    def pid(self) -> int:
        if self.process.proc is None:
            raise RuntimeError("the operator is not running")
        return self.process.proc.pid

    async def start(self) -> None:
        await asyncio.to_thread(self.process.start)  # blocks until /readyz: keep the loop free

    def alive(self) -> None:
        proc = self.process.proc
        if proc is not None and proc.poll() is not None:
            tail = self.process.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the operator exited ({proc.returncode}):\n{tail}")

    async def metrics(self) -> dict[str, float]:
        """/metrics as {'name{label=value,...}': value}."""
        text = await asyncio.to_thread(self.process.metrics)
        out = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                out[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return out

    async def writes(self) -> int:
        return int((await self.metrics())["mediajobs_api_writes"])

    async def stats(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.process.stats)

    async def settled_writes(self, timeout: float, quiet: float = 1.5) -> int:
        """The write counter once it has not moved for QUIET seconds."""
        last = await self.writes()
        since = time.monotonic()

        async def quiet_now() -> tuple[int] | None:
            nonlocal last, since
            self.alive()
            current = await self.writes()
            if current != last:
                last, since = current, time.monotonic()
                return None
            return (current,) if time.monotonic() - since >= quiet else None

        (writes,) = await until("the operator's writes to settle", quiet_now, timeout, 0.5)
        return writes

    def memory(self) -> dict[str, int]:
        return proc_status(self.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.pid)


def log_complaints(text: str) -> str:
    """'N WARNING/ERROR lines (the commonest: "message" xM)', or '' for a quiet log."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        if " WARNING " in line or " ERROR " in line:
            message = line.split(": ", 1)[-1]
            found[re.sub(r"bench-[a-z]+-[0-9a-f]+/[\w.-]+", "<mediajob>", message)[:160]] += 1
    if not found:
        return ""
    common, times = found.most_common(1)[0]
    return (
        f"{found.total()} WARNING/ERROR lines ({len(found)} distinct; the commonest, x{times}: "
        f"{common!r})"
    )
