"""What a Job per MediaJob costs, on the real node (`make bench`; needs root and `make images`).

    .venv/bin/python -m bench.jobcost                     # 50 thumbnails, 10 ten-second re-encodes
    .venv/bin/python -m bench.jobcost --thumbnails 2 --reencodes 1 --seconds 2   # a smoke run
    .venv/bin/python -m bench.jobcost --cluster-dir DIR   # a cluster already up with --real-node

Without --cluster-dir it starts a cluster of its own (hack/cluster.py up --real-node, state
in its work folder, ports from $MEDIAJOBS_CLUSTER_PORT_BASE, default 26600) and stops it at
the end, removing the node's unpacked images. The
operator runs out of cluster as in bench/operator_bench.py; its Jobs' pods run the worker
image on the real node, on a media folder of the host mounted as a hostPath, publishing
progress to a redis-server on the host end of the node's veth (pods and host reach it).

Every path runs the same tasks one at a time, task by task in turn (Kubernetes, a
container, the warm worker, bare FFmpeg), so their figures compare like with like under
the same load:
- Kubernetes: each MediaJob created once the one before it has settled (Succeeded, its
  pod and Job done); per job, MediaJob create -> Succeeded; the batch's wall time is
  their sum (one at a time);
- the same worker image as a container without Kubernetes (`ctr run` on the node's
  containerd: bench/jobcost_container.py), the warm worker and bare FFmpeg
  (bench/jobcost_baselines.py), each on the Task the operator gave the pod, right after it.
The overhead per job is the first minus the warm worker's time for the same task; where
it goes comes from the watch, containerd's events and the container log (bench/jobcost_timeline.py).
Inputs: one 1280x720 clip made by FFmpeg's test sources, read by every job. Re-encodes ask
for `category: cpu`: the node has no GPU (FFmpeg would take the CPU path anyway), and the
GPU pools select nodes labelled for them.
"""

# ruff: noqa: E402 - the repository's folders go on sys.path before its modules are imported

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "operator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.e2e.realnode import cluster_cli
from tests.localcluster import Kubectl, load_hack, load_hack_cluster

from bench.common import Report, command, load, log, machine
from bench.harness import QUICK, Bench, install_crds
from bench.jobcost_baselines import Baselines, Task, local_task
from bench.jobcost_container import ContainerPath
from bench.jobcost_report import Workload, WorkloadResult, incomplete, render
from bench.jobcost_timeline import Timeline, first_event, log_line_time
from bench.node_events import ContainerdEvents
from bench.process import Operator
from bench.watches import Watches
from bench.worker import make_clip, redis_server
from mediajobs.api.contract import TASK_ENV
from mediajobs.jobs.naming import UID_LABEL
from mediajobs.kube.client import Kube
from mediajobs.kube.login import Login
from mediajobs.kube.port import Body, Selection, jobs_path, mediajobs_path

RUN_AS = 10001  # the images' user (jobs/build.py): the media folder must be its
CLIP = "in/clip-1280x720.mp4"
TIMEOUT = {"thumbnail_generate": 180.0, "reencode_streaming": 900.0}  # per job


@dataclass
class Marks:
    """What the watches saw, per MediaJob uid, as wall-clock times (first sighting)."""

    offset: float = field(default_factory=lambda: time.time() - time.monotonic())
    by_uid: dict[str, dict[str, float]] = field(default_factory=dict)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    settled: dict[str, asyncio.Event] = field(default_factory=dict)  # pod and Job done
    failed: dict[str, str] = field(default_factory=dict)

    def see(self, uid: str | None, mark: str, arrived: float) -> None:
        if uid is None:
            return
        marks = self.by_uid.setdefault(uid, {})
        marks.setdefault(mark, arrived + self.offset)
        if "pod_done" in marks and "job_complete" in marks:
            self.settle(uid).set()

    def event(self, uid: str) -> asyncio.Event:
        return self.done.setdefault(uid, asyncio.Event())

    def settle(self, uid: str) -> asyncio.Event:
        return self.settled.setdefault(uid, asyncio.Event())

    def on_mediajob(self, _: str, obj: Mapping[str, Any], arrived: float) -> None:
        uid, status = obj["metadata"]["uid"], obj.get("status") or {}
        if status.get("phase") == "Succeeded":
            self.see(uid, "succeeded", arrived)
            self.event(uid).set()
        elif status.get("phase") in ("Failed", "Cancelled"):
            self.failed[uid] = f"{obj['metadata']['name']}: {status.get('message', '')}"
            self.event(uid).set()

    def on_job(self, _: str, obj: Mapping[str, Any], arrived: float) -> None:
        uid = (obj["metadata"].get("labels") or {}).get(UID_LABEL)
        self.see(uid, "job", arrived)
        conditions = (obj.get("status") or {}).get("conditions") or []
        # SuccessCriteriaMet comes first (the pods may still be terminating): the operator
        # reads either as success (jobs/outcome.py).
        succeeded = ("Complete", "SuccessCriteriaMet")
        if any(c["type"] in succeeded and c["status"] == "True" for c in conditions):
            self.see(uid, "job_complete", arrived)

    def on_pod(self, _: str, obj: Mapping[str, Any], arrived: float) -> None:
        uid = (obj["metadata"].get("labels") or {}).get(UID_LABEL)
        self.see(uid, "pod", arrived)
        if obj["spec"].get("nodeName"):
            self.see(uid, "scheduled", arrived)
        statuses = (obj.get("status") or {}).get("containerStatuses") or []
        if any("terminated" in (s.get("state") or {}) for s in statuses):
            self.see(uid, "reported", arrived)
        if (obj.get("status") or {}).get("phase") == "Succeeded":
            self.see(uid, "pod_done", arrived)


def mediajob(workload: Workload, index: int) -> Body:
    name = f"{workload.short}-{index:03d}"
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": name},
        "spec": {
            "operation": workload.operation,
            "category": "cpu",
            "input": {"path": CLIP},
            "output": {"path": f"k8s/{name}.{workload.extension}"},
        },
    }


@dataclass(frozen=True)
class Ran:
    """One MediaJob run on the cluster: its timeline and the Task its pod was given."""

    timeline: Timeline
    task: Task
    image: str  # the worker's


@dataclass
class Cluster:
    """The phase's hold on the cluster: the API, the operator, the watches, containerd."""

    bench: Bench
    namespace: str
    operator: Operator
    watches: Watches
    marks: Marks
    events: ContainerdEvents
    media: Path
    scratch: Path
    containers: ContainerPath

    async def run(self, workload: Workload) -> WorkloadResult:
        """WORKLOAD's tasks one at a time, each on the four paths in turn: its MediaJob
        (created once the one before it has settled), then the same image in a container
        without Kubernetes, the warm worker and bare FFmpeg, on the Task its pod was given."""
        timelines, baselines = [], Baselines()
        containers = dataclasses.replace(self.containers, seconds=[])
        for index in range(workload.count):
            ran = await self.run_job(mediajob(workload, index), TIMEOUT[workload.operation])
            timelines.append(ran.timeline)
            name, extension = ran.timeline.name, workload.extension
            warm, bare = (
                local_task(ran.task, self.media, self.scratch, f"{path}/{name}.{extension}")
                for path in ("warm", "bare")
            )
            ctr = dict(ran.task) | {"output": {"path": f"ctr/{name}.{extension}"}}
            unique = f"jobcost-{name}-{os.getpid()}"  # a container left by a crash stays
            await asyncio.to_thread(containers.run, ctr, self.media, unique, ran.image)
            await asyncio.to_thread(baselines.run, warm, bare)
        return WorkloadResult(
            workload, timelines, baselines.warm, baselines.bare, containers.seconds
        )

    async def run_job(self, body: Body, timeout: float) -> Ran:
        """BODY's MediaJob until it Succeeded and its pod and Job have settled."""
        name = body["metadata"]["name"]
        sent = time.time()
        obj, _ = await self.bench.kube.create(mediajobs_path(self.namespace), body)
        if obj is None:
            raise RuntimeError(f"{name} exists already")
        uid = obj["metadata"]["uid"]
        await self.watches.until(f"{name} to finish", self.marks.event(uid), timeout,
                                 self.operator)  # fmt: skip
        if uid in self.marks.failed:
            raise RuntimeError(f"MediaJob {self.marks.failed[uid]}")
        await self.watches.until(f"{name}'s pod and Job to settle", self.marks.settle(uid),
                                 timeout, self.operator)  # fmt: skip
        self.events.alive()
        return await self.collect(name, uid, sent)

    async def collect(self, name: str, uid: str, sent: float) -> Ran:
        """The marks the watches do not give (containerd's, the log's), and the pod's Task."""
        ns = self.namespace
        pods = await self.bench.kube.list_all(
            f"/api/v1/namespaces/{ns}/pods", Selection(f"{UID_LABEL}={uid}")
        )
        if len(pods) != 1:
            raise RuntimeError(f"{name}: {len(pods)} pods (one attempt expected)")
        pod = pods[0]
        statuses = pod["status"].get("containerStatuses") or [{}]
        if "containerID" not in statuses[0]:
            raise RuntimeError(f"{name}: its pod names no container: {json.dumps(pod['status'])}")
        container = statuses[0]["containerID"].partition("://")[2]
        sandbox = await self.events.sandbox_of(container)
        kubectl = self.bench.kubectl.in_namespace(ns)
        logs = await asyncio.to_thread(kubectl.run, "logs", "--timestamps", pod["metadata"]["name"])
        lines = [line for line in logs.stdout.splitlines() if line.strip()]
        events = self.events.events
        found = {
            "created": sent,
            **self.marks.by_uid.get(uid, {}),
            "sandbox": first_event(events, sandbox, "/tasks/start"),
            "started": first_event(events, container, "/tasks/start"),
            "first_line": log_line_time(lines[0]) if lines else None,
            "exited": first_event(events, container, "/tasks/exit"),
        }
        env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0].get("env", [])}
        marks = {mark: at for mark, at in found.items() if at is not None}
        container = pod["spec"]["containers"][0]
        return Ran(Timeline(name, marks), json.loads(env[TASK_ENV]), container["image"])


def operator_config(media: Path, redis_url: str | None) -> dict[str, Any]:
    return {
        "media": {"source": {"hostPath": {"path": str(media), "type": "Directory"}}},
        "images": {"pullPolicy": "Never"},  # imported into the node's containerd
        "redisUrl": redis_url,
    }


async def on_cluster(
    kubectl: Kubectl, containers: ContainerPath, media: Path, redis_url: str | None,
    *, workloads: list[Workload], workdir: Path,
) -> tuple[list[WorkloadResult], list[str]]:  # fmt: skip
    """Each workload on its three paths; and what the operator complained of."""
    os.environ["KUBECONFIG"] = str(kubectl.kubeconfig)
    results: list[WorkloadResult] = []
    scratch = workdir / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    async with Kube(Login.from_environment()) as kube:
        b = Bench(kube, kubectl, workdir, QUICK, 1, Report())
        config = operator_config(media, redis_url)
        async with (
            b.namespace("jobcost") as ns,
            b.operator(ns, config) as op,
            b.watches() as w,
        ):
            marks = Marks()
            await w.watch(mediajobs_path(ns), marks.on_mediajob)
            await w.watch(jobs_path(ns), marks.on_job)
            await w.watch(f"/api/v1/namespaces/{ns}/pods", marks.on_pod)
            events = ContainerdEvents(containers.socket)
            await events.start()
            try:
                cluster = Cluster(b, ns, op, w, marks, events, media, scratch, containers)
                for workload in workloads:
                    log(f"{workload.label}: the cluster, a container, the warm worker, FFmpeg")
                    results.append(await cluster.run(workload))
            finally:
                await events.stop()
    return results, b.report.notes


@contextlib.contextmanager
def real_node_cluster(given: Path | None, workdir: Path) -> Iterator[Path]:
    """The state folder of a cluster with a real node: GIVEN, or one of our own, stopped
    (its node's unpacked images removed) on the way out."""
    if given is not None:
        yield given
        return
    state = workdir / "cluster"
    try:
        cluster_cli(state, "up", "--real-node")
        yield state
    finally:
        cluster_cli(state, "down")
        shutil.rmtree(state / "node-containerd", ignore_errors=True)


def make_media(media: Path, seconds: float) -> None:
    clip = media / CLIP
    clip.parent.mkdir(parents=True, exist_ok=True)
    make_clip(clip, seconds)
    for folder in (media, clip.parent):  # the pods' user writes outputs next to it
        os.chown(folder, RUN_AS, RUN_AS)


def measure(args: argparse.Namespace, workdir: Path) -> list[WorkloadResult]:
    media = workdir / "media"
    make_media(media, args.seconds)
    workloads = [
        w
        for w in (
            Workload("thumbnail_generate", "thumb", "jpg", args.thumbnails),
            Workload("reencode_streaming", "reencode", "mp4", args.reencodes),
        )
        if w.count > 0
    ]
    with real_node_cluster(args.cluster_dir, workdir) as state:
        kubectl = Kubectl(load_hack_cluster().binary("kubectl"), state / "kubeconfig")
        install_crds(kubectl)
        node = load_hack("node")
        real = node.RealNode(node.Cluster(state))
        containers = ContainerPath(real.inside(), real.socket, node.CGROUP_ROOT)
        # The API server listens on the host end of the node's veth: pods reach it too.
        server = yaml.safe_load(kubectl.kubeconfig.read_text())["clusters"][0]["cluster"]
        host = urlparse(server["server"]).hostname or "127.0.0.1"
        with redis_server(workdir, host) as redis_url:
            results, notes = asyncio.run(
                on_cluster(
                    kubectl, containers, media, redis_url, workloads=workloads, workdir=workdir
                )
            )
            for note in notes:
                print(f"- {note}")
            return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.jobcost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--thumbnails", type=int, default=50, help="thumbnail_generate jobs")
    parser.add_argument("--reencodes", type=int, default=10, help="reencode_streaming jobs")
    parser.add_argument("--seconds", type=float, default=10, help="the input clip's length")
    parser.add_argument("--cluster-dir", type=Path, default=None,
                        help="state folder of a cluster up with --real-node")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench.jobcost skipped: the real node (hack/node.py) needs root "
              "(network and mount namespaces, cgroups); run `make bench` as root")  # fmt: skip
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="mediajobs-jobcost-"))
    workdir.mkdir(parents=True, exist_ok=True)
    began, load_before = time.monotonic(), load()
    log(f"work folder (operator logs, media, cluster state) {workdir}")
    results = measure(args, workdir)
    print()
    print(render(results))
    print()
    for line in machine():
        print(line)
    print(f"{load_before} at the start, {load()} at the end; {time.monotonic() - began:.0f} s")
    print(f"command: {command('bench.jobcost')}")
    missing = incomplete(results)
    for why in missing:
        print(f"- FAILED: a timeline is incomplete: {why}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
