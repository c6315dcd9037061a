"""The `plugin` phase of `make bench`: `kubectl mediajobs list` with 2,000 MediaJobs.

No operator: the MediaJobs are created (32 in flight) and their statuses written as
the operator would write a queue's (Queued, a position, a reason; every tenth Running
with progress), so every column has something to show. Then the installed
`kubectl-mediajobs` executable lists them, as a person would run it: the wall time of
the whole process (start-up, login, the list in pages of 500, the table), several runs
after a first one (Python's compiled-module cache written, as after any first run),
and beside it its CPU time (what a machine busy with other work does not inflate), the
start-up alone (`-h`) and the list and table in this process.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import log, percentile
from bench.harness import LONG_RUN, Bench, mediajob_body
from mediajobs.kube.port import mediajobs_path
from mediajobs.plugin.render import jobs_table

PLUGIN = Path(sys.executable).parent / "kubectl-mediajobs"
RUNS = 5
TARGET_SECONDS = 1.0


def _status(i: int) -> dict[str, object]:
    if i % 10 == 0:
        return {"phase": "Running", "progress": i % 100, "attempts": 1, "category": "cpu"}
    return {
        "phase": "Queued",
        "queuePosition": i,
        "waitingReason": "cpu: 5/5 running (the category's cap)",
        "category": "cpu",
    }


def _cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """ARGV's wall time, its CPU time (user + system: what a loaded machine's wait for
    a core does not inflate), and what it printed."""
    started, cpu = time.monotonic(), _cpu()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True, timeout=60)
    return time.monotonic() - started, _cpu() - cpu, done.stdout


async def plugin_list(b: Bench) -> None:
    n, r = b.sizes.plugin, b.report
    async with b.namespace("plugin") as ns:
        names = [f"pl-{i:05d}" for i in range(n)]
        started = time.monotonic()
        await b.create(mediajobs_path(ns), [mediajob_body(name, LONG_RUN) for name in names])
        created = time.monotonic()
        items = iter(enumerate(names))

        async def writer() -> None:
            for i, name in items:
                path = mediajobs_path(ns, name) + "/status"
                await b.kube.merge_patch(path, {"status": _status(i)})

        await asyncio.gather(*(writer() for _ in range(b.concurrency)))
        log(
            f"plugin: {n} MediaJobs created in {created - started:.1f} s, their statuses "
            f"written in {time.monotonic() - created:.1f} s"
        )
        # Python caches compiled modules after a first run; this machine's environment
        # says not to (PYTHONDONTWRITEBYTECODE), which would time a compile of every
        # module (aiohttp, kubernetes...) on each start: the cache goes to the workdir.
        env = {
            **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
            "KUBECONFIG": str(b.kubectl.kubeconfig),
            "PYTHONPYCACHEPREFIX": str(b.workdir / "pycache"),
        }
        _timed([str(PLUGIN), "list", "-n", ns], env)  # the first run writes the cache
        startup = min(_timed([str(PLUGIN), "-h"], env)[1] for _ in range(3))
        walls, cpus = [], []
        for _ in range(RUNS):
            wall, cpu, out = _timed([str(PLUGIN), "list", "-n", ns], env)
            lines = out.count("\n")
            if lines != n + 1:
                raise AssertionError(f"the list showed {lines} lines for {n} MediaJobs")
            walls.append(wall)
            cpus.append(cpu)
        began = time.monotonic()
        listed = await b.kube.list_all(mediajobs_path(ns))
        table = jobs_table(listed, datetime.now(UTC), wide=False, namespaces=False)
        in_process = time.monotonic() - began
        if table.count("\n") != n:
            raise AssertionError(f"the table has {table.count(chr(10))} rows for {n} MediaJobs")
        median = percentile(walls, 0.5)
        r.add(
            f"kubectl mediajobs list, {n} MediaJobs (whole process, p50 of {RUNS})",
            f"{median:.2f} s (max {max(walls):.2f} s)",
            f"< {TARGET_SECONDS:g} s",
            median < TARGET_SECONDS,
        )
        cpu = percentile(cpus, 0.5)
        r.add("  its CPU time (user + system, p50; idle: about its wall time)", f"{cpu:.2f} s")
        r.add("  start-up alone (imports; `kubectl mediajobs -h`), CPU time", f"{startup:.2f} s")
        r.add("  the list (4 pages of 500) and the table, in this process", f"{in_process:.2f} s")
