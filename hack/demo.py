"""`make run`: the whole product on a real node, and a demo set of jobs you can watch.

    make run                       # local: images, cluster (real node), chart, demo
    make run CLUSTER=external      # your $KUBECONFIG: the chart and the demo only

Steps, each printed with how long it took: the images (`make images`; built only when
their inputs changed), the local cluster with its real node (hack/cluster.py; kept when
it is already up), the media library (hack/demo_library.py; files already there are
kept), the chart (hack/release.py: `helm upgrade --install --wait`), the demo jobs
(hack/demo_jobs.py, `kubectl apply`). Then a table that refreshes in place while the
jobs run (name, phase, progress, queue position, what it waits for), and at the end
each job's phase, duration and outputs with where they are on disk. A second run
applies the same jobs unchanged: the finished ones stay finished, nothing runs again.

With CLUSTER=external nothing local is built or started: the chart's values come from
VALUES (files, e.g. images you pushed and the media volume), and the demo's library is
written to MEDIA_DIR, the folder behind that media volume, when you name one.

Runs with the project's virtualenv (PyYAML, Pillow, rich).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from cluster import COMPONENTS, REPO, Cluster, state_dir
from demo_jobs import NAMESPACE, demo_jobs
from demo_library import make_library
from node import NODE_NAME
from release import Release, install, kubectl
from rich.console import Console
from rich.live import Live
from rich.table import Table

from mediajobs.plugin.render import bar  # the plugin's progress cell, as `kubectl mediajobs list`

FINISHED = ("Succeeded", "Failed", "Cancelled")
# A log (not a terminal) keeps its long lines whole and its table readable.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 140)


@contextmanager
def step(title: str) -> Iterator[None]:
    console.print(f"[bold]==[/] {title}")
    t0 = time.monotonic()
    yield
    console.print(f"   done in {time.monotonic() - t0:.1f} s")


def run(*argv: str) -> None:
    subprocess.run(argv, check=True)


def local_cluster_up(cluster: Cluster) -> bool:
    """True when the local cluster and its real node already run (nothing to start)."""
    if not cluster.node_marker.exists():
        return False
    if not all(cluster.running_pid(n) for n in COMPONENTS if n != "kwok"):
        return False
    node = cluster.api(f"/api/v1/nodes/{NODE_NAME}")[1]
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in node.get("status", {}).get("conditions", [])
    )


def list_jobs(kubeconfig: Path) -> dict[str, dict[str, Any]]:
    out = kubectl(Release(kubeconfig), "get", "mediajobs", f"--namespace={NAMESPACE}", "-o", "json")
    return {j["metadata"]["name"]: j for j in json.loads(out)["items"]}


def table(names: list[str], jobs: dict[str, dict[str, Any]]) -> Table:
    grid = Table(title=f"MediaJobs in {NAMESPACE}", expand=False)
    for column in ("name", "operation", "phase", "progress", "queue", "waiting for / message"):
        grid.add_column(column)
    for name in names:
        job = jobs.get(name, {})
        status = job.get("status", {})
        position = status.get("queuePosition")
        grid.add_row(
            name,
            job.get("spec", {}).get("operation", ""),
            status.get("phase") or "Pending",
            bar(status.get("progress")),
            str(position) if position else "",
            (status.get("waitingReason") or status.get("message") or "")[:60],
        )
    return grid


def watch(kubeconfig: Path, names: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    """Until every job has finished: a live table on a terminal, phase changes otherwise."""
    deadline = time.monotonic() + timeout
    seen: dict[str, str] = {}
    jobs = list_jobs(kubeconfig)

    def done() -> bool:
        return all(jobs.get(n, {}).get("status", {}).get("phase") in FINISHED for n in names)

    with Live(table(names, jobs), console=console, auto_refresh=False) as live:
        while not done() and time.monotonic() < deadline:
            time.sleep(1)
            jobs = list_jobs(kubeconfig)
            if console.is_terminal:
                live.update(table(names, jobs), refresh=True)
                continue
            for name in names:  # a log, not a screen: one line per change
                phase = jobs.get(name, {}).get("status", {}).get("phase") or "Pending"
                if seen.get(name) != phase:
                    seen[name] = phase
                    console.print(f"   {name}: {phase}")
        live.update(table(names, jobs), refresh=True)
    if not done():
        console.print(f"[red]not finished after {timeout:.0f} s[/]")
    return jobs


def seconds_between(start: str | None, end: str | None) -> str:
    if not start or not end:
        return "-"
    parse = datetime.fromisoformat
    return f"{(parse(end) - parse(start)).total_seconds():.0f} s"


def summary(jobs: dict[str, dict[str, Any]], names: list[str], media: Path | None) -> None:
    console.print("\n[bold]== What each job did[/]")
    for name in names:
        status = jobs.get(name, {}).get("status", {})
        took = seconds_between(status.get("startedAt"), status.get("completedAt"))
        console.print(f"[bold]{name}[/]: {status.get('phase')} in {took}")
        for output in (status.get("result") or {}).get("outputs", []):
            where = media / output["path"] if media else output["path"]
            what = ", ".join(
                str(v) for v in (
                    output.get("videoCodec"), output.get("audioCodec"),
                    f"{output['width']}x{output['height']}" if output.get("width") else None,
                    f"{output['duration']:.1f} s" if output.get("duration") else None,
                    f"{output['bytes']} bytes",
                ) if v
            )  # fmt: skip
            console.print(f"   {where}  ({what})")
        data = (status.get("result") or {}).get("data")
        if data:  # results without files (scene timestamps, probe data)
            console.print(f"   result: {json.dumps(data)[:100]}")
        if status.get("phase") != "Succeeded" and status.get("message"):
            console.print(f"   {status['message']}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--cluster", choices=["local", "external"], default="local")
    parser.add_argument("--values", action="append", type=Path, default=[])
    parser.add_argument("--media", type=Path, help="the media volume's folder (external)")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    t0 = time.monotonic()
    if args.cluster == "local":
        cluster = Cluster(state_dir())
        media: Path | None = cluster.root / "media"
        with step("Images (make images: built only when their inputs changed)"):
            run(sys.executable, str(REPO / "hack" / "images.py"))
        with step("Local cluster with a real node (hack/cluster.py up --real-node)"):
            if local_cluster_up(cluster):
                console.print("   already up")
            else:
                if cluster.node_marker.exists():  # a node left half up: clear it first
                    run(sys.executable, str(REPO / "hack" / "cluster.py"), "down")
                run(sys.executable, str(REPO / "hack" / "cluster.py"), "up", "--real-node")
        kubeconfig = cluster.kubeconfig
    else:
        console.print("== CLUSTER=external: skipped the images build and the local cluster")
        kubeconfig = Path(os.environ.get("KUBECONFIG", "~/.kube/config").split(":")[0]).expanduser()
        media = args.media.resolve() if args.media else None
    if media is not None:
        with step(f"Media library in {media}"):
            made = make_library(media)
            console.print(f"   made {len(made)} files" if made else "   already there")
    else:
        console.print("== skipped the media library: no MEDIA_DIR; jobs will miss their inputs")
    with step("The chart (helm upgrade --install, both operator replicas and Redis Ready)"):
        install(Release(
            kubeconfig,
            namespaces=(NAMESPACE,),
            media=media if args.cluster == "local" else None,
            local_images=args.cluster == "local",
            values=tuple(args.values),
        ))  # fmt: skip
    jobs = demo_jobs()
    with step(f"The demo jobs ({len(jobs)}, kubectl apply in {NAMESPACE})"):
        manifest = {"apiVersion": "v1", "kind": "List", "items": jobs}
        kubectl(Release(kubeconfig), "apply", f"--namespace={NAMESPACE}", "-f", "-",
                stdin=json.dumps(manifest))  # fmt: skip
    names = [j["metadata"]["name"] for j in jobs]
    finished = watch(kubeconfig, names, args.timeout)
    summary(finished, names, media)
    console.print(
        f"\nmake run took {time.monotonic() - t0:.0f} s.\n"
        f"  export KUBECONFIG={kubeconfig}\n"
        f"  kubectl -n {NAMESPACE} get mj        # make down: stop and remove everything"
    )
    return (
        0
        if all(finished.get(n, {}).get("status", {}).get("phase") in FINISHED for n in names)
        else 1
    )


if __name__ == "__main__":
    sys.exit(main())
