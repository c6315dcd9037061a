"""The operator half of `make bench`: the operator against the real local control plane.

Run from the repository root (`make bench` runs the full one):

    .venv/bin/python -m bench.operator_bench            # full run (about 10-15 min on 2 cores)
    .venv/bin/python -m bench.operator_bench --quick    # small N: a smoke test (under 2 min)
    .venv/bin/python -m bench.operator_bench --kubeconfig .cluster/kubeconfig --only steady,handoff

(It is not called bench/operator.py: a script run from bench/ would then import it
in place of the standard library's `operator`.)

Without --kubeconfig it starts a cluster of its own with hack/cluster.py (state in a
temporary folder, ports from $MEDIAJOBS_CLUSTER_PORT_BASE, default 26600) and stops it
at the end. The operator runs as a real process (tests/operator_harness.py), one per
phase, watching a namespace of its own that is deleted (and awaited) after the phase.

Phases (DESIGN.md "Performance targets"):
  steady      MediaJobs created at a steady pace, capacity free, pods run 1 s:
              admission latency (create response -> Job ADDED on a watch) and the API
              writes per MediaJob lifecycle (create -> Succeeded)
  handoff     cpu cap 1, a queue of 1 s jobs: Job Complete (watch) -> next Job ADDED
  throughput  raw batch/v1 Job creates, then MediaJobs created as fast as one asyncio
              client can (pods run long, nothing finishes): admitted/s, ratio, drain lag
  backlog     MediaJobs created while the operator is stopped; start it: admitted/s
  rss         10,000 MediaJobs (reference caps, so they queue): VmRSS once settled
  writes      no operator: the writes of an admission done by this client, 32 in flight
              (Job create; + MediaJob status patch; + Event): what each costs the API
              server, the reason status and Events go in a lane of their own

All times are client-side (time.monotonic in this process): creationTimestamp has 1 s
resolution. Watches ask for PartialObjectMetadata where only labels are needed.
"""

# ruff: noqa: E402 - the repository's folders go on sys.path before its modules are imported

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any
from uuid import uuid4

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "operator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from tests.builders import mediajob
from tests.localcluster import Kubectl, load_hack_cluster
from tests.operator_harness import OperatorProcess

from bench.common import (
    Report,
    command,
    load,
    log,
    machine,
    ms,
    percentile,
    until,
)
from mediajobs.config import OperatorConfig
from mediajobs.controller.bootstrap import ensure_priority_classes
from mediajobs.jobs.build import build_job
from mediajobs.jobs.naming import MANAGED_BY_LABEL, MANAGER, UID_LABEL
from mediajobs.kube.client import Kube
from mediajobs.kube.login import Login
from mediajobs.kube.port import Body, jobs_path, mediajobs_path
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.records import Record, record_from_body

DEFAULT_PORT_BASE = "26600"  # next to .cluster/ (26400) and the tests' cluster (26500)
RUN_FOR_LABEL = "kwok.mediajobs.dev/run-for"  # hack/kwok/stages.yaml; default run: 1 s
LONG_RUN = {RUN_FOR_LABEL: "600s"}  # pods that do not finish within a phase
MANAGED = f"{MANAGED_BY_LABEL}={MANAGER}"
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
# KWOK mounts nothing: no PVC needed
MEDIA: dict[str, Any] = {"media": {"source": {"emptyDir": {}}}}
UNCAPPED = MEDIA | {
    "limits": {
        "cpu": {"maxRunning": 100_000},
        "gpu_encode": {"maxRunning": 2},
        "gpu_ai": {"maxRunning": 1},
    }
}
PHASES = ("steady", "handoff", "throughput", "backlog", "rss", "writes")


@dataclass(frozen=True)
class Sizes:
    steady: int  # MediaJobs measured at a steady pace (after the warm-up ones)
    steady_rate: float  # created per second
    warmup: int
    handoff: int  # queue length behind a cap of 1
    throughput: int
    backlog: int
    rss: int
    writes: int  # admissions per shape of writes


FULL = Sizes(
    steady=200,
    steady_rate=20,
    warmup=10,
    handoff=30,
    throughput=2000,
    backlog=2000,
    rss=10_000,
    writes=1000,
)
QUICK = Sizes(
    steady=30, steady_rate=20, warmup=5, handoff=5, throughput=200, backlog=200, rss=500, writes=100
)


# ---- the operator process ---------------------------------------------------------------


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


# ---- watches ----------------------------------------------------------------------------

OnEvent = Callable[[str, dict[str, Any], float], None]


@dataclass
class Watches:
    """Watch streams feeding callbacks with (type, object, arrival time)."""

    kube: Kube
    session: aiohttp.ClientSession
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def watch(
        self,
        path: str,
        on_event: OnEvent,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        metadata_only: bool = False,
    ) -> None:
        """Start watching PATH from now on; returns once the stream is open."""
        selector = {"labelSelector": label_selector} if label_selector else {}
        if field_selector:
            selector["fieldSelector"] = field_selector
        listing = await self.kube.request("GET", path, params={"limit": "1", **selector})
        if listing.get("items"):
            raise RuntimeError(f"{path} is not empty: the bench expects a fresh namespace")
        opened = asyncio.Event()
        version = str(listing["metadata"]["resourceVersion"])
        headers = {"Accept": METADATA_ONLY} if metadata_only else {}

        async def stream() -> None:
            nonlocal version
            while True:  # the server ends a watch after timeoutSeconds: go on from there
                params = {
                    "watch": "1",
                    "resourceVersion": version,
                    "allowWatchBookmarks": "true",
                    "timeoutSeconds": "1800",
                    **selector,
                }
                async with self.session.get(path, params=params, headers=headers) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"watch {path}: {resp.status} {await resp.text()}")
                    opened.set()
                    pending = b""
                    async for chunk in resp.content.iter_any():
                        arrived = time.monotonic()
                        *lines, pending = (pending + chunk).split(b"\n")
                        for line in lines:
                            if not line.strip():
                                continue
                            event = json.loads(line)
                            obj = event["object"]
                            if event["type"] == "ERROR":
                                raise RuntimeError(f"watch {path}: {obj.get('message', obj)}")
                            version = obj["metadata"]["resourceVersion"]
                            if event["type"] != "BOOKMARK":
                                on_event(event["type"], obj, arrived)

        task = asyncio.create_task(stream(), name=f"watch {path}")
        self.tasks.append(task)
        waiter = asyncio.create_task(opened.wait())
        await asyncio.wait([waiter, task], timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            task.result()
        if not opened.is_set():
            waiter.cancel()
            raise TimeoutError(f"the watch on {path} did not open")

    async def until(
        self, what: str, event: asyncio.Event, timeout: float, op: Operator | None = None
    ) -> None:
        """Wait for EVENT; fail at once if a watch dies, and after TIMEOUT otherwise."""
        deadline = time.monotonic() + timeout
        while not event.is_set():
            for task in self.tasks:
                if task.done():
                    task.result()
                    raise RuntimeError(f"{task.get_name()} ended")
            if op is not None:
                op.alive()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(left, 1.0))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()


@dataclass
class Added:
    """Objects ADDED on a watch, by their MediaJob's uid (a Job's label, or a MediaJob's
    own uid); EVENT is set at EXPECTED of them."""

    expected: int
    at: dict[str, float] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, kind: str, obj: dict[str, Any], arrived: float) -> None:
        if kind != "ADDED":
            return
        meta = obj["metadata"]
        uid = (meta.get("labels") or {}).get(UID_LABEL, meta.get("uid"))
        if uid is not None:
            self.at.setdefault(uid, arrived)
            if len(self.at) >= self.expected:
                self.event.set()

    @property
    def last(self) -> float:
        return max(self.at.values())


# ---- creating objects fast ---------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    name: str
    uid: str
    sent: float
    done: float  # the create's response arrived


def delete_options(**options: str | int) -> Body:
    return {"apiVersion": "v1", "kind": "DeleteOptions", **options}


def mediajob_body(name: str, labels: dict[str, str] | None = None) -> Body:
    body = mediajob(name, "validate").obj()
    if labels:
        body["metadata"]["labels"] = dict(labels)
    return body


@dataclass
class Bench:
    kube: Kube
    session: aiohttp.ClientSession  # watches: no total timeout
    kubectl: Kubectl
    workdir: Path
    sizes: Sizes
    concurrency: int
    report: Report
    rates: dict[str, float] = field(default_factory=dict)  # create rates, for later phases

    async def create(
        self, path: str, bodies: Sequence[Body], *, rate: float | None = None
    ) -> list[Created]:
        """Create BODIES with `concurrency` in flight (at RATE per second when given)."""
        out: list[Created | None] = [None] * len(bodies)
        indexes = iter(range(len(bodies)))
        start = time.monotonic()

        async def worker() -> None:
            for i in indexes:
                if rate is not None:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                sent = time.monotonic()
                obj, created = await self.kube.create(path, bodies[i])
                if not created or obj is None:
                    raise RuntimeError(f"{bodies[i]['metadata']['name']} exists already")
                meta = obj["metadata"]
                out[i] = Created(meta["name"], meta["uid"], sent, time.monotonic())

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return [c for c in out if c is not None]

    @contextlib.asynccontextmanager
    async def namespace(self, prefix: str) -> AsyncIterator[str]:
        """A fresh namespace, deleted afterwards; the next phase starts once it is empty."""
        name = f"bench-{prefix}-{uuid4().hex[:6]}"
        await self.kube.create(
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
        try:
            # Pods need the default service account (the ServiceAccount admission plugin).
            sa = f"/api/v1/namespaces/{name}/serviceaccounts/default"
            await until(f"{sa}", lambda: self.kube.get(sa), 30)
            yield name
        finally:
            await self.empty(name)

    async def empty(self, namespace: str) -> None:
        """Delete NAMESPACE and wait until what loads the cluster (pods, Jobs, MediaJobs) is gone.

        Jobs and pods go first, pods without a grace period: the namespace controller
        would otherwise wait out the pods' 30 s grace, then its own exponential
        backoff (tens of seconds here). The namespace object itself may linger in
        Terminating a little longer: it costs the next phase nothing.
        """
        started = time.monotonic()
        pods = f"/api/v1/namespaces/{namespace}/pods"
        jobs, mediajobs = jobs_path(namespace), mediajobs_path(namespace)
        await self.kube.request("DELETE", jobs, body=delete_options(propagationPolicy="Background"))
        await self.kube.request("DELETE", pods, body=delete_options(gracePeriodSeconds=0))
        await self.kube.delete(f"/api/v1/namespaces/{namespace}")

        async def emptied() -> bool:
            for path in (pods, jobs, mediajobs):
                listing = await self.kube.request("GET", path, params={"limit": "1"})
                if listing.get("items"):
                    return False
            return True

        try:
            await until(f"namespace {namespace} to empty", emptied, 300, interval=0.5)
            log(f"namespace {namespace} emptied in {time.monotonic() - started:.1f} s")
        except TimeoutError as err:
            self.report.note(f"warning: {err}; the next phase may be disturbed")

    @contextlib.asynccontextmanager
    async def operator(
        self, namespace: str, config: dict[str, Any], *, start: bool = True
    ) -> AsyncIterator[Operator]:
        op = Operator(OperatorProcess(self.kubectl, namespace, self.workdir, config))
        try:
            if start:
                await op.start()
            yield op
        finally:
            await asyncio.to_thread(op.process.stop)
            if op.process.log.exists():
                complaints = log_complaints(op.process.log.read_text(errors="replace"))
                if complaints:
                    self.report.note(f"{namespace}: the operator logged {complaints}")

    @contextlib.asynccontextmanager
    async def watches(self) -> AsyncIterator[Watches]:
        w = Watches(self.kube, self.session)
        try:
            yield w
        finally:
            await w.close()


# ---- phases -------------------------------------------------------------------------------


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

        def on_mediajob(kind: str, obj: dict[str, Any], _: float) -> None:
            uid = obj["metadata"]["uid"]
            if kind == "MODIFIED":
                modified[uid] += 1  # only the operator writes MediaJobs here: its status patches
            if (obj.get("status") or {}).get("phase") == "Succeeded":
                succeeded.add(uid)
                if len(succeeded) >= n:
                    all_done.set()

        writes_before = await op.writes()
        await w.watch(jobs_path(ns), added, label_selector=MANAGED, metadata_only=True)
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
    r.add("admission latency p50 (capacity free)", ms(p50), "≤ 50 ms", p50 <= 0.050)
    r.add("admission latency p99", ms(p99), "≤ 250 ms", p99 <= 0.250)
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

        def on_job(kind: str, obj: dict[str, Any], arrived: float) -> None:
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

        await w.watch(jobs_path(ns), on_job, label_selector=MANAGED)
        await b.create(mediajobs_path(ns), [mediajob_body(f"handoff-{i:03d}") for i in range(n)])
        await w.until(f"{n} Jobs to finish one after the other", all_done, 30 + n * 15, op)

    order = sorted(added, key=lambda name: added[name])
    gaps = [added[nxt] - finished[prev] for prev, nxt in pairwise(order)]
    overlaps = sum(1 for g in gaps if g < 0)
    p50 = percentile(gaps, 0.5)
    r.add(
        "slot handoff p50 (Job Complete -> next Job)",
        f"{ms(p50)} ({p50 / 5:.1%} of 5 s polling)",
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


def bench_record(namespace: str, name: str, uid: str) -> Record:
    """The operator's Record of a bench MediaJob (as if read back from the API)."""
    body = mediajob_body(name, LONG_RUN)
    body["metadata"] |= {
        "namespace": namespace,
        "uid": uid,
        "creationTimestamp": "2025-01-01T00:00:00Z",
    }
    return record_from_body(body)


def raw_job(namespace: str, index: int, config: OperatorConfig) -> Body:
    """A batch/v1 Job shaped exactly as the operator builds one, minus the owner reference."""
    name = f"raw-{index:05d}"
    record = bench_record(namespace, name, str(uuid4()))
    if record.placement is None:
        raise RuntimeError(record.invalid)
    job = build_job(
        name=name,
        namespace=namespace,
        uid=record.uid,
        spec=record.spec,
        attempt=1,
        placement=record.placement,
        config=config,
        pool=None,
    )
    job["metadata"].pop("ownerReferences")  # no MediaJob owns it: the GC would delete it
    for target in (job["metadata"], job["spec"]["template"]["metadata"]):
        target["labels"] = record.labels | target.get("labels", {})
    return job


def rate_of(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f}/s"


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
        await w.watch(jobs_path(ns), added, label_selector=MANAGED, metadata_only=True)
        await w.watch(
            mediajobs_path(ns), running, field_selector="status.phase=Running", metadata_only=True
        )
        cpu_before = op.cpu()
        bodies = [mediajob_body(f"tp-{i:05d}", LONG_RUN) for i in range(n)]
        created = await b.create(mediajobs_path(ns), bodies)
        await w.until(f"{n} Jobs", added.event, 60 + n / 20, op)
        cpu = op.cpu() - cpu_before
        await w.until(f"{n} MediaJobs Running", running.event, 60 + n / 20, op)

    first = min(c.sent for c in created)
    last_create = max(c.done for c in created)
    admitted = n / (added.last - first)
    lag = added.last - last_create
    r.add("throughput: MediaJobs applied at once -> admitted", f"{admitted:.0f}/s", "≥ 100/s",
          admitted >= 100)  # fmt: skip
    r.add("throughput vs raw API Job creates (same client, same run)",
          f"{admitted / raw:.0%} (raw {raw:.0f}/s)", "≥ 50 %", admitted / raw >= 0.5)  # fmt: skip
    r.add("drain lag: last MediaJob created -> last Job created", f"{lag:.2f} s", "≤ 1 s",
          lag <= 1.0)  # fmt: skip
    shown = [running.at[uid] - added.at[uid] for uid in added.at]
    r.note(
        f"throughput: MediaJobs created at {rate_of(n, last_create - first)} while the operator "
        f"admitted; operator CPU {cpu:.1f} s for {n} admissions "
        f"({cpu / n * 1000:.1f} ms each); the Running status followed each Job by "
        f"{ms(percentile(shown, 0.5))} (p50) / {ms(max(shown))} (max), the last one "
        f"{running.last - added.last:.1f} s after the last Job"
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
        await w.watch(jobs_path(ns), added, label_selector=MANAGED, metadata_only=True)
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


async def _admit(kube: Kube, ns: str, shape: str, left: Iterator[tuple[Created, Body]]) -> None:
    """One writer: the writes of SHAPE for each (MediaJob, Job) it takes from LEFT."""
    for mj, job in left:
        await kube.create(jobs_path(ns), job)
        if shape == "Job create":
            continue
        # The reconciler's own Running status and Event for this admission.
        record = bench_record(ns, mj.name, mj.uid)
        running = statuses.admitted(record, 1, mj.name, datetime.now(UTC))
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
    for shape in ("Job create", "+ status patch", "+ Event"):
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
    shown = "; ".join(f"{shape} {rate:.0f}/s" for shape, rate in rates.items())
    patch = alone / rates["+ status patch"] - 1
    event = alone / rates["+ Event"] - alone / rates["+ status patch"]
    r.note(
        f"writes (no operator, {b.concurrency} in flight): {shown}: a MediaJob status patch "
        f"costs the API server {patch:.1f}x a Job create, an Event {event:.1f}x"
    )


PHASE_FUNCTIONS = {
    "steady": steady,
    "handoff": handoff,
    "throughput": throughput,
    "backlog": backlog,
    "rss": rss,
    "writes": writes,
}


# ---- the run ------------------------------------------------------------------------------


@contextlib.contextmanager
def cluster(kubeconfig: Path | None) -> Iterator[Path]:
    """KUBECONFIG as given, or a cluster of our own, stopped on the way out."""
    if kubeconfig is not None:
        yield kubeconfig
        return
    os.environ.setdefault("MEDIAJOBS_CLUSTER_PORT_BASE", DEFAULT_PORT_BASE)
    hack = load_hack_cluster()
    hack.ensure_binaries()
    own = hack.Cluster(Path(tempfile.mkdtemp(prefix="mediajobs-bench-cluster-")))
    try:
        own.up()
        yield Path(own.kubeconfig)
    finally:
        own.down()


def install_crds(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    kubectl.run(
        "wait", "--for=condition=Established", "--timeout=60s",
        "crd/mediajobs.mediajobs.dev", "crd/hitlsessions.mediajobs.dev",
    )  # fmt: skip


async def run_phases(
    kubectl: Kubectl, workdir: Path, sizes: Sizes, concurrency: int, phases: Sequence[str]
) -> Report:
    report = Report()
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM: cancel, so every finally stops what it started
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    os.environ["KUBECONFIG"] = str(kubectl.kubeconfig)
    login = Login.from_environment()
    credentials = await login.current()
    async with (
        Kube(login, connections=concurrency * 2) as kube,
        aiohttp.ClientSession(
            base_url=credentials.server,
            headers=credentials.headers(),
            connector=aiohttp.TCPConnector(ssl=credentials.tls.context()),
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        ) as session,
    ):
        version = await kube.request("GET", "/version")
        report.note(f"cluster: kube-apiserver {version.get('gitVersion')} at {credentials.server}")
        bench = Bench(kube, session, kubectl, workdir, sizes, concurrency, report)
        for name in phases:
            started = time.monotonic()
            try:
                await PHASE_FUNCTIONS[name](bench)
            except Exception as err:  # report it and go on with the next phase
                log(f"{name} failed: {type(err).__name__}: {err}")
                report.errors.append(f"{name}: {type(err).__name__}: {err}")
                report.add(f"{name} (failed)", type(err).__name__, "", False)
            log(f"{name}: {time.monotonic() - started:.0f} s ({load()})")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.operator_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small N: a smoke test")
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        default=os.environ.get("MEDIAJOBS_KUBECONFIG") or None,
        help="use this cluster (CRDs are applied) instead of starting one",
    )
    parser.add_argument("--only", default=",".join(PHASES), help=f"phases, of {','.join(PHASES)}")
    parser.add_argument("--concurrency", type=int, default=32, help="creates in flight")
    parser.add_argument("--workdir", type=Path, default=None, help="operator logs (default: tmp)")
    args = parser.parse_args(argv)
    phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    sizes = QUICK if args.quick else FULL
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mediajobs-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # outside asyncio: unwind too
    began = time.monotonic()
    load_before = load()
    log(f"operator logs in {workdir}")
    with cluster(args.kubeconfig) as kubeconfig:
        kubectl = Kubectl(load_hack_cluster().binary("kubectl"), kubeconfig)
        install_crds(kubectl)
        report = asyncio.run(run_phases(kubectl, workdir, sizes, args.concurrency, phases))

    print()
    print(f"## mediajobs operator bench ({'quick' if args.quick else 'full'})")
    print()
    print(report.table())
    print()
    for line in report.notes:
        print(f"- {line}")
    for line in report.errors:
        print(f"- FAILED {line}")
    print()
    for line in machine():
        print(line)
    print(f"{load_before} at the start, {load()} at the end; {time.monotonic() - began:.0f} s")
    print(f"command: {command('bench.operator_bench')}")
    print(f"operator logs: {workdir}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
