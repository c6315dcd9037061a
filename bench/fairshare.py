"""The fairshare phase: admission with fair share off, then on (issue 19: within 10 %).

Both runs are the backlog shape spread over namespaces: MediaJobs created in
FAIR_NAMESPACES namespaces while the operator (watching all of them) is stopped,
the cpu cap at half of them, so that the first admission pass orders every job
across namespaces, admits half and queues the rest; then the operator starts.
The figure is admitted/s from the first Job to the last admitted one (process
start-up is the same in both runs, and its seconds would hide the pass).

A second figure, in process and without the cluster: decide() alone over
DECIDE_WAITING waiting jobs in DECIDE_NAMESPACES namespaces, a category full, off
and on (best of DECIDE_REPEATS): what one admission pass costs once a queue has formed.
"""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta

from bench.common import log
from bench.harness import LONG_RUN, MANAGED_META, UNCAPPED, Bench, mediajob_body
from bench.watches import Added
from mediajobs.api.common import Category
from mediajobs.kube.port import jobs_path, mediajobs_path
from mediajobs.scheduling.decide import Limits, Pool, Snapshot, decide
from mediajobs.scheduling.model import Active, Candidate, Demand, JobKey

FAIR_NAMESPACES = 4
DECIDE_WAITING = 10_000
DECIDE_NAMESPACES = 10
DECIDE_REPEATS = 15


async def fairshare(b: Bench) -> None:
    n = b.sizes.backlog - b.sizes.backlog % (2 * FAIR_NAMESPACES)
    rates = {enabled: await _drain(b, n, enabled=enabled) for enabled in (False, True)}
    ratio = rates[True] / rates[False]
    b.report.add(
        f"fair share on vs off: {n} waiting in {FAIR_NAMESPACES} namespaces -> half admitted",
        f"{rates[True]:.0f}/s vs {rates[False]:.0f}/s ({ratio:.0%})",
        "≥ 90 %",
        ratio >= 0.9,
    )
    off, on = _decide_seconds(fair=False), _decide_seconds(fair=True)
    b.report.note(
        f"fairshare: decide() over {DECIDE_WAITING} waiting jobs in {DECIDE_NAMESPACES} "
        f"namespaces, category full: {on * 1000:.1f} ms with fair share, "
        f"{off * 1000:.1f} ms without ({on / off:.2f}x; best of {DECIDE_REPEATS}, in process)"
    )


async def _drain(b: Bench, n: int, *, enabled: bool) -> float:
    label = "on" if enabled else "off"
    config = UNCAPPED | {
        "limits": {"cpu": {"maxRunning": n // 2}},
        "fairShare": {"enabled": enabled},
    }
    admitted = Added(n // 2)
    async with contextlib.AsyncExitStack() as stack:
        names = [
            await stack.enter_async_context(b.namespace(f"fair-{label}-{i}"))
            for i in range(FAIR_NAMESPACES)
        ]
        watched = [a for ns in names[1:] for a in ("--namespace", ns)]
        op = await stack.enter_async_context(
            b.operator(names[0], config, start=False, args=watched)
        )
        w = await stack.enter_async_context(b.watches())
        log(f"fairshare ({label}): {n} MediaJobs in {FAIR_NAMESPACES} namespaces, cap {n // 2}")
        for i, ns in enumerate(names):
            bodies = [
                mediajob_body(f"fs-{i}-{j:05d}", LONG_RUN) for j in range(n // FAIR_NAMESPACES)
            ]
            await b.create(mediajobs_path(ns), bodies)
            await w.watch(jobs_path(ns), admitted, MANAGED_META)
        started = time.monotonic()
        await op.start()
        await w.until(f"{n // 2} Jobs", admitted.event, 60 + n / 20, op)
    first = min(admitted.at.values())
    rate = (n // 2 - 1) / max(admitted.last - first, 1e-6)
    log(
        f"fairshare ({label}): first Job {first - started:.2f} s after the start, then {rate:.0f}/s"
    )
    return rate


def _decide_seconds(*, fair: bool) -> float:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    cpu = Demand(Category.CPU)
    namespaces = [f"team-{i}" for i in range(DECIDE_NAMESPACES)]
    candidates = [
        Candidate(
            JobKey(namespaces[i % DECIDE_NAMESPACES], f"j{i}"),
            f"uid-{i}",
            1 + i % 3,
            t0 + timedelta(seconds=i),
            cpu,
        )
        for i in range(DECIDE_WAITING)
    ]
    active = [Active(JobKey(ns, f"run-{ns}"), cpu, None) for ns in namespaces]
    limits = Limits(
        max_running={Category.CPU: len(active), Category.GPU_ENCODE: 2, Category.GPU_AI: 1},
        pools=[Pool("default", 16000)],
        fair_share={} if fair else None,
    )
    snapshot = Snapshot(candidates=candidates, active=active, quotas={}, now=t0)
    best = float("inf")
    for _ in range(DECIDE_REPEATS):
        began = time.perf_counter()
        decide(snapshot, limits)
        best = min(best, time.perf_counter() - began)
    return best
