"""A real Kubernetes node for the local cluster (`hack/cluster.py up --real-node`).

containerd (Debian's, with runc and the CNI plugins), the kubelet, kube-proxy and
CoreDNS run inside a network namespace and a mount namespace of the node's own, so
nothing they do lands on the host (shared/DESIGN.md, "Real node"):
- a veth pair joins the host end (the API server binds there) to the node end (the
  node IP); every server binds to one of those or to the node's own loopback;
- the kubelet's kernel tunables land on small files bind-mounted over their
  /proc/sys entries inside the node's mount namespace; ip_forward and kube-proxy's
  and the bridge plugin's iptables rules are the node netns's own;
- the pods' cgroups live under a cgroup root of this node's own.
`down` kills what runs in that mount namespace and cgroup root, then removes the
cgroups, the veth and the netns; the mount namespace (and every mount in it) goes
with its last process.

The project's images (`make images`, ~/.cache/mediajobs/images/*.tar) are imported
into the node's containerd, each only when its `.tar.id` changed since the last import.

Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from cluster import NODE_HOST_IP, NODE_IP, PORT_BASE, Cluster, bin_dirs, log

from images import images_dir, package_version

NODE_NAME = "mediajobs-node"
NETNS = f"mediajobs-{PORT_BASE}"
HOST_VETH, NODE_VETH = f"mjh{PORT_BASE}", f"mjn{PORT_BASE}"
POD_CIDR = "10.244.0.0/24"  # inside the node's netns only, so every node may use it
CGROUP_ROOT = f"/mediajobs-node-{PORT_BASE}"
# Advertised as nvidia.com/gpu so GPU-category pods schedule (FFmpeg runs on CPU): as many
# as the chart's default caps run at once (gpu_encode 2 + gpu_ai 1).
GPUS = "3"
CNI_BIN = "/usr/lib/cni"
# What the kubelet writes to the kernel (its setupKernelTunables): files inside the node.
KERNEL_TUNABLES = (
    "kernel/panic",
    "kernel/panic_on_oops",
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
)
# Host folders the node mounts over inside its mount namespace.
HOST_MOUNTPOINTS = ("/run/containerd", "/var/lib/cni")
HOLDER = "mediajobs-node"  # the process that holds the node's mount namespace open
# Started in this order (each inside the holder's namespaces); stopped in reverse.
COMPONENTS = ("containerd", "kubelet", "kube-proxy", "coredns")


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def in_netns(*argv: str) -> subprocess.CompletedProcess[str]:
    return run("nsenter", f"--net=/run/netns/{NETNS}", *argv)


def is_mountpoint(path: str) -> bool:
    fields = (line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines())
    return any(f[4] == path for f in fields)


def cgroup_hierarchies() -> list[Path]:
    """The mounted cgroup v1 hierarchies (and the v2 one, on a hybrid host)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        pre, _, post = line.partition(" - ")
        if post.split()[0] in ("cgroup", "cgroup2"):
            found.append(Path(pre.split()[4]))
    return found


class RealNode:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.root = cluster.root / "node"
        self.marker = cluster.node_marker  # present while a node is (being) set up
        bins = bin_dirs()
        self.kubelet = str(bins["kubernetes"] / "kubelet")
        self.kube_proxy = str(bins["kube-proxy"] / "kube-proxy")
        self.coredns = str(bins["coredns"] / "coredns")
        self.socket = self.root / "containerd.sock"
        # Kept across down/up: the imported images (and the ids they were imported from).
        self.containerd_root = cluster.root / "node-containerd"

    # ---- network, mount namespace, cgroups -------------------------------------------

    def make_network(self) -> None:
        self.marker.write_text(f"{NETNS}\n")
        self.root.mkdir(parents=True, exist_ok=True)
        # `ip netns add` makes /run/netns a mount point when it is not one yet: undone in down.
        if not Path("/run/netns").exists() or not is_mountpoint("/run/netns"):
            (self.root / "made-run-netns-mount").touch()
        run("ip", "netns", "add", NETNS)
        run("ip", "link", "add", HOST_VETH, "type", "veth", "peer", "name", NODE_VETH)
        run("ip", "link", "set", NODE_VETH, "netns", NETNS)
        run("ip", "addr", "add", f"{NODE_HOST_IP}/30", "dev", HOST_VETH)
        run("ip", "link", "set", HOST_VETH, "up")
        in_netns("ip", "link", "set", "lo", "up")
        in_netns("ip", "addr", "add", f"{NODE_IP}/30", "dev", NODE_VETH)
        in_netns("ip", "link", "set", NODE_VETH, "up")
        in_netns("ip", "route", "add", "default", "via", NODE_HOST_IP)
        in_netns("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")  # the netns's own
        log(f"node network: netns {NETNS}, {HOST_VETH} {NODE_HOST_IP} <-> {NODE_VETH} {NODE_IP}")

    def make_cgroups(self) -> None:
        for hierarchy in cgroup_hierarchies():
            path = hierarchy / CGROUP_ROOT.lstrip("/")
            path.mkdir(exist_ok=True)
            for name in ("cpuset.cpus", "cpuset.mems"):  # a v1 cpuset starts empty
                if (path / name).exists() and not (path / name).read_text().strip():
                    (path / name).write_text((hierarchy / name).read_text())

    def holder_script(self) -> str:
        """Run by `unshare -m` in the node's netns: the mounts, then hold the namespace."""
        lines = ["set -e"]
        tunables = self.root / "sysctl"
        tunables.mkdir(exist_ok=True)
        for entry in KERNEL_TUNABLES:
            source = Path("/proc/sys") / entry
            if not source.exists():
                continue
            copy = tunables / entry.replace("/", ".")
            copy.write_text(source.read_text())
            lines.append(f"mount --bind {copy} {source}")
        # Pod netns pins, containerd's shim sockets and the CNI cache stay in the node.
        cni_cache = self.root / "cni-cache"
        cni_cache.mkdir(exist_ok=True)
        for mountpoint in HOST_MOUNTPOINTS:  # made here when missing, removed by down
            if not Path(mountpoint).exists():
                Path(mountpoint).mkdir(parents=True)
                with (self.root / "made-dirs").open("a") as made:
                    made.write(mountpoint + "\n")
        lines += [
            "mount -t tmpfs -o mode=755 mediajobs-node /run/netns",
            "mount -t tmpfs -o mode=711 mediajobs-node /run/containerd",
            f"mount --bind {cni_cache} /var/lib/cni",
            "exec sleep infinity",
        ]
        return "\n".join(lines)

    def start_holder(self) -> None:
        argv = [
            "nsenter", f"--net=/run/netns/{NETNS}",
            "unshare", "--mount", "--propagation", "private",
            "sh", "-c", self.holder_script(),
        ]  # fmt: skip
        self.cluster.start(HOLDER, argv, program="sleep")
        pid = self.cluster.started[HOLDER].pid  # still nsenter until it execs sleep
        host_mnt = Path("/proc/self/ns/mnt").readlink()
        self.cluster.wait(
            "the node's mount namespace",
            lambda: (
                Path(f"/proc/{pid}/ns/mnt").readlink() != host_mnt
                and Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep")
            ),
            timeout=15,
        )

    def holder_pid(self) -> int:
        pid = self.cluster.running_pid(HOLDER, program="sleep")
        if pid is None:
            raise SystemExit("the node's namespace holder is not running")
        return pid

    def inside(self, *argv: str) -> list[str]:
        """ARGV run in the node's netns and mount namespace (nsenter execs: same pid)."""
        return ["nsenter", "-t", str(self.holder_pid()), "-m", "-n", *argv]

    # ---- configuration --------------------------------------------------------------

    def write_configs(self) -> None:
        r = self.root
        (r / "cni").mkdir(exist_ok=True)
        (r / "cni" / "10-mediajobs.conflist").write_text(json.dumps({
            "cniVersion": "1.0.0",
            "name": "mediajobs",
            "plugins": [
                {
                    "type": "bridge", "bridge": "mjbr0", "isGateway": True,
                    "ipMasq": True, "hairpinMode": True,
                    "ipam": {
                        "type": "host-local", "ranges": [[{"subnet": POD_CIDR}]],
                        "routes": [{"dst": "0.0.0.0/0"}], "dataDir": str(r / "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }, indent=2))  # fmt: skip
        cri = 'plugins."io.containerd.grpc.v1.cri"'
        (r / "containerd.toml").write_text(f"""version = 2
root = "{self.containerd_root}"
state = "{r / "containerd-state"}"
[grpc]
  address = "{self.socket}"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "{r / "containerd-opt"}"
[{cri}]
  sandbox_image = "docker.io/local/mediajobs-pause:{package_version()}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  enable_unprivileged_ports = false
[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[{cri}.cni]
  bin_dir = "{CNI_BIN}"
  conf_dir = "{r / "cni"}"
""")
        kubelet = {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": NODE_IP,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "cgroupDriver": "cgroupfs",
            "cgroupRoot": CGROUP_ROOT,
            "failCgroupV1": False,  # this machine kind has cgroup v1
            "failSwapOn": False,
            "clusterDNS": [NODE_IP],
            "clusterDomain": "cluster.local",
            "resolvConf": "",  # pods get CoreDNS only, not the host's resolvers
            "containerRuntimeEndpoint": f"unix://{self.socket}",
            "podLogsDir": str(r / "pod-logs"),
            # Images arrive by import only (imagePullPolicy: Never): never collect them.
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {"memory.available": "50Mi", "nodefs.available": "1%",
                             "imagefs.available": "1%"},
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(self.cluster.pki / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "serializeImagePulls": False,
        }  # fmt: skip
        (r / "kubelet.json").write_text(json.dumps(kubelet, indent=2))
        proxy = {
            "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
            "kind": "KubeProxyConfiguration",
            "clientConnection": {"kubeconfig": str(self.cluster.kubeconfig)},
            "hostnameOverride": NODE_NAME,
            "bindAddress": NODE_IP,
            "healthzBindAddress": f"{NODE_IP}:10256",
            "metricsBindAddress": "127.0.0.1:10249",
            "mode": "iptables",
            "clusterCIDR": POD_CIDR,
            # Pod -> Service -> pod on the same bridge: without br_netfilter (a host
            # module) the reply would skip the un-DNAT; masquerading brings it back.
            "iptables": {"masqueradeAll": True},
            # 0 leaves the conntrack sysctls alone (nf_conntrack_max is not per netns).
            "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s",
                          "tcpCloseWaitTimeout": "0s"},
        }  # fmt: skip
        (r / "kube-proxy.json").write_text(json.dumps(proxy, indent=2))
        (r / "Corefile").write_text(f""".:53 {{
    bind {NODE_IP}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {self.cluster.kubeconfig} mediajobs-local
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    cache 5
}}
""")

    def argv(self, name: str) -> list[str]:
        r = self.root
        if name == "containerd":
            return self.inside("/usr/bin/containerd", f"--config={r / 'containerd.toml'}")
        if name == "kubelet":
            return self.inside(
                self.kubelet,
                f"--config={r / 'kubelet.json'}",
                f"--kubeconfig={self.cluster.kubeconfig}",
                f"--root-dir={r / 'kubelet'}",
                f"--node-ip={NODE_IP}",
                f"--hostname-override={NODE_NAME}",
                # The chart's GPU pool selects nodes so labelled (with nvidia.com/gpu below).
                "--node-labels=nvidia.com/gpu.present=true",
                "--v=1",
            )
        if name == "kube-proxy":
            return self.inside(self.kube_proxy, f"--config={r / 'kube-proxy.json'}", "--v=1")
        if name == "coredns":
            return self.inside(self.coredns, "-conf", str(r / "Corefile"))
        raise ValueError(name)

    # ---- images ---------------------------------------------------------------------

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ctr", f"--address={self.socket}", "--namespace=k8s.io", *args, check=check)

    def import_images(self) -> None:
        """Each tarball of `make images` whose image id changed since its last import."""
        stamps = self.containerd_root.parent / "node-imported"
        stamps.mkdir(exist_ok=True)
        tarballs = sorted(images_dir().glob("*.tar"))
        if not any(t.name.startswith("mediajobs-pause-") for t in tarballs):
            raise SystemExit(f"no pause image in {images_dir()}: run `make images` first")
        present = set(self.ctr("images", "list", "--quiet").stdout.split())
        for tar in tarballs:
            image_id = tar.with_name(tar.name + ".id").read_text().strip()
            stamp = stamps / (tar.name + ".id")
            name = f"docker.io/local/{tar.stem.rsplit('-', 1)[0]}:{tar.stem.rsplit('-', 1)[1]}"
            if name in present and stamp.exists() and stamp.read_text().strip() == image_id:
                log(f"image {name}: already imported")
                continue
            t0 = time.monotonic()
            self.ctr("images", "import", str(tar))
            present = set(self.ctr("images", "list", "--quiet").stdout.split())
            if name not in present:
                raise SystemExit(f"importing {tar} did not give {name} (have: {sorted(present)})")
            stamp.write_text(image_id + "\n")
            log(f"image {name}: imported in {time.monotonic() - t0:.1f} s")

    # ---- commands -------------------------------------------------------------------

    def up(self) -> None:
        """After make_network() and the control plane: the node's processes, Ready."""
        c = self.cluster
        self.make_cgroups()
        self.start_holder()
        self.write_configs()
        c.start("containerd", self.argv("containerd"))
        c.wait(
            "containerd",
            lambda: self.socket.exists() and self.ctr("version", check=False).returncode == 0,
        )
        self.import_images()
        for name in COMPONENTS[1:]:
            c.start(name, self.argv(name))
        c.wait(f"node {NODE_NAME} to be Ready", lambda: c.nodes_ready([NODE_NAME]), timeout=120)
        code, body = c.api(
            f"/api/v1/nodes/{NODE_NAME}/status", "PATCH",
            [{"op": "add", "path": "/status/capacity/nvidia.com~1gpu", "value": GPUS}],
            content_type="application/json-patch+json",
        )  # fmt: skip
        if code != 200:
            raise SystemExit(f"advertising nvidia.com/gpu on {NODE_NAME}: {code} {body}")
        # The kubelet copies it to allocatable (what the scheduler reads) at its next sync.
        c.wait(
            f"nvidia.com/gpu in {NODE_NAME}'s allocatable",
            lambda: (
                c.api(f"/api/v1/nodes/{NODE_NAME}")[1]["status"]["allocatable"].get(
                    "nvidia.com/gpu"
                )
                == GPUS
            ),
            timeout=60,
        )

    def down(self) -> None:
        c = self.cluster
        holder = c.running_pid(HOLDER, program="sleep")
        c.stop("kubelet")
        self.kill_cgroup_processes()
        for name in reversed(COMPONENTS):
            c.stop(name)
        if holder is not None:
            self.kill_namespace_processes(holder)
        c.stop(HOLDER, program="sleep")
        self.remove_cgroups()
        if run("ip", "link", "show", HOST_VETH, check=False).returncode == 0:
            run("ip", "link", "del", HOST_VETH)
        if Path(f"/run/netns/{NETNS}").exists():
            run("ip", "netns", "del", NETNS)
        made = self.root / "made-run-netns-mount"
        if made.exists() and is_mountpoint("/run/netns") and not any(Path("/run/netns").iterdir()):
            run("umount", "/run/netns")
        made_dirs = self.root / "made-dirs"
        for folder in made_dirs.read_text().split() if made_dirs.exists() else []:
            with contextlib.suppress(OSError):  # kept if something else uses it now
                Path(folder).rmdir()
        shutil.rmtree(self.root, ignore_errors=True)
        self.marker.unlink(missing_ok=True)
        log(f"node {NODE_NAME}: removed (netns {NETNS}, veth {HOST_VETH}, cgroup {CGROUP_ROOT})")

    def kill_cgroup_processes(self) -> None:
        """The pods' processes (they outlive containerd's shims otherwise)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = set()
            for hierarchy in cgroup_hierarchies():
                for procs in (hierarchy / CGROUP_ROOT.lstrip("/")).rglob("cgroup.procs"):
                    pids |= {int(p) for p in procs.read_text().split()}
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        raise SystemExit(f"processes left in cgroup {CGROUP_ROOT}")

    def kill_namespace_processes(self, holder: int) -> None:
        """Whatever else runs in the node's mount namespace (containerd's shims)."""
        ns = Path(f"/proc/{holder}/ns/mnt").readlink()
        if ns == Path("/proc/self/ns/mnt").readlink():
            raise SystemExit(f"pid {holder} is in the host's mount namespace: killing nothing")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            left = []
            for proc in Path("/proc").iterdir():
                if not proc.name.isdigit() or int(proc.name) == holder:
                    continue
                try:
                    if (proc / "ns" / "mnt").readlink() == ns:
                        left.append(int(proc.name))
                        os.kill(int(proc.name), signal.SIGKILL)
                except OSError:  # gone, or not ours to read (pid 1 here)
                    pass
            if not left:
                return
            time.sleep(0.1)
        raise SystemExit("processes left in the node's mount namespace")

    def remove_cgroups(self) -> None:
        for hierarchy in cgroup_hierarchies():
            top = hierarchy / CGROUP_ROOT.lstrip("/")
            if not top.exists():
                continue
            for path in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
                path.rmdir()  # deepest first; a cgroup folder holds only kernel files
            top.rmdir()
