"""Load phases: a flood of MediaJobs (throughput), a backlog at start, RSS at 10,000, and
what each write of an admission costs the API server (writes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from bench.common import (
    log,
    ms,
    percentile,
    until,
)
from bench.harness import (
    LONG_RUN,
    MANAGED_META,
    MEDIA,
    UNCAPPED,
    Bench,
    Created,
    bench_record,
    create_rtt,
    mediajob_body,
    rate_of,
    raw_job,
    vs_create,
)
from bench.process import mb
from bench.watches import Added
from mediajobs.config import OperatorConfig
from mediajobs.controller.bootstrap import ensure_priority_classes
from mediajobs.kube.client import Kube
from mediajobs.kube.port import Body, Selection, jobs_path, mediajobs_path
from mediajobs.lifecycle import statuses


async def throughput(b: Bench) -> None:
    """Raw Job creates, then as many MediaJobs as fast: admitted/s, ratio and drain lag."""
    n, r = b.sizes.throughput, b.report
    await ensure_priority_classes(b.kube)  # the raw Jobs' pods name them, as the operator's do
    log(f"throughput: {n} raw batch/v1 Jobs, {b.concurrency} in flight")
    async with b.namespace("raw") as ns:
        config = OperatorConfig.model_validate(UNCAPPED)
        created = await b.create(jobs_path(ns), [raw_job(ns, i, config) for i in range(n)])
        raw = n / (max(c.done for c in created) - min(c.sent for c in created))
        b.rates["raw"] = raw

    log(f"throughput: {n} MediaJobs, {b.concurrency} in flight, caps high, pods run long")
    async with b.namespace("throughput") as ns, b.operator(ns, UNCAPPED) as op, b.watches() as w:
        added, running = Added(n), Added(n)
        await w.watch(jobs_path(ns), added, MANAGED_META)
        await w.watch(
            mediajobs_path(ns),
            running,
            Selection(fields="status.phase=Running", metadata_only=True),
        )
        cpu_before, writes_before = op.cpu(), await op.writes()
        bodies = [mediajob_body(f"tp-{i:05d}", LONG_RUN) for i in range(n)]
        created = await b.create(mediajobs_path(ns), bodies)
        await w.until(f"{n} Jobs", added.event, 60 + n / 20, op)
        cpu = op.cpu() - cpu_before
        await w.until(f"{n} MediaJobs Running", running.event, 60 + n / 20, op)
        written = await op.settled_writes(60 + n / 20) - writes_before  # Events trail it

    first = min(c.sent for c in created)
    last_create = max(c.done for c in created)
    admitted = n / (added.last - first)
    lag = added.last - last_create
    r.add("throughput: MediaJobs applied at once -> admitted", f"{admitted:.0f}/s", "≥ 100/s",
          admitted >= 100)  # fmt: skip
    r.add("throughput vs raw API Job creates (same client, same run)",
          f"{admitted / raw:.0%} (raw {raw:.0f}/s)", "≥ 50 %", admitted / raw >= 0.5)  # fmt: skip
    rtt = create_rtt(created)
    r.add("drain lag: last MediaJob created -> last Job created",
          f"{lag:.2f} s ({vs_create(lag, rtt)})", "≤ 1 s", lag <= 1.0)  # fmt: skip
    settle = running.last - last_create
    b.flood = (n, settle)  # one status patch each (Running); the writes phase prices it
    shown = [running.at[uid] - added.at[uid] for uid in added.at]
    r.note(
        f"throughput: MediaJobs created at {rate_of(n, last_create - first)} while the operator "
        f"admitted; operator CPU {cpu:.1f} s for {n} admissions "
        f"({cpu / n * 1000:.1f} ms each); the Running status followed each Job by "
        f"{ms(percentile(shown, 0.5))} (p50) / {ms(max(shown))} (max), the last one "
        f"{running.last - added.last:.1f} s after the last Job; every MediaJob Running "
        f"{settle:.1f} s after the last was created ({vs_create(settle, rtt)}); the operator "
        f"wrote {written} times in all ({written / n:.2f} per MediaJob: Job, status, Event)"
    )


async def backlog(b: Bench) -> None:
    """MediaJobs waiting before the operator starts; admitted/s from its start."""
    n, r = b.sizes.backlog, b.report
    log(f"backlog: {n} MediaJobs created with the operator stopped")
    async with (
        b.namespace("backlog") as ns,
        b.operator(ns, UNCAPPED, start=False) as op,
        b.watches() as w,
    ):
        bodies = [mediajob_body(f"bl-{i:05d}", LONG_RUN) for i in range(n)]
        created = await b.create(mediajobs_path(ns), bodies)
        alone = n / (max(c.done for c in created) - min(c.sent for c in created))
        added = Added(n)
        await w.watch(jobs_path(ns), added, MANAGED_META)
        started = time.monotonic()
        await op.start()
        ready = time.monotonic()
        await w.until(f"{n} Jobs", added.event, 60 + n / 20, op)
        memory = op.memory()
        cpu = op.cpu()

    rate = n / (added.last - started)
    r.add("backlog drain: waiting MediaJobs -> admitted, from start", f"{rate:.0f}/s", "≥ 200/s",
          rate >= 200)  # fmt: skip
    first = min(added.at.values())
    r.note(
        f"backlog: {n} admitted {added.last - started:.2f} s after the process started: "
        f"/readyz after {ready - started:.2f} s, first Job after {first - started:.2f} s, "
        f"then {rate_of(n, added.last - first)}; operator CPU {cpu:.1f} s, "
        f"RSS {mb(memory['VmRSS'])} (peak {mb(memory['VmHWM'])})"
    )
    r.note(f"backlog: MediaJob creates alone (operator stopped): {alone:.0f}/s")
    if "raw" in b.rates:  # the throughput phase ran: what it could reach at best
        both = 1 / (1 / b.rates["raw"] + 1 / alone)
        r.note(
            f"throughput ceiling: the API takes a MediaJob and its Job at {both:.0f}/s "
            f"({both / b.rates['raw']:.0%} of raw) with nothing else running, "
            "before the Job controller's pods and the status writes"
        )


async def rss(b: Bench) -> None:
    """10,000 MediaJobs under the reference caps (5 running, the rest queued): VmRSS.

    Settled = every waiting job has had its first Queued status written (one write
    each) and then the writes stop. Nothing changes in this queue, so writes that
    go on are rewrites of unchanged positions: measured and reported, not waited out.
    """
    n, r = b.sizes.rss, b.report
    log(f"rss: {n} MediaJobs created with the operator stopped; reference caps (cpu 5)")
    async with b.namespace("rss") as ns, b.operator(ns, MEDIA, start=False) as op:
        bodies = [mediajob_body(f"rss-{i:05d}", LONG_RUN) for i in range(n)]
        await b.create(mediajobs_path(ns), bodies)
        started = time.monotonic()
        await op.start()
        ready = time.monotonic()

        async def all_seen() -> dict[str, Any] | None:
            op.alive()
            stats = await op.stats()
            return stats if stats["pending"] + stats["running"] >= n else None

        stats = await until("the operator to queue every MediaJob", all_seen, 60 + n / 50, 1.0)

        async def first_writes_done() -> tuple[int] | None:
            op.alive()
            writes = await op.writes()
            return (writes,) if writes >= n else None

        (writes,) = await until(
            "a first Queued status for every waiting job", first_writes_done, 60 + n / 20, 1.0
        )
        burst = time.monotonic()
        try:
            writes = await op.settled_writes(30, quiet=3.0)
            idle_rate = 0.0
        except TimeoutError:  # still writing with nothing changing: measure how much
            before, since = await op.writes(), time.monotonic()
            await asyncio.sleep(10)  # a measurement window, not a wait for a condition
            writes = await op.writes()
            idle_rate = (writes - before) / (time.monotonic() - since)
        memory = op.memory()
        cpu = op.cpu()

    rss_bytes = memory["VmRSS"]
    r.add(f"operator RSS with {n:,} MediaJobs", mb(rss_bytes), "≤ 200 MB",
          rss_bytes <= 200e6)  # fmt: skip
    r.add(f"status writes/s, {n - stats['running']:,} queued, nothing changing",
          f"{idle_rate:.1f}/s", "0 (DESIGN: rewrite only what changed)",
          idle_rate < 0.5)  # fmt: skip
    r.note(
        f"rss: {stats['running']} running, {stats['pending']} queued; /readyz after "
        f"{ready - started:.1f} s, a first Queued status for each after "
        f"{burst - started:.1f} s; {writes} writes in all; peak RSS {mb(memory['VmHWM'])}; "
        f"operator CPU {cpu:.1f} s"
    )


STATUS_ALONE = "status patch alone"  # the Running status of MediaJobs with no Job: the floor


async def _admit(kube: Kube, ns: str, shape: str, left: Iterator[tuple[Created, Body]]) -> None:
    """One writer: the writes of SHAPE for each (MediaJob, Job) it takes from LEFT."""
    for mj, job in left:
        if shape != STATUS_ALONE:
            await kube.create(jobs_path(ns), job)
        if shape == "Job create":
            continue
        # The reconciler's own Running status and Event for this admission.
        record = bench_record(ns, mj.name, mj.uid)
        running = statuses.admitted(record, 1, 1, mj.name, datetime.now(UTC))
        await kube.merge_patch(mediajobs_path(ns, mj.name) + "/status", {"status": running.fields})
        if shape == "+ Event" and running.event is not None:
            e = running.event
            await kube.post_event(record.reference, type_=e.type, reason=e.reason,
                                  message=e.message, now=datetime.now(UTC))  # fmt: skip


async def writes(b: Bench) -> None:
    """The writes of one admission, done by this client with no operator running."""
    n, r = b.sizes.writes, b.report
    await ensure_priority_classes(b.kube)
    config = OperatorConfig.model_validate(UNCAPPED)
    rates: dict[str, float] = {}
    for shape in ("Job create", "+ status patch", "+ Event", STATUS_ALONE):
        log(f"writes: {n} x {shape}")
        async with b.namespace("writes") as ns:
            names = [f"w-{i:05d}" for i in range(n)]
            created = await b.create(mediajobs_path(ns), [mediajob_body(m) for m in names])
            jobs = [raw_job(ns, i, config) for i in range(n)]
            left = iter(zip(created, jobs, strict=True))
            began = time.monotonic()
            await asyncio.gather(*(_admit(b.kube, ns, shape, left) for _ in range(b.concurrency)))
            rates[shape] = n / (time.monotonic() - began)
    alone = rates["Job create"]
    b.rates["status patch"] = rates[STATUS_ALONE]
    shown = "; ".join(f"{shape} {rate:.0f}/s" for shape, rate in rates.items())
    patch = alone / rates["+ status patch"] - 1
    event = alone / rates["+ Event"] - alone / rates["+ status patch"]
    r.note(
        f"writes (no operator, {b.concurrency} in flight): {shown}: a MediaJob status patch "
        f"costs the API server {patch:.1f}x a Job create, an Event {event:.1f}x"
    )


def settle_row(b: Bench) -> None:
    """The flood's settle time beside its floor: the status patches it needs at the
    rate the writes phase measured for status patches alone, 32 in flight (both phases
    run). The operator sends them half its writers at a time (32), beside
    its Events and the Job controller's pods: the floor is a bound it cannot beat,
    not one it should meet."""
    if b.flood is None or "status patch" not in b.rates:
        return
    needed, settle = b.flood
    rate = b.rates["status patch"]
    floor = needed / rate
    b.report.add(
        "flood settle: last MediaJob created -> every one shows its phase",
        f"{settle:.1f} s ({settle / floor:.2f}x floor {floor:.1f} s: {needed} status patches "
        f"at {rate:.0f}/s)",
        "≤ 1.25x floor",
        settle <= 1.25 * floor,
    )
