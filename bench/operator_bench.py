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

The harness (bench/harness.py: sizes, objects, fast creates, namespaces, the cluster;
bench/process.py: the operator process; bench/watches.py: timed watches) serves the
phases in bench/latency.py (steady, handoff) and bench/load.py (the rest). Each
latency is also given as a ratio to the API's own create round trip (p50) in the
same phase: absolute figures swing 10x with the machine's load, ratios much less.

Phases (DESIGN.md "Performance targets"):
  steady      MediaJobs created at a steady pace, capacity free, pods run 1 s:
              admission latency (create response -> Job ADDED on a watch) and the API
              writes per MediaJob lifecycle (create -> Succeeded)
  handoff     cpu cap 1, a queue of 1 s jobs: Job Complete (watch) -> next Job ADDED
  throughput  raw batch/v1 Job creates, then MediaJobs created as fast as one asyncio
              client can (pods run long, nothing finishes): admitted/s, ratio, drain lag,
              and the settle time (last MediaJob created -> every one Running), shown
              beside its floor when the writes phase runs too: the status patches it
              needs at the rate the writes phase measured for status patches alone
  backlog     MediaJobs created while the operator is stopped; start it: admitted/s
  fairshare   the backlog in 4 namespaces, cap at half, fair share off then on: admitted/s
              of each and their ratio; decide() alone over 10,000 waiting, off and on
  rss         10,000 MediaJobs (reference caps, so they queue): VmRSS once settled
  writes      no operator: the writes of an admission done by this client, 32 in flight
              (Job create; + MediaJob status patch; + Event; a status patch alone): what
              each costs the API server, the reason status and Events go in lanes of their own
  plugin      no operator: 2,000 MediaJobs with queue statuses; `kubectl mediajobs list`
              run as a process (bench/plugin.py): its wall time, target under 1 s

All times are client-side (time.monotonic in this process): creationTimestamp has 1 s
resolution. Watches ask for PartialObjectMetadata where only labels are needed.
"""

# ruff: noqa: E402 - the repository's folders go on sys.path before its modules are imported

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "operator"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from tests.localcluster import Kubectl, load_hack_cluster

from bench.common import (
    Report,
    command,
    load,
    log,
    machine,
)
from bench.fairshare import fairshare
from bench.harness import (
    FULL,
    PHASES,
    QUICK,
    Bench,
    Sizes,
    cluster,
    install_crds,
)
from bench.latency import handoff, steady
from bench.load import backlog, rss, settle_row, throughput, writes
from bench.plugin import plugin_list
from mediajobs.kube.client import Kube
from mediajobs.kube.login import Login

PHASE_FUNCTIONS = {
    "steady": steady,
    "handoff": handoff,
    "throughput": throughput,
    "backlog": backlog,
    "fairshare": fairshare,
    "rss": rss,
    "writes": writes,
    "plugin": plugin_list,
}


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
    async with Kube(login, connections=concurrency * 2) as kube:
        version = await kube.request("GET", "/version")
        report.note(f"cluster: kube-apiserver {version.get('gitVersion')} at {credentials.server}")
        bench = Bench(kube, kubectl, workdir, sizes, concurrency, report)
        for name in phases:
            started = time.monotonic()
            try:
                await PHASE_FUNCTIONS[name](bench)
            except Exception as err:  # report it and go on with the next phase
                log(f"{name} failed: {type(err).__name__}: {err}")
                report.errors.append(f"{name}: {type(err).__name__}: {err}")
                report.add(f"{name} (failed)", type(err).__name__, "", False)
            log(f"{name}: {time.monotonic() - started:.0f} s ({load()})")
    settle_row(bench)
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
