"""The Argo CD pieces on the real API server: every testdata object (spec and status) is
one the CRDs accept and keep as written, and the argocd-cm patch merges as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.localcluster import REPO, Kubectl

ARGOCD = REPO / "manifests" / "argocd"
FIXTURES = sorted((ARGOCD / "resource_customizations").glob("*/*/testdata/*.yaml"))


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_testdata_is_what_the_api_server_keeps(ns: Kubectl, fixture: Path) -> None:
    obj = yaml.safe_load(fixture.read_text())
    status = obj.pop("status", None)
    obj["metadata"] = {"name": obj["metadata"]["name"]}  # the test's namespace; a new object
    ns.apply(obj)
    kind, name = obj["kind"].lower(), obj["metadata"]["name"]
    if status is not None:
        ns.run(
            "patch", kind, name, "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": status}),
        )  # fmt: skip
    # Pruning is silent: a field the schema lacks would be gone.
    assert ns.get(kind, name).get("status") == status


def test_the_argocd_cm_patch_merges_into_argocd_cm(ns: Kubectl) -> None:
    ns.run("create", "configmap", "argocd-cm", "--from-literal=url=https://argocd.example.com")
    ns.run(
        "patch", "configmap", "argocd-cm", "--type=merge",
        f"--patch-file={ARGOCD / 'argocd-cm-patch.yaml'}",
    )  # fmt: skip
    data = ns.get("configmap", "argocd-cm")["data"]
    scripts = ARGOCD / "resource_customizations" / "mediajobs.dev"
    assert data == {
        "url": "https://argocd.example.com",
        "resource.customizations.health.mediajobs.dev_HitlSession": (
            scripts / "HitlSession" / "health.lua"
        ).read_text(),
        "resource.customizations.health.mediajobs.dev_MediaJob": (
            scripts / "MediaJob" / "health.lua"
        ).read_text(),
    }
