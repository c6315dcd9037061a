"""A real node joined to a local control plane, for the session (hack/cluster.py), and
the product installed on it by its own chart (tests/e2e/product.py)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.product import (
    NAMESPACE,
    Sampled,
    Sampler,
    all_finished,
    apply_jobs,
    demo_jobs,
    install_product,
    make_library,
)
from tests.e2e.realnode import cluster_cli
from tests.localcluster import Kubectl, load_hack_cluster, wait_for
from tests.scraper.fake_platform import Platform, serve

# The whole demo on a 2-core machine: pods start one after another, the teaser and the
# re-encode take tens of seconds each.
DEMO_TIMEOUT = 600.0


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


@dataclass(frozen=True)
class Product:
    kube: Kubectl  # in the namespace where MediaJobs run
    media: Path  # the media volume's folder on the host


@pytest.fixture(scope="session")
def fake_platform(real_cluster: Kubectl) -> Iterator[Platform]:
    """The fake social platform (tests/scraper) where the node's pods reach the host: the
    host end of its veth, where the API server listens (the kubeconfig's server)."""
    server = real_cluster.run("config", "view", "-o", "jsonpath={.clusters[0].cluster.server}")
    host = urlsplit(server.stdout).hostname
    assert host and host != "127.0.0.1", f"no real node's address in {server.stdout!r}"
    with serve(host) as platform:
        yield platform


@pytest.fixture(scope="session")
def product(real_cluster: Kubectl, node_state: Path, fake_platform: Platform) -> Product:
    """The chart installed (hack/release.py, as `make run` does; the fake platform in its
    values) and the demo library made."""
    media = node_state / "media"
    install_product(real_cluster, media, fake_platform.base)
    make_library(media)
    return Product(real_cluster.in_namespace(NAMESPACE), media)


@dataclass(frozen=True)
class DemoRun:
    jobs: dict[str, dict[str, Any]]  # the MediaJobs once every one finished
    seen: Sampled


@pytest.fixture(scope="session")
def demo(product: Product) -> DemoRun:
    """The demo set applied at once, sampled until every job finished."""
    manifests = demo_jobs()
    names = [m["metadata"]["name"] for m in manifests]
    sampler = Sampler(product.kube)
    sampler.start()
    try:
        apply_jobs(product.kube, manifests)
        jobs = wait_for(
            "every demo job to finish", lambda: all_finished(sampler.jobs, names),
            timeout=DEMO_TIMEOUT,
        )  # fmt: skip
    finally:
        seen = sampler.stop()
    return DemoRun(jobs, seen)
