"""The local cluster for tests: hack/cluster.py, loaded as a module, plus kubectl."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Bounded waits share these constants instead of sleeping "long enough".
WAIT_SHORT = 15.0
WAIT_LONG = 60.0


def load_hack(name: str) -> ModuleType:
    """hack/NAME.py as the module hack_NAME (hack/ on the path: its scripts import each other)."""
    if str(REPO / "hack") not in sys.path:
        sys.path.append(str(REPO / "hack"))
    spec = importlib.util.spec_from_file_location(f"hack_{name}", REPO / "hack" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"hack_{name}"] = module
    spec.loader.exec_module(module)
    return module


def load_hack_cluster() -> ModuleType:
    return load_hack("cluster")


def free_port() -> int:
    """A free TCP port on the loopback address (servers here bind nowhere else)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = WAIT_SHORT) -> T:
    """Poll PROBE until it returns something truthy; fail with WHAT after TIMEOUT."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@dataclass(frozen=True)
class Kubectl:
    binary: str
    kubeconfig: Path
    namespace: str | None = None

    def in_namespace(self, namespace: str) -> Kubectl:
        return Kubectl(self.binary, self.kubeconfig, namespace)

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [self.binary, f"--kubeconfig={self.kubeconfig}"]
        if self.namespace:
            argv.append(f"--namespace={self.namespace}")
        result = subprocess.run(
            [*argv, *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result

    def apply(
        self, manifest: dict[str, Any] | str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        return self.run("apply", "-f", "-", stdin=text, check=check)

    def get(self, kind: str, name: str) -> dict[str, Any]:
        return json.loads(self.run("get", kind, name, "-o", "json").stdout)  # type: ignore[no-any-return]

    def items(self, kind: str, *selectors: str) -> list[dict[str, Any]]:
        listing = json.loads(self.run("get", kind, *selectors, "-o", "json").stdout)
        return listing["items"]  # type: ignore[no-any-return]

    def get_or_none(self, kind: str, name: str) -> dict[str, Any] | None:
        result = self.run("get", kind, name, "-o", "json", "--ignore-not-found", check=False)
        return json.loads(result.stdout) if result.stdout.strip() else None


def kubeconfig_from_env() -> Path | None:
    value = os.environ.get("MEDIAJOBS_KUBECONFIG")
    return Path(value) if value else None


@contextlib.contextmanager
def fresh_namespace(kube: Kubectl) -> Iterator[Kubectl]:
    """KUBE bound to a new namespace (its default service account made: pods need it),
    deleted without waiting afterwards."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.run("create", "namespace", name)
    kube.run(
        "wait", "--for=create", "--timeout=30s",
        f"--namespace={name}", "serviceaccount/default",
    )  # fmt: skip
    try:
        yield kube.in_namespace(name)
    finally:
        kube.run("delete", "namespace", name, "--wait=false", check=False)
