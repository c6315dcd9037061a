"""Shared fixtures: the real local cluster (session), a namespace per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.localcluster import (
    REPO,
    WAIT_LONG,
    Kubectl,
    fresh_namespace,
    kubeconfig_from_env,
    load_hack_cluster,
)
from tests.operator_harness import OperatorProcess
from tests.redis_server import RedisServer

# Tests get a cluster of their own, next to (not in place of) the one `make run` keeps in .cluster/.
TEST_PORT_BASE = "26500"


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    """kubectl on a real control plane with the CRDs installed.

    Uses the cluster named by $MEDIAJOBS_KUBECONFIG if set; otherwise starts one
    with hack/cluster.py (binaries cached) and stops it after the session.
    """
    os.environ.setdefault("MEDIAJOBS_CLUSTER_PORT_BASE", TEST_PORT_BASE)
    hack = load_hack_cluster()
    kubectl_bin = hack.binary("kubectl")
    started = None
    kubeconfig = kubeconfig_from_env()
    if kubeconfig is None:
        hack.ensure_binaries()
        started = hack.Cluster(Path(tmp_path_factory.mktemp("cluster")))
        try:
            started.up()
        except BaseException:
            started.down()
            raise
        kubeconfig = started.kubeconfig
    kubectl = Kubectl(kubectl_bin, kubeconfig)
    try:
        kubectl.run("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
        kubectl.run(
            "wait", "--for=condition=Established", f"--timeout={WAIT_LONG:.0f}s",
            "crd/mediajobs.mediajobs.dev", "crd/hitlsessions.mediajobs.dev",
            "crd/mediajobschedules.mediajobs.dev",
        )  # fmt: skip
        yield kubectl
    finally:
        if started is not None:
            started.down()


@pytest.fixture
def ns(kube: Kubectl) -> Iterator[Kubectl]:
    """kubectl bound to a fresh namespace, deleted (without waiting) after the test."""
    with fresh_namespace(kube) as bound:
        yield bound


@pytest.fixture
def start_operator(ns: Kubectl, tmp_path: Path) -> Iterator[Callable[..., OperatorProcess]]:
    """Start the operator (a real process) watching the test's namespace, with CONFIG."""
    started: list[OperatorProcess] = []

    def start(
        *, env: dict[str, str | None] | None = None, args: list[str] | None = None, **config: Any
    ) -> OperatorProcess:
        """Started and ready; ENV (over the environment, None unsets) and ARGS (more flags)
        change how it logs in."""
        assert ns.namespace is not None
        # KWOK pods mount nothing for real: an emptyDir stands in for the media library.
        config.setdefault("media", {"source": {"emptyDir": {}}})
        op = OperatorProcess(
            ns, ns.namespace, tmp_path, config, env=env or {}, args=args or [], replica=len(started)
        )
        started.append(op)
        return op.start()

    yield start
    for op in started:
        op.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the session (tests that stop it must start it again)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
