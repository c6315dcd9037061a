"""`helm uninstall` removes what the chart made and keeps the CRDs (and so the MediaJobs).

Last of the product's tests (pytest runs the files in name order): the release is gone
after it.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DemoRun, Product
from tests.e2e.product import NAMESPACE, RELEASE_NAMESPACE, release_mod
from tests.localcluster import WAIT_LONG, Kubectl, wait_for

pytestmark = pytest.mark.e2e

INSTANCE = "app.kubernetes.io/instance=mediajobs"
NAMESPACED = (
    "deployments", "services", "configmaps", "serviceaccounts", "roles", "rolebindings",
    "resourcequotas", "networkpolicies", "poddisruptionbudgets",
)  # fmt: skip
CLUSTER_WIDE = ("clusterroles", "clusterrolebindings", "priorityclasses")


def made_by_chart(kube: Kubectl) -> set[str]:
    names = set()
    for namespace in (RELEASE_NAMESPACE, NAMESPACE):
        for kind in NAMESPACED:
            for item in kube.in_namespace(namespace).items(kind, f"--selector={INSTANCE}"):
                names.add(f"{kind}/{namespace}/{item['metadata']['name']}")
    for kind in CLUSTER_WIDE:
        names |= {
            f"{kind}/{i['metadata']['name']}" for i in kube.items(kind, f"--selector={INSTANCE}")
        }
    return names


def test_helm_uninstall_removes_what_the_chart_made_and_keeps_the_crds(
    real_cluster: Kubectl, product: Product, demo: DemoRun
) -> None:
    before = made_by_chart(real_cluster)
    assert any(n.startswith("deployments/") for n in before), before
    assert any(n.startswith("resourcequotas/") for n in before), before
    release_mod.uninstall(release_mod.Release(real_cluster.kubeconfig))
    assert made_by_chart(real_cluster) == set()
    system = real_cluster.in_namespace(RELEASE_NAMESPACE)
    wait_for("the release's pods to go", lambda: system.items("pods") == [], timeout=WAIT_LONG)
    for crd in ("mediajobs.mediajobs.dev", "hitlsessions.mediajobs.dev"):
        assert real_cluster.get_or_none("crd", crd) is not None, crd
    kept = {j["metadata"]["name"] for j in product.kube.items("mediajobs")}
    assert set(demo.jobs) <= kept
