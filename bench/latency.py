"""Latency phases: admission with capacity free (steady), and the slot handoff."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from bench.common import (
    log,
    ms,
    percentile,
)
from bench.harness import (
    MANAGED,
    MANAGED_META,
    MEDIA,
    UNCAPPED,
    Bench,
    create_rtt,
    mediajob_body,
    vs_create,
)
from bench.watches import Added
from mediajobs.kube.port import jobs_path, mediajobs_path


async def steady(b: Bench) -> None:
    """Admission latency with capacity free, and API writes per lifecycle, in one run."""
    s, r = b.sizes, b.report
    n = s.warmup + s.steady
    log(f"steady: {n} MediaJobs at {s.steady_rate:g}/s ({s.warmup} warm-up), pods run 1 s")
    async with b.namespace("steady") as ns, b.operator(ns, UNCAPPED) as op, b.watches() as w:
        added = Added(n)
        succeeded: set[str] = set()
        modified: Counter[str] = Counter()
        all_done = asyncio.Event()

        def on_mediajob(kind: str, obj: Mapping[str, Any], _: float) -> None:
            uid = obj["metadata"]["uid"]
            if kind == "MODIFIED":
                modified[uid] += 1  # only the operator writes MediaJobs here: its status patches
            if (obj.get("status") or {}).get("phase") == "Succeeded":
                succeeded.add(uid)
                if len(succeeded) >= n:
                    all_done.set()

        writes_before = await op.writes()
        await w.watch(jobs_path(ns), added, MANAGED_META)
        await w.watch(mediajobs_path(ns), on_mediajob)
        bodies = [mediajob_body(f"steady-{i:05d}") for i in range(n)]
        created = await b.create(mediajobs_path(ns), bodies, rate=s.steady_rate)
        await w.until("every MediaJob's Job", added.event, 60, op)
        await w.until("every MediaJob to succeed", all_done, 120 + n / 5, op)
        writes = await op.settled_writes(30) - writes_before
        events = await b.kube.list_all(f"/api/v1/namespaces/{ns}/events")
        metrics = await op.metrics()

    latencies = [added.at[c.uid] - c.done for c in created[s.warmup :]]
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    rtt = create_rtt(created)
    r.add("admission latency p50 (capacity free)", f"{ms(p50)} ({vs_create(p50, rtt)})",
          "≤ 50 ms", p50 <= 0.050)  # fmt: skip
    r.add("admission latency p99", f"{ms(p99)} ({vs_create(p99, rtt)})", "≤ 250 ms",
          p99 <= 0.250)  # fmt: skip
    r.note(
        f"steady: {len(latencies)} MediaJobs at {s.steady_rate:g}/s, create response -> "
        f"Job ADDED: min {ms(min(latencies))}, p90 {ms(percentile(latencies, 0.9))}, "
        f"max {ms(max(latencies))}; create round trip p50 "
        f"{ms(percentile([c.done - c.sent for c in created], 0.5))}"
    )
    total = metrics.get("media_job_admission_wait_seconds_count", 0.0)
    if total:
        share = {
            le: metrics.get(f"media_job_admission_wait_seconds_bucket{{le={le}}}", 0.0) / total
            for le in ("0.05", "0.25")
        }
        r.note(
            "steady: the operator's own media_job_admission_wait_seconds (first seen -> Job "
            f"created): {share['0.05']:.0%} within 50 ms, {share['0.25']:.0%} within 250 ms"
        )

    by_source = Counter(
        (e.get("source") or {}).get("component") or e.get("reportingComponent") or "?"
        for e in events
    )
    reasons = Counter(
        e.get("reason")
        for e in events
        if ((e.get("source") or {}).get("component") or e.get("reportingComponent")) == "mediajobs"
    )
    jobs, patches, posted = len(added.at), sum(modified.values()), by_source["mediajobs"]
    other = writes - jobs - patches - posted
    per = writes / n
    r.add(
        "API writes per MediaJob lifecycle",
        f"{per:.2f} (Job {jobs / n:.2f} + status {patches / n:.2f} + Events {posted / n:.2f}"
        f" + other {other / n:.2f})",
        "≤ 8",
        per <= 8,
    )
    r.note(
        f"steady: {writes} operator writes for {n} MediaJobs (create -> Succeeded); Events by "
        f"reason: {dict(reasons)}; 'other' = writes that changed nothing a watch shows "
        f"(no-op patches, deletes, retried requests); Events by kopf: {by_source['kopf']}"
    )


async def handoff(b: Bench) -> None:
    """cpu cap 1: the watch sees Job k Complete -> the watch sees Job k+1 ADDED."""
    n, r = b.sizes.handoff, b.report
    log(f"handoff: cpu cap 1, {n} MediaJobs queued, pods run 1 s")
    config = MEDIA | {"limits": {"cpu": {"maxRunning": 1}}}
    async with b.namespace("handoff") as ns, b.operator(ns, config) as op, b.watches() as w:
        added: dict[str, float] = {}
        finished: dict[str, float] = {}
        all_done = asyncio.Event()

        def on_job(kind: str, obj: Mapping[str, Any], arrived: float) -> None:
            name = obj["metadata"]["name"]
            added.setdefault(name, arrived)
            conditions = (obj.get("status") or {}).get("conditions") or []
            if any(
                c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
                for c in conditions
            ):
                finished.setdefault(name, arrived)
                if len(finished) >= n:
                    all_done.set()

        await w.watch(jobs_path(ns), on_job, MANAGED)
        bodies = [mediajob_body(f"handoff-{i:03d}") for i in range(n)]
        rtt = create_rtt(await b.create(mediajobs_path(ns), bodies))
        await w.until(f"{n} Jobs to finish one after the other", all_done, 30 + n * 15, op)

    order = sorted(added, key=lambda name: added[name])
    gaps = [added[nxt] - finished[prev] for prev, nxt in pairwise(order)]
    overlaps = sum(1 for g in gaps if g < 0)
    p50 = percentile(gaps, 0.5)
    r.add(
        "slot handoff p50 (Job Complete -> next Job)",
        f"{ms(p50)} ({p50 / 5:.1%} of 5 s polling; {vs_create(p50, rtt)})",
        "≤ 100 ms (ref. 5 s polling)",
        p50 <= 0.100 and overlaps == 0,
    )
    runs = [finished[name] - added[name] for name in order]
    r.note(
        f"handoff: {len(gaps)} handoffs: p90 {ms(percentile(gaps, 0.9))}, max {ms(max(gaps))}"
        f"{f', {overlaps} started before the previous finished (cap broken)' if overlaps else ''}"
        f"; one Job ADDED -> Complete (KWOK's 1 s run + controllers): p50 "
        f"{percentile(runs, 0.5):.2f} s"
    )
