"""A real node joined to a local control plane, for the session (hack/cluster.py)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.realnode import cluster_cli
from tests.localcluster import Kubectl, load_hack_cluster


@pytest.fixture(scope="session")
def node_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The cluster state folder every e2e test shares (the node's imported images too).

    The node's containerd root (~1.7 GB of unpacked images) is removed at the end:
    pytest keeps its last temporary folders, and a run imports in about 20 s.
    """
    state = tmp_path_factory.mktemp("e2e-cluster")
    yield state
    shutil.rmtree(state / "node-containerd", ignore_errors=True)


@pytest.fixture(scope="session")
def real_cluster(node_state: Path) -> Iterator[Kubectl]:
    """kubectl on a control plane with one real node; stopped after the session."""
    try:
        cluster_cli(node_state, "up", "--real-node")
        hack = load_hack_cluster()
        yield Kubectl(hack.binary("kubectl"), node_state / "kubeconfig")
    finally:
        cluster_cli(node_state, "down")


@pytest.fixture
def e2e_ns(real_cluster: Kubectl) -> Iterator[Kubectl]:
    name = f"e2e-{uuid.uuid4().hex[:10]}"
    real_cluster.run("create", "namespace", name)
    try:
        yield real_cluster.in_namespace(name)
    finally:
        real_cluster.run("delete", "namespace", name, "--wait=false")
