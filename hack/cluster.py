#!/usr/bin/env python3
"""A real local Kubernetes control plane on 127.0.0.1, with KWOK nodes.

    python3 hack/cluster.py up      # build (cached) binaries, start, wait until ready
    python3 hack/cluster.py down    # stop exactly what `up` started, remove its state
    python3 hack/cluster.py status

Everything lives under one state folder (default: .cluster/ in the repository,
or $MEDIAJOBS_CLUSTER_DIR): certificates, the admin kubeconfig, logs, etcd's data
and one pid file per process. `down` stops the processes named in those pid files
and nothing else. Servers bind to 127.0.0.1 only.

Nodes are KWOK's (with `--real-node`, the real node instead): two CPU nodes and
one GPU node advertising nvidia.com/gpu: 2.
KWOK's stages (hack/kwok/stages.yaml) take a pod to Running and then to
Succeeded, so the real Job controller completes Jobs. A pod can ask for another
ending through annotations (see stages.yaml): how long it runs, its exit code
and its termination message.

Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from cluster_pki import make_pki

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
# Fixed ports keep logs and kubeconfigs readable; MEDIAJOBS_CLUSTER_PORT_BASE moves them all.
PORT_BASE = int(os.environ.get("MEDIAJOBS_CLUSTER_PORT_BASE", "26400"))
ETCD_CLIENT, ETCD_PEER, APISERVER = PORT_BASE, PORT_BASE + 1, PORT_BASE + 2
CONTROLLER_MANAGER, SCHEDULER, KWOK = PORT_BASE + 3, PORT_BASE + 4, PORT_BASE + 5
SERVICE_CIDR = "10.96.0.0/16"
# With a real node (hack/node.py) the API server binds to the host end of the node's
# veth instead of 127.0.0.1: a /30 per port base, so clusters side by side never meet.
_NODE_LINK = f"10.250.{(PORT_BASE // 100) % 250 + 1}"
NODE_HOST_IP, NODE_IP = f"{_NODE_LINK}.1", f"{_NODE_LINK}.2"
# Order matters: each depends on the ones before; `down` stops them in reverse.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def log(msg: str) -> None:
    print(f"[cluster] {msg}", file=sys.stderr, flush=True)


def read_versions() -> dict[str, str]:
    versions = {}
    for raw in (HERE / "versions.env").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            versions[key] = value
    return versions


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mediajobs" / "bin"


def bin_dirs() -> dict[str, Path]:
    v = read_versions()
    root = cache_dir()
    return {
        "etcd": root / f"etcd-{v['ETCD_VERSION']}",
        "kubernetes": root / f"kubernetes-{v['K8S_VERSION']}",
        "kwok": root / f"kwok-{v['KWOK_VERSION']}",
        "helm": root / f"helm-{v['HELM_VERSION']}",
        "kube-proxy": root / f"kube-proxy-{v['K8S_VERSION']}",
        "coredns": root / f"coredns-{v['COREDNS_VERSION']}",
    }


def binary(name: str) -> str:
    dirs = bin_dirs()
    folder = {"etcd": dirs["etcd"], "kwok": dirs["kwok"], "helm": dirs["helm"]}.get(
        name, dirs["kubernetes"]
    )
    return str(folder / name)


def state_dir() -> Path:
    return Path(os.environ.get("MEDIAJOBS_CLUSTER_DIR", REPO / ".cluster")).resolve()


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pki = root / "pki"
        self.logs = root / "logs"
        self.pids = root / "pids"
        self.kubeconfig = root / "kubeconfig"
        self.token_file = self.pki / "admin.token"
        # Set by `up --real-node`; kept as a file so `down` and later commands know it.
        self.node_marker = root / "real-node"
        # What this invocation started: its liveness is poll(), not /proc (which,
        # between fork and exec, still shows the Python parent's command line).
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    # ---- certificates and credentials -------------------------------------------------

    @property
    def api_host(self) -> str:
        return NODE_HOST_IP if self.node_marker.exists() else HOST

    def make_pki(self) -> None:
        sans = (
            f"subjectAltName=IP:127.0.0.1,IP:{NODE_HOST_IP},IP:10.96.0.1,DNS:localhost,"
            "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,"
            "DNS:kubernetes.default.svc.cluster.local"
        )
        make_pki(self.pki, sans, self.token_file)

    def write_kubeconfig(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "mediajobs-local",
                    "cluster": {
                        "server": f"https://{self.api_host}:{APISERVER}",
                        "certificate-authority": str(self.pki / "ca.crt"),
                    },
                }
            ],
            "users": [{"name": "admin", "user": {"token": self.token_file.read_text()}}],
            "contexts": [
                {
                    "name": "mediajobs-local",
                    "context": {"cluster": "mediajobs-local", "user": "admin"},
                }
            ],
            "current-context": "mediajobs-local",
        }
        self.kubeconfig.write_text(json.dumps(config, indent=2))
        self.kubeconfig.chmod(0o600)

    # ---- processes ------------------------------------------------------------------

    def argv(self, name: str) -> list[str]:
        p, kc = self.pki, str(self.kubeconfig)
        if name == "etcd":
            return [
                binary("etcd"),
                f"--data-dir={self.root / 'etcd'}",
                f"--listen-client-urls=http://{HOST}:{ETCD_CLIENT}",
                f"--advertise-client-urls=http://{HOST}:{ETCD_CLIENT}",
                f"--listen-peer-urls=http://{HOST}:{ETCD_PEER}",
                f"--initial-advertise-peer-urls=http://{HOST}:{ETCD_PEER}",
                f"--initial-cluster=default=http://{HOST}:{ETCD_PEER}",
                "--unsafe-no-fsync",  # a test cluster: speed over durability
                "--quota-backend-bytes=4294967296",
                "--log-level=warn",
            ]
        if name == "kube-apiserver":
            return [
                binary("kube-apiserver"),
                f"--etcd-servers=http://{HOST}:{ETCD_CLIENT}",
                f"--bind-address={self.api_host}",
                f"--advertise-address={self.api_host}",
                f"--secure-port={APISERVER}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                f"--token-auth-file={p / 'tokens.csv'}",
                "--authorization-mode=Node,RBAC",
                "--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,"
                "LimitRanger,ResourceQuota,Priority,DefaultTolerationSeconds",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-account-issuer=https://{HOST}:{APISERVER}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",
                f"--kubelet-client-certificate={p / 'kubelet-client.crt'}",
                f"--kubelet-client-key={p / 'kubelet-client.key'}",
                "--allow-privileged=false",
                "--max-requests-inflight=1000",
                "--max-mutating-requests-inflight=500",
                "--v=0",
            ]
        if name == "kube-controller-manager":
            return [
                binary("kube-controller-manager"),
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                f"--bind-address={HOST}",
                f"--secure-port={CONTROLLER_MANAGER}",
                # All controllers: a narrow list misses root-ca-certificate-publisher,
                # and every pod with a service-account volume then hangs.
                "--controllers=*",
                f"--service-account-private-key-file={p / 'sa.key'}",
                f"--root-ca-file={p / 'ca.crt'}",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
                "--concurrent-job-syncs=20",
                "--concurrent-gc-syncs=20",
                # A quota made before the quota controller saw its CRD (it looks every
                # 30 s) is counted at the next full resync; the default 5 min would keep
                # a count/mediajobs.mediajobs.dev quota refusing everything that long.
                "--resource-quota-sync-period=10s",
                "--v=0",
            ]
        if name == "kube-scheduler":
            return [
                binary("kube-scheduler"),
                f"--kubeconfig={kc}",
                f"--authentication-kubeconfig={kc}",
                f"--authorization-kubeconfig={kc}",
                f"--bind-address={HOST}",
                f"--secure-port={SCHEDULER}",
                "--leader-elect=false",
                "--kube-api-qps=500",
                "--kube-api-burst=1000",
                "--v=0",
            ]
        if name == "kwok":
            return [
                binary("kwok"),
                f"--kubeconfig={kc}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--server-address={HOST}:{KWOK}",
                "--node-ip=10.0.0.1",
                "--cidr=10.0.0.0/16",
                f"--config={HERE / 'kwok' / 'stages.yaml'}",
                "--v=ERROR",
            ]
        raise ValueError(name)

    def pid_file(self, name: str) -> Path:
        return self.pids / f"{name}.pid"

    def running_pid(self, name: str, program: str | None = None) -> int | None:
        """The pid in NAME's pid file, if that process (PROGRAM, default NAME) is alive and ours."""
        path = self.pid_file(name)
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            return None
        ours = bool(cmdline) and Path(cmdline[0].decode()).name == (program or name)
        return pid if ours else None  # a reused pid is not ours to touch

    def start(self, name: str, argv: list[str] | None = None, program: str | None = None) -> None:
        if self.running_pid(name, program):
            log(f"{name}: already running")
            return
        self.logs.mkdir(parents=True, exist_ok=True)
        self.pids.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            argv or self.argv(name),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives this script; `down` stops it by pid
            cwd=self.root,
        )
        self.started[name] = proc
        self.pid_file(name).write_text(f"{proc.pid}\n")
        log(f"{name}: started (pid {proc.pid}, log {self.logs / (name + '.log')})")

    def stop(self, name: str, grace: float = 10.0, program: str | None = None) -> None:
        pid = self.running_pid(name, program)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and self.running_pid(name, program):
                time.sleep(0.1)
            if self.running_pid(name, program):
                os.kill(pid, signal.SIGKILL)
                while self.running_pid(name, program):
                    time.sleep(0.05)
            log(f"{name}: stopped (pid {pid})")
        proc = self.started.pop(name, None)
        if proc is not None:
            if proc.poll() is None:  # ours, but stopped before it exec'd its program
                proc.kill()
            proc.wait()  # reap our child
        self.pid_file(name).unlink(missing_ok=True)

    # ---- readiness --------------------------------------------------------------------

    def _ssl(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.pki / "ca.crt"))

    def api(
        self,
        path: str,
        method: str = "GET",
        body: dict | list | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"https://{self.api_host}:{APISERVER}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self.token_file.read_text()}",
                "Content-Type": content_type,
            },
        )
        try:
            with urllib.request.urlopen(request, context=self._ssl(), timeout=5) as resp:  # noqa: S310
                raw = resp.read()
                code = resp.status
        except urllib.error.HTTPError as err:
            raw, code = err.read(), err.code
        try:
            return code, json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return code, {"raw": raw.decode(errors="replace")}

    def wait(self, what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            for name, proc in self.started.items():
                if proc.poll() is not None:
                    tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                    raise SystemExit(f"{name} exited while waiting for {what}:\n{tail}")
            try:
                if check():
                    return
            except (OSError, urllib.error.URLError) as err:
                last = err
            time.sleep(0.2)
        raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what} ({last})")

    def ready(self) -> bool:
        return self.api("/readyz")[0] == 200

    def nodes_ready(self, names: list[str]) -> bool:
        code, body = self.api("/api/v1/nodes")
        if code != 200:
            return False
        ready = {
            n["metadata"]["name"]
            for n in body.get("items", [])
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
        }
        return set(names) <= ready

    def default_service_account(self) -> bool:
        return self.api("/api/v1/namespaces/default/serviceaccounts/default")[0] == 200

    def apply_nodes(self) -> list[str]:
        nodes = json.loads((HERE / "kwok" / "nodes.json").read_text())
        for node in nodes:
            code, body = self.api("/api/v1/nodes", "POST", node)
            if code not in (201, 409):
                raise SystemExit(f"creating node {node['metadata']['name']}: {code} {body}")
        return [n["metadata"]["name"] for n in nodes]

    # ---- commands ---------------------------------------------------------------------

    def up(self, real_node: bool = False) -> None:
        t0 = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        self.make_pki()
        node = None
        if real_node:
            from node import RealNode  # noqa: PLC0415 (node.py imports this module)

            node = RealNode(self)
            node.make_network()  # first: the API server binds to the veth's host end
        self.write_kubeconfig()
        self.start("etcd")
        self.start("kube-apiserver")
        self.wait("the API server", self.ready)
        self.start("kube-controller-manager")
        self.start("kube-scheduler")
        if node is None:
            self.start("kwok")
            names = self.apply_nodes()
            self.wait("the KWOK nodes to be Ready", lambda: self.nodes_ready(names))
        self.wait("the default service account", self.default_service_account)
        if node is not None:
            # The real node alone: on a KWOK node beside it, the chart's pods and the
            # workers would be "run" by KWOK, and no FFmpeg would run.
            node.up()
        log(f"ready in {time.monotonic() - t0:.1f} s; KUBECONFIG={self.kubeconfig}")

    def down(self) -> None:
        if self.node_marker.exists():
            from node import RealNode  # noqa: PLC0415 (node.py imports this module)

            RealNode(self).down()
        for name in reversed(COMPONENTS):
            self.stop(name)
        for sub in ("etcd", "pids"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
        log(f"stopped; logs kept in {self.logs}")

    def status(self) -> int:
        names = [n for n in COMPONENTS if not (n == "kwok" and self.node_marker.exists())]
        alive = {name: self.running_pid(name) for name in names}
        for name, pid in alive.items():
            print(f"{name:24} {'running, pid ' + str(pid) if pid else 'stopped'}")
        return 0 if all(alive.values()) else 1


def ensure_binaries() -> None:
    subprocess.run(["bash", str(HERE / "build-binaries.sh")], check=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "status", "kubeconfig", "bin-path"])
    parser.add_argument(
        "--real-node",
        action="store_true",
        help="up: also a real node (containerd, kubelet, kube-proxy, CoreDNS; hack/node.py)",
    )
    args = parser.parse_args()
    cluster = Cluster(state_dir())
    if args.command == "up":
        ensure_binaries()
        try:
            cluster.up(real_node=args.real_node)
        except BaseException:
            log("start failed: stopping what was started")
            cluster.down()
            raise
        return 0
    if args.command == "down":
        cluster.down()
        return 0
    if args.command == "kubeconfig":
        print(cluster.kubeconfig)
        return 0
    if args.command == "bin-path":
        print(":".join(str(d) for d in bin_dirs().values()))
        return 0
    return cluster.status()


if __name__ == "__main__":
    sys.exit(main())
