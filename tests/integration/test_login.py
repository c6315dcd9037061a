"""Logging in like kubectl, on the real cluster: the operator runs with a kind-style
kubeconfig (inline client certificate), an exec plugin whose credential expires, the
pod's service account whose token is rotated and the old one revoked; a user that RBAC
forbids Jobs gets one line and a non-zero exit; an informer re-watches after a 401 and
stops on a 403."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.kube.client import Kube
from mediajobs.kube.errors import ApiError, Forbidden
from mediajobs.kube.login import Login, Source
from mediajobs.kube.watch import Informer
from tests.builders import mediajob
from tests.integration.operator_checks import wait_phase
from tests.integration.test_watch import Seen, running, until_seen
from tests.localcluster import WAIT_SHORT, Kubectl, wait_for
from tests.operator_harness import OperatorProcess
from tests.pki import b64, client_cert

StartOperator = Callable[..., OperatorProcess]

# What the operator reads and writes in its namespace (the chart's Role will say the same).
OPERATOR_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["mediajobs.dev"], "resources": ["mediajobs", "mediajobs/status"],
     "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"]},
    {"apiGroups": ["mediajobs.dev"], "resources": ["hitlsessions"],
     "verbs": ["get", "list", "watch", "create", "delete"]},
    {"apiGroups": ["mediajobs.dev"], "resources": ["hitlsessions/status"], "verbs": ["patch"]},
    {"apiGroups": ["mediajobs.dev"], "resources": ["mediajobschedules"],
     "verbs": ["list", "watch"]},
    {"apiGroups": ["mediajobs.dev"], "resources": ["mediajobschedules/status"],
     "verbs": ["patch"]},
    {"apiGroups": ["batch"], "resources": ["jobs"],
     "verbs": ["get", "list", "watch", "create", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["pods", "resourcequotas"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
]  # fmt: skip
PRIORITY_CLASSES_ROLE = "mediajobs-test-priorityclasses"


# ---- the cluster and identities on it ------------------------------------------------


def admin_cluster(kube: Kubectl) -> dict[str, Any]:
    """The admin kubeconfig's cluster entry: server, certificate-authority."""
    config = yaml.safe_load(kube.kubeconfig.read_text())
    current = next(c for c in config["contexts"] if c["name"] == config["current-context"])
    name = current["context"]["cluster"]
    return dict(next(c for c in config["clusters"] if c["name"] == name)["cluster"])


def ca_file(kube: Kubectl) -> Path:
    cluster = admin_cluster(kube)
    if "certificate-authority" not in cluster:
        pytest.skip("the cluster's CA is not a file next to its key (not hack/cluster.py's)")
    return Path(cluster["certificate-authority"])


def write_kubeconfig(path: Path, kube: Kubectl, user: dict[str, Any], *, inline_ca: bool) -> Path:
    cluster = {"server": admin_cluster(kube)["server"]}
    if inline_ca:
        cluster["certificate-authority-data"] = b64(ca_file(kube))
    else:
        cluster["certificate-authority"] = str(ca_file(kube))
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": "operator", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "operator"}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


@pytest.fixture
def service_account(ns: Kubectl) -> Iterator[Callable[..., str]]:
    """Make a ServiceAccount in the test's namespace with RULES there (and the right to
    create PriorityClasses); its user name."""
    bindings: list[str] = []

    def make(name: str, rules: list[dict[str, Any]]) -> str:
        namespace = ns.namespace
        assert namespace is not None
        ns.run("create", "serviceaccount", name)
        ns.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                  "metadata": {"name": name}, "rules": rules})  # fmt: skip
        subject = {"kind": "ServiceAccount", "name": name, "namespace": namespace}
        ns.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                  "metadata": {"name": name}, "subjects": [subject],
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                              "name": name}})  # fmt: skip
        cluster = Kubectl(ns.binary, ns.kubeconfig)
        cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                       "metadata": {"name": PRIORITY_CLASSES_ROLE},
                       "rules": [{"apiGroups": ["scheduling.k8s.io"],
                                  "resources": ["priorityclasses"],
                                  "verbs": ["get", "list", "create"]}]})  # fmt: skip
        binding = f"{namespace}-{name}"
        cluster.apply({"apiVersion": "rbac.authorization.k8s.io/v1",
                       "kind": "ClusterRoleBinding", "metadata": {"name": binding},
                       "subjects": [subject],
                       "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                   "name": PRIORITY_CLASSES_ROLE}})  # fmt: skip
        bindings.append(binding)
        return f"system:serviceaccount:{namespace}:{name}"

    yield make
    for binding in bindings:
        ns.run("delete", "clusterrolebinding", binding, "--ignore-not-found", check=False)


def token(ns: Kubectl, account: str, *, bound_to: str | None = None) -> str:
    """A TokenRequest token of ACCOUNT; bound to a Secret, it dies with the Secret."""
    bound = ["--bound-object-kind=Secret", f"--bound-object-name={bound_to}"]
    args = ["create", "token", account, "--duration=1h", *(bound if bound_to else [])]
    return ns.run(*args).stdout.strip()


def refused(ns: Kubectl, bearer: str) -> bool:
    """Whether the API server now refuses the token BEARER."""
    result = ns.run("--token", bearer, "get", "mj", check=False)  # the admin's, but this token
    return result.returncode != 0 and "Unauthorized" in result.stderr


@dataclass
class PodToken:
    """A pod's service-account folder (token, ca.crt) whose token the kubelet rotates."""

    ns: Kubectl
    folder: Path
    old: str
    new: str

    @classmethod
    def make(cls, ns: Kubectl, account: str, folder: Path) -> PodToken:
        for secret in ("old", "new"):  # what each token is bound to: deleting it revokes it
            ns.run("create", "secret", "generic", secret)
        old, new = token(ns, account, bound_to="old"), token(ns, account, bound_to="new")
        folder.mkdir()
        (folder / "ca.crt").write_bytes(ca_file(ns).read_bytes())
        (folder / "token").write_text(old)
        return cls(ns, folder, old, new)

    @property
    def service(self) -> tuple[str, str]:
        """KUBERNETES_SERVICE_HOST and _PORT."""
        server = urllib.parse.urlsplit(admin_cluster(self.ns)["server"])
        assert server.hostname and server.port
        return server.hostname, str(server.port)

    def rotate(self) -> None:
        """The kubelet's rotation: the new token replaces the file at once; then the old
        one is revoked (its Secret deleted) and refused."""
        (self.folder / "token.tmp").write_text(self.new)
        (self.folder / "token.tmp").replace(self.folder / "token")
        self.ns.run("delete", "secret", "old")
        wait_for("the old token to be refused", lambda: refused(self.ns, self.old), WAIT_SHORT)


def kwok_job(name: str) -> dict[str, Any]:
    return mediajob(name).kwok(run_for="1s").obj()


# ---- (a) a kind-style kubeconfig ------------------------------------------------------


def test_a_kubeconfig_with_inline_client_certificate_data(
    ns: Kubectl, start_operator: StartOperator, tmp_path: Path
) -> None:
    ca = ca_file(ns)
    key = ca.with_name("ca.key")
    if not key.exists():
        pytest.skip("no CA key beside the cluster's CA: cannot sign a client certificate")
    # kind's admin: a certificate in system:masters, inline, with the CA inline too.
    crt, private = client_cert((ca, key), tmp_path / "pki", "kind-admin", ["system:masters"])
    user = {"client-certificate-data": b64(crt), "client-key-data": b64(private)}
    config = write_kubeconfig(tmp_path / "kind.yaml", ns, user, inline_ca=True)
    # Its current context is another one, refused: --context picks this one.
    kind = yaml.safe_load(config.read_text())
    kind["users"].append({"name": "stranger", "user": {"token": "not-a-token"}})
    kind["contexts"].append({"name": "other", "context": {"cluster": "test", "user": "stranger"}})
    kind["current-context"] = "other"
    config.write_text(yaml.safe_dump(kind))
    op = start_operator(
        args=["--kubeconfig", str(config), "--context", "test"], env={"KUBECONFIG": None}
    )
    ns.apply(kwok_job("cert"))
    wait_phase(ns, "cert", "Succeeded")
    assert "as context test, user operator" in op.log.read_text()


# ---- (b) an exec plugin whose credential expires --------------------------------------


def exec_plugin(folder: Path, kube: Kubectl, account: str, lifetime: int) -> dict[str, Any]:
    """A kubeconfig user whose exec plugin asks for a fresh token of ACCOUNT each run (as
    `aws eks get-token` or an OIDC helper would) and says it expires in LIFETIME seconds;
    each run appends a line to folder/runs."""
    script = folder / "plugin.py"
    script.write_text(
        f"""
import datetime, json, subprocess, sys
with open({str(folder / "runs")!r}, "a") as runs:
    runs.write("run\\n")
token = subprocess.run(
    [{kube.binary!r}, "--kubeconfig", {str(kube.kubeconfig)!r}, "-n", {kube.namespace!r},
     "create", "token", {account!r}, "--duration=1h"],
    check=True, capture_output=True, text=True).stdout.strip()
end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds={lifetime})
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": token,
                             "expirationTimestamp": end.strftime("%Y-%m-%dT%H:%M:%SZ")}}}}))
"""
    )
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(script)],
            "interactiveMode": "Never",
        }
    }


def test_an_exec_plugin_is_run_again_when_its_credential_expires(
    ns: Kubectl, start_operator: StartOperator, service_account: Callable[..., str], tmp_path: Path
) -> None:
    service_account("op", OPERATOR_RULES)
    user = exec_plugin(tmp_path, ns, "op", lifetime=2)
    config = write_kubeconfig(tmp_path / "exec.yaml", ns, user, inline_ca=False)
    start_operator(env={"KUBECONFIG": str(config)})
    runs = tmp_path / "runs"

    def count() -> int:
        return len(runs.read_text().splitlines())

    ns.apply(kwok_job("first"))
    wait_phase(ns, "first", "Succeeded")
    before = count()
    assert before >= 1
    # This one runs longer than the credential lives: its writes need the plugin again.
    ns.apply(mediajob("second").kwok(run_for="4s").obj())
    wait_phase(ns, "second", "Succeeded")
    assert count() > before


# ---- (c) the pod's service account, its token rotated -------------------------------


def test_a_rotated_service_account_token_is_read_again_and_no_write_is_lost(
    ns: Kubectl, start_operator: StartOperator, service_account: Callable[..., str], tmp_path: Path
) -> None:
    service_account("op", OPERATOR_RULES)
    pod = PodToken.make(ns, "op", tmp_path / "serviceaccount")
    host, port = pod.service
    op = start_operator(
        env={
            "KUBECONFIG": None,
            "KUBERNETES_SERVICE_HOST": host,
            "KUBERNETES_SERVICE_PORT": port,
            "MEDIAJOBS_SERVICE_ACCOUNT_DIR": str(pod.folder),
        }
    )
    ns.apply(kwok_job("before"))
    wait_phase(ns, "before", "Succeeded")
    pod.rotate()

    names = [f"after-{i}" for i in range(4)]
    for name in names:
        ns.apply(kwok_job(name))
    for name in names:
        done = wait_phase(ns, name, "Succeeded")
        assert done["attempts"] == 1
    log = op.log.read_text()
    assert f"as the service account token {pod.folder / 'token'}" in log
    # The old token was still in use when it was revoked: a request met the 401.
    assert "refused the credentials of the service account token" in log
    assert "retrying in" not in log  # each refused request was retried in place, once
    assert "ERROR" not in log  # nor anything else (kopf's own watches) met a 403 or 401
    assert "unauthorized" not in log.lower()
    assert op.proc is not None and op.proc.poll() is None
    # Every transition's Event is there, once: nothing lost, nothing sent twice.
    events = json.loads(ns.run("get", "events", "-o", "json").stdout)["items"]
    admitted = [e["involvedObject"]["name"] for e in events if e["reason"] == "Admitted"]
    assert sorted(admitted) == sorted(["before", *names])


# ---- (d) RBAC forbids Jobs: one line, exit status 1 -----------------------------------


READ_ONLY_JOBS = [
    r if r["apiGroups"] != ["batch"] else r | {"verbs": ["get", "list", "watch"]}
    for r in OPERATOR_RULES
]
NO_JOBS = [r for r in OPERATOR_RULES if r["apiGroups"] != ["batch"]]


@pytest.mark.parametrize(
    ("rules", "verb"), [(READ_ONLY_JOBS, "create"), (NO_JOBS, "list")], ids=["create", "list"]
)
def test_a_user_rbac_forbids_jobs_gets_one_line_and_exit_status_1(
    ns: Kubectl,
    service_account: Callable[..., str],
    tmp_path: Path,
    rules: list[dict[str, Any]],
    verb: str,
) -> None:
    user = service_account("op", rules)
    config = write_kubeconfig(tmp_path / "sa.yaml", ns, {"token": token(ns, "op")}, inline_ca=False)
    assert ns.namespace is not None
    op = OperatorProcess(
        ns, ns.namespace, tmp_path, {"media": {"source": {"emptyDir": {}}}},
        env={"KUBECONFIG": str(config)},
    )  # fmt: skip
    try:
        ns.apply(kwok_job("refused"))
        op.launch()
        assert op.exit_status() == 1
    finally:
        op.stop()
    line = (
        f"forbidden: cannot {verb} jobs.batch in namespace {ns.namespace} as {user} "
        "(context test, user operator)"
    )
    log = op.log.read_text()
    said = [row for row in log.splitlines() if line in row]
    assert len(said) == 1, log
    assert "CRITICAL" in said[0]
    assert "Traceback" not in log
    assert not ns.items("jobs")


# ---- informers: a 401 between two watches, a 403 on the watch -------------------------


def configmap(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


async def test_an_informer_watches_again_after_its_token_was_revoked(
    ns: Kubectl,
    service_account: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Short watches: the server ends each after 1 s, and the next one meets the 401.
    monkeypatch.setattr("mediajobs.kube.watch.WATCH_SECONDS", 1)
    service_account("reader", [{"apiGroups": [""], "resources": ["configmaps"],
                                "verbs": ["get", "list", "watch"]}])  # fmt: skip
    pod = PodToken.make(ns, "reader", tmp_path / "serviceaccount")
    login = Login(Source(service_account=pod.folder, service=pod.service))
    seen: Seen = []
    async with Kube(login) as kube:
        informer = Informer(
            kube, f"/api/v1/namespaces/{ns.namespace}/configmaps",
            lambda kind, obj: seen.append((kind, obj["metadata"]["name"])),
        )  # fmt: skip
        async with running(informer) as task:
            await asyncio.wait_for(informer.synced.wait(), WAIT_SHORT)
            await asyncio.to_thread(pod.rotate)
            ns.apply(configmap("after-rotation"))
            await until_seen(seen, ("ADDED", "after-rotation"))
            assert not task.done()
    assert login.loads == 2  # the first login, and one after the 401


async def test_an_informer_stops_with_one_line_when_rbac_forbids_the_watch(
    ns: Kubectl, service_account: Callable[..., str], tmp_path: Path
) -> None:
    user = service_account("lister", [{"apiGroups": [""], "resources": ["configmaps"],
                                       "verbs": ["list"]}])  # fmt: skip
    config = write_kubeconfig(
        tmp_path / "sa.yaml", ns, {"token": token(ns, "lister")}, inline_ca=False
    )
    fatal: list[str] = []
    async with Kube(Login(Source(str(config))), on_fatal=lambda e: fatal.append(str(e))) as kube:
        path = f"/api/v1/namespaces/{ns.namespace}/configmaps"
        informer = Informer(kube, path, lambda kind, obj: None)
        with pytest.raises(Forbidden) as raised:
            await asyncio.wait_for(informer.run(), WAIT_SHORT)
    line = (
        f"forbidden: cannot watch configmaps in namespace {ns.namespace} as {user} "
        "(context test, user operator)"
    )
    assert str(raised.value) == line
    assert fatal == [line]
    assert informer.synced.is_set()  # the list was allowed; the watch is what RBAC refused


def test_no_credentials_is_one_line_and_exit_status_1(ns: Kubectl, tmp_path: Path) -> None:
    assert ns.namespace is not None
    op = OperatorProcess(
        ns, ns.namespace, tmp_path, {},
        env={"KUBECONFIG": str(tmp_path / "missing"), "KUBERNETES_SERVICE_HOST": None},
    )  # fmt: skip
    op.launch()
    try:
        assert op.exit_status() == 1
    finally:
        op.stop()
    assert f"no kubeconfig at {tmp_path / 'missing'}" in op.log.read_text()


# ---- the cluster entry's transport settings, on the real API server -------------------


@dataclass
class ConnectProxy:
    """An HTTP CONNECT proxy on 127.0.0.1 that counts the tunnels it opened."""

    tunnels: list[str]
    server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readuntil(b"\r\n\r\n")).decode()
        method, target, _ = request.split(" ", 2)
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or host != "127.0.0.1":  # a tunnel to the test's server only
            writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            writer.close()
            return
        self.tunnels.append(target)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def __aenter__(self) -> ConnectProxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()


async def names(config: Path, namespace: str | None) -> list[str]:
    """The names of the ConfigMaps in NAMESPACE, read with the kubeconfig CONFIG."""
    async with Kube(Login(Source(str(config)))) as kube:
        listed = await kube.list_all(f"/api/v1/namespaces/{namespace}/configmaps")
    return [c["metadata"]["name"] for c in listed]


async def test_a_proxy_url_carries_every_request(ns: Kubectl, tmp_path: Path) -> None:
    config = yaml.safe_load(write_kubeconfig(
        tmp_path / "k.yaml", ns, {"token": token(ns, "default")}, inline_ca=True
    ).read_text())  # fmt: skip
    ns.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
              "metadata": {"name": "default-view"},
              "subjects": [{"kind": "ServiceAccount", "name": "default",
                            "namespace": ns.namespace}],
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": "view"}})  # fmt: skip
    ns.apply(configmap("through-the-proxy"))
    async with ConnectProxy([]) as proxy:
        config["clusters"][0]["cluster"]["proxy-url"] = proxy.url
        (tmp_path / "k.yaml").write_text(yaml.safe_dump(config))
        seen = await names(tmp_path / "k.yaml", ns.namespace)
    assert "through-the-proxy" in seen
    server = urllib.parse.urlsplit(admin_cluster(ns)["server"])
    assert proxy.tunnels == [f"{server.hostname}:{server.port}"]


async def test_insecure_skip_tls_verify_and_tls_server_name(ns: Kubectl, tmp_path: Path) -> None:
    ns.apply(configmap("seen"))
    admin = yaml.safe_load(ns.kubeconfig.read_text())
    user = next(u for u in admin["users"])["user"]

    def kubeconfig(cluster: dict[str, Any]) -> Path:
        path = tmp_path / "k.yaml"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": admin_cluster(ns)["server"],
                                                   **cluster}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "c",
        }))  # fmt: skip
        return path

    # No CA: the local cluster's certificate is trusted only when verification is off.
    with pytest.raises(ApiError, match=r"SSL|certificate"):
        await names(kubeconfig({}), ns.namespace)
    insecure = kubeconfig({"insecure-skip-tls-verify": True})
    assert "seen" in await names(insecure, ns.namespace)
    # The server's certificate names kubernetes.default, not this name.
    ca = {"certificate-authority": str(ca_file(ns))}
    named = kubeconfig(ca | {"tls-server-name": "kubernetes.default"})
    assert "seen" in await names(named, ns.namespace)
    with pytest.raises(ApiError, match=r"SSL|certificate|hostname"):
        await names(kubeconfig(ca | {"tls-server-name": "elsewhere.example"}), ns.namespace)
