"""The bench's harness: sizes, objects to create, creating them fast, namespaces, the
operator per phase, the cluster; the phases live in bench/latency.py and bench/load.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from tests.builders import mediajob
from tests.localcluster import Kubectl, load_hack_cluster
from tests.operator_harness import OperatorProcess

from bench.common import Report, log, ms, percentile, until
from bench.process import Operator, log_complaints
from bench.watches import Watches
from mediajobs.config import OperatorConfig
from mediajobs.jobs.build import build_job
from mediajobs.jobs.naming import MANAGED_BY_LABEL, MANAGER
from mediajobs.kube.client import Kube
from mediajobs.kube.port import Body, Selection, jobs_path, mediajobs_path
from mediajobs.lifecycle.records import Record, record_from_body

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PORT_BASE = "26600"  # next to .cluster/ (26400) and the tests' cluster (26500)
RUN_FOR_LABEL = "kwok.mediajobs.dev/run-for"  # hack/kwok/stages.yaml; default run: 1 s
LONG_RUN = {RUN_FOR_LABEL: "600s"}  # pods that do not finish within a phase
MANAGED = Selection(labels=f"{MANAGED_BY_LABEL}={MANAGER}")  # the operator's Jobs
MANAGED_META = Selection(MANAGED.labels, metadata_only=True)  # their metadata alone
# KWOK mounts nothing: no PVC needed
MEDIA: dict[str, Any] = {"media": {"source": {"emptyDir": {}}}}
UNCAPPED = MEDIA | {
    "limits": {
        "cpu": {"maxRunning": 100_000},
        "gpu_encode": {"maxRunning": 2},
        "gpu_ai": {"maxRunning": 1},
    }
}
PHASES = ("steady", "handoff", "throughput", "backlog", "fairshare", "rss", "writes", "plugin")


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
    plugin: int  # MediaJobs that `kubectl mediajobs list` shows


FULL = Sizes(
    steady=200,
    steady_rate=20,
    warmup=10,
    handoff=30,
    throughput=2000,
    backlog=2000,
    rss=10_000,
    writes=1000,
    plugin=2000,
)
QUICK = Sizes(
    steady=30,
    steady_rate=20,
    warmup=5,
    handoff=5,
    throughput=200,
    backlog=200,
    rss=500,
    writes=100,
    plugin=200,
)


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
    kubectl: Kubectl
    workdir: Path
    sizes: Sizes
    concurrency: int
    report: Report
    rates: dict[str, float] = field(default_factory=dict)  # create rates, for later phases
    flood: tuple[int, float] | None = None  # throughput: (status patches needed, settle time)

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
        self,
        namespace: str,
        config: dict[str, Any],
        *,
        start: bool = True,
        args: Sequence[str] = (),
    ) -> AsyncIterator[Operator]:
        """The operator watching NAMESPACE (ARGS: more flags, e.g. more namespaces)."""
        process = OperatorProcess(self.kubectl, namespace, self.workdir, config, args=list(args))
        op = Operator(process)
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
        w = Watches(self.kube)
        try:
            yield w
        finally:
            await w.close()


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
        run=1,
        placement=record.placement,
        config=config,
        pool=None,
    )
    job["metadata"].pop("ownerReferences")  # no MediaJob owns it: the GC would delete it
    for target in (job["metadata"], job["spec"]["template"]["metadata"]):
        target["labels"] = record.labels | target.get("labels", {})
    return job


def create_rtt(created: Sequence[Created]) -> float:
    """The API's own create round trip (p50) in the same phase: the unit latencies are
    given in, as absolute figures swing 10x with the machine's load and ratios do not."""
    return percentile([c.done - c.sent for c in created], 0.5)


def vs_create(seconds: float, rtt: float) -> str:
    return f"{seconds / rtt:.2f}x create RTT {ms(rtt)}"


def rate_of(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f}/s"


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
        "crd/mediajobschedules.mediajobs.dev",
    )  # fmt: skip
