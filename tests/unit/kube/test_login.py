"""kube/login.py: every kubeconfig kubectl reads, the service account, and the vault.

Loading is the `kubernetes` package's loader on real files (an exec plugin is a real
script); the vault (`Login`) runs on a fake loader and a fake clock, without sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.kube.credentials import Credentials
from mediajobs.kube.errors import Unauthorized
from mediajobs.kube.login import Login, LoginError, Source, find_source, load
from tests.pki import b64, client_cert, make_ca

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SERVER = "https://127.0.0.1:6443"


def kubeconfig(
    folder: Path,
    user: dict[str, Any],
    *,
    cluster: dict[str, Any] | None = None,
    extra_contexts: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A kubeconfig whose current context "main" is USER on CLUSTER; EXTRA_CONTEXTS adds
    contexts named by their key, each with a user of its own."""
    contexts = {"main": user, **(extra_contexts or {})}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster or {"server": SERVER}}],
        "users": [{"name": f"u-{name}", "user": u} for name, u in contexts.items()],
        "contexts": [
            {"name": name, "context": {"cluster": "c", "user": f"u-{name}"}} for name in contexts
        ],
        "current-context": "main",
    }
    path = folder / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def loaded(path: Path, context: str | None = None) -> Credentials:
    return load(Source(str(path), context), T0)


def test_kind_style_inline_client_certificate_key_and_ca(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    crt, key = client_cert(ca, tmp_path / "pki", "kubernetes-admin", ["system:masters"])
    path = kubeconfig(
        tmp_path,
        {"client-certificate-data": b64(crt), "client-key-data": b64(key)},
        cluster={"server": SERVER + "/", "certificate-authority-data": b64(ca[0])},
    )
    c = loaded(path)
    assert c.server == SERVER
    assert c.authorization is None
    assert c.cert_file and Path(c.cert_file).read_bytes() == crt.read_bytes()
    assert c.key_file and Path(c.key_file).read_bytes() == key.read_bytes()
    assert c.ca_file and Path(c.ca_file).read_bytes() == ca[0].read_bytes()
    assert c.refresh_at is None
    assert c.who == "context main, user u-main"
    c.tls.context()  # the pair loads


def test_certificate_files_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "pki")
    crt, key = client_cert(ca, tmp_path / "pki", "alice")
    path = kubeconfig(
        tmp_path,
        {"client-certificate": "pki/alice.crt", "client-key": "pki/alice.key"},
        cluster={"server": SERVER, "certificate-authority": "pki/test-ca.crt"},
    )
    c = loaded(path)
    assert (c.cert_file, c.key_file, c.ca_file) == (str(crt), str(key), str(ca[0]))


def test_a_token_a_token_file_and_basic_auth(tmp_path: Path) -> None:
    c = loaded(kubeconfig(tmp_path, {"token": "t0k3n"}))
    assert (c.authorization, c.refresh_at) == ("Bearer t0k3n", None)

    (tmp_path / "token").write_text("fr0m-f1le\n")
    c = loaded(kubeconfig(tmp_path, {"tokenFile": str(tmp_path / "token")}))
    assert c.authorization == "Bearer fr0m-f1le"
    assert c.refresh_at == T0 + timedelta(minutes=1)  # read again, as client-go does

    c = loaded(kubeconfig(tmp_path, {"username": "u", "password": "p"}))
    assert c.authorization == "Basic " + base64.b64encode(b"u:p").decode()


def test_insecure_proxy_and_tls_server_name(tmp_path: Path) -> None:
    path = kubeconfig(
        tmp_path,
        {"token": "t"},
        cluster={
            "server": SERVER,
            "insecure-skip-tls-verify": True,
            "proxy-url": "http://127.0.0.1:3128",
            "tls-server-name": "kubernetes.default",
        },
    )
    c = loaded(path)
    assert not c.verify
    assert c.proxy == "http://127.0.0.1:3128"
    assert c.tls_server_name == "kubernetes.default"


def test_the_context_flag_picks_another_context(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path, {"token": "main"}, extra_contexts={"other": {"token": "other"}})
    assert loaded(path).authorization == "Bearer main"
    c = loaded(path, "other")
    assert (c.authorization, c.who) == ("Bearer other", "context other, user u-other")
    with pytest.raises(LoginError, match="nope"):
        loaded(path, "nope")


def plugin(folder: Path, expiry: datetime | None, *, fail: bool = False) -> dict[str, Any]:
    """A kubeconfig exec user: a script printing an ExecCredential, counting its runs."""
    script = folder / "plugin.py"
    status: dict[str, str] = {"token": "from-plugin"}
    if expiry is not None:
        status["expirationTimestamp"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": status}  # fmt: skip
    script.write_text(
        "import json, os, pathlib, sys\n"
        "runs = pathlib.Path(sys.argv[1])\n"
        "runs.write_text(str(int(runs.read_text() or 0) + 1) if runs.exists() else '1')\n"
        "assert os.environ['PLUGIN_ENV'] == 'yes'\n"
        + ("sys.exit('the IdP is down')\n" if fail else "")
        + f"print(json.dumps({credential!r}))\n"
    )
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(script), str(folder / "runs")],
            "env": [{"name": "PLUGIN_ENV", "value": "yes"}],
            "interactiveMode": "Never",
        }
    }


def test_an_exec_plugin_and_its_expiry(tmp_path: Path) -> None:
    expiry = T0 + timedelta(seconds=100)
    c = loaded(kubeconfig(tmp_path, plugin(tmp_path, expiry)))
    assert c.authorization == "Bearer from-plugin"
    assert c.refresh_at == expiry - timedelta(seconds=10)
    assert (tmp_path / "runs").read_text() == "1"
    # No expiry: used until the API server refuses it, as client-go does.
    assert loaded(kubeconfig(tmp_path, plugin(tmp_path, None))).refresh_at is None


def test_a_failing_exec_plugin_is_a_login_error(tmp_path: Path) -> None:
    with pytest.raises(LoginError, match="exec plugin of context main, user u-main"):
        loaded(kubeconfig(tmp_path, plugin(tmp_path, None, fail=True)))


def test_no_kubeconfig_is_a_login_error(tmp_path: Path) -> None:
    with pytest.raises(LoginError, match="no kubeconfig"):
        loaded(tmp_path / "missing")


def test_a_kubeconfig_that_is_not_yaml_is_a_login_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.write_text("clusters: [not yaml")
    with pytest.raises(LoginError, match=r"cannot log in with kubeconfig .*broken: while parsing"):
        loaded(broken)


def service_account(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "token").write_text("sa-t0ken\n")
    (folder / "ca.crt").write_bytes(make_ca(folder / "pki")[0].read_bytes())
    return folder


def test_the_service_account(tmp_path: Path) -> None:
    folder = service_account(tmp_path / "sa")
    source = find_source(
        environ={
            "KUBERNETES_SERVICE_HOST": "10.96.0.1",
            "KUBERNETES_SERVICE_PORT": "443",
            "MEDIAJOBS_SERVICE_ACCOUNT_DIR": str(folder),
        }
    )
    assert source == Source(service_account=folder, service=("10.96.0.1", "443"))
    c = load(source, T0)
    assert c.server == "https://10.96.0.1:443"
    assert c.authorization == "Bearer sa-t0ken"
    assert c.ca_file == str(folder / "ca.crt")
    assert c.refresh_at == T0 + timedelta(minutes=1)  # the kubelet rotates it in place
    v6 = Source(service_account=folder, service=("fd00::1", "443"))
    assert load(v6, T0).server == "https://[fd00::1]:443"


def test_where_credentials_come_from_in_controller_runtimes_order(tmp_path: Path) -> None:
    folder = service_account(tmp_path / "sa")
    pod = {
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "MEDIAJOBS_SERVICE_ACCOUNT_DIR": str(folder),
    }
    assert find_source(kubeconfig="/k", environ=pod) == Source("/k")
    assert find_source(context="x", environ=pod | {"KUBECONFIG": "/e"}) == Source("/e", "x")
    assert find_source(environ=pod | {"KUBECONFIG": "/e:/f"}) == Source("/e:/f")
    assert find_source(environ=pod).service_account == folder
    assert find_source(environ={}) == Source("~/.kube/config")
    no_token = pod | {"MEDIAJOBS_SERVICE_ACCOUNT_DIR": str(tmp_path / "none")}
    assert find_source(environ=no_token) == Source("~/.kube/config")


# ---- the vault ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Loads:
    """A loader that hands out the credentials in turn (the last one again when out)."""

    def __init__(self, *credentials: Credentials | Exception) -> None:
        self.queue = list(credentials)
        self.calls = 0

    def __call__(self, source: Source, now: datetime) -> Credentials:
        self.calls += 1
        item = self.queue.pop(0) if len(self.queue) > 1 else self.queue[0]
        if isinstance(item, Exception):
            raise item
        return item


def creds(token: str, refresh_at: datetime | None = None) -> Credentials:
    return Credentials(SERVER, "test", authorization=f"Bearer {token}", refresh_at=refresh_at)


def vault(*credentials: Credentials | Exception) -> tuple[Login, Loads, Clock]:
    loads, clock = Loads(*credentials), Clock()
    return Login(Source("/k"), loader=loads, clock=clock), loads, clock


REFUSED = Unauthorized(401, "unauthorized: test")


async def test_credentials_are_loaded_once_and_again_when_due() -> None:
    first, second = creds("1", refresh_at=T0 + timedelta(seconds=5)), creds("2")
    login, loads, clock = vault(first, second)
    assert await asyncio.gather(*(login.current() for _ in range(5))) == [first] * 5
    assert loads.calls == 1
    clock.now = T0 + timedelta(seconds=5)
    assert await asyncio.gather(*(login.current() for _ in range(5))) == [second] * 5
    assert loads.calls == 2
    clock.now = T0 + timedelta(days=1)
    assert await login.current() is second  # no refresh time: kept
    assert login.loads == 2


async def test_a_401_loads_again_once_for_all_the_requests_it_refused() -> None:
    old, new = creds("old"), creds("new")
    login, loads, _ = vault(old, new)
    seen = await login.current()
    retried = await asyncio.gather(*(login.refused(seen, REFUSED) for _ in range(8)))
    assert retried == [new] * 8
    assert loads.calls == 2
    assert await login.current() is new


@pytest.mark.parametrize(
    "again",
    [
        lambda: creds("old"),  # the same token: dead, retrying would loop
        lambda: LoginError("the plugin failed"),
    ],
)
async def test_a_401_that_a_new_login_cannot_cure_raises(
    again: Callable[[], Credentials | Exception],
) -> None:
    login, _, _ = vault(creds("old"), again())
    seen = await login.current()
    with pytest.raises(Unauthorized) as raised:
        await login.refused(seen, REFUSED)
    assert raised.value is REFUSED
