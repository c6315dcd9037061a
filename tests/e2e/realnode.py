"""The local cluster with a real node (hack/cluster.py up --real-node), for e2e tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.localcluster import REPO

# e2e clusters get a port base (and so a netns, veth and /30) of their own.
E2E_PORT_BASE = "26600"


def cluster_env(state: Path, offset: int = 0) -> dict[str, str]:
    """The environment of a cluster kept in STATE, its port base OFFSET from the e2e one
    (a second cluster beside the session's gets a netns, veth and /30 of its own)."""
    env = dict(os.environ, MEDIAJOBS_CLUSTER_DIR=str(state))
    base = int(env.get("MEDIAJOBS_CLUSTER_PORT_BASE", E2E_PORT_BASE)) + offset
    env["MEDIAJOBS_CLUSTER_PORT_BASE"] = str(base)
    return env


def cluster_cli(state: Path, *args: str, offset: int = 0) -> None:
    """`hack/cluster.py ARGS` on the cluster kept in STATE; its output in the failure."""
    done = subprocess.run(
        [sys.executable, str(REPO / "hack" / "cluster.py"), *args],
        env=cluster_env(state, offset),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"cluster.py {' '.join(args)} failed:\n{done.stderr[-4000:]}")


def command_output(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def host_state() -> dict[str, object]:
    """What a real node must leave as it found on the host."""
    sysctls = (
        "net/ipv4/ip_forward", "kernel/panic_on_oops", "kernel/panic", "vm/overcommit_memory",
    )  # fmt: skip
    counters = re.compile(r"\[\d+:\d+\]")  # packet counts move with any traffic
    return {
        "sysctls": {s: Path("/proc/sys", s).read_text().strip() for s in sysctls},
        "iptables": counters.sub("", command_output("iptables-save")).splitlines()[1:-1],
        "netns": command_output("ip", "netns", "list"),
        "links": command_output("ip", "-o", "link"),
        "mounts": sorted(Path("/proc/self/mountinfo").read_text().splitlines()),
        # Folders the node mounts over in its own namespace (made when missing).
        "folders": {d: Path(d).exists() for d in ("/run/containerd", "/var/lib/cni")},
    }
