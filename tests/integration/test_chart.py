"""The Helm chart and the kustomize base on the real local control plane.

The operator's pods here are KWOK's (they run nothing); what is tested is what the API
server makes of the chart: the objects, RBAC, quotas, the tier policy, upgrades and
uninstalls. The session's CRDs were applied by kubectl: the release takes them over
(`--take-ownership`), and each test leaves them as crds/ has them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.cli import chart_crd_template
from tests.builders import mediajob
from tests.chart.render import HACK, VALUES, render_text
from tests.localcluster import REPO, WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

CHART = REPO / "charts" / "mediajobs"
RELEASE = "mediajobs"
CRDS = (
    "crd/mediajobs.mediajobs.dev",
    "crd/hitlsessions.mediajobs.dev",
    "crd/mediajobschedules.mediajobs.dev",
)
StartOperator = Callable[..., OperatorProcess]


@pytest.fixture
def release_ns(kube: Kubectl) -> Iterator[str]:
    name = f"rel-{uuid.uuid4().hex[:8]}"
    kube.run("create", "namespace", name)
    try:
        yield name
    finally:
        kube.run("delete", "namespace", name, "--wait=false", check=False)


@pytest.fixture
def crds_restored(kube: Kubectl) -> Iterator[None]:
    """Whatever the test did to the CRDs, they end as crds/ has them (other tests use them)."""
    try:
        yield
    finally:
        kube.run("replace", "-f", str(REPO / "crds"))


def helm(kube: Kubectl, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [HACK.helm_binary(), f"--kubeconfig={kube.kubeconfig}", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def _values(tmp_path: Path, tenant: str) -> Path:
    values = yaml.safe_load((VALUES / "tiers.yaml").read_text())
    values["namespaces"] = [{"name": tenant, "maxMediaJobs": 3}]
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def _changed_chart(tmp_path: Path) -> Path:
    """The chart with one more optional field in the MediaJob schema, as a new version."""
    chart = tmp_path / "chart"
    shutil.copytree(CHART, chart)
    crd = yaml.safe_load((REPO / "crds" / "mediajobs.dev_mediajobs.yaml").read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    spec["properties"]["upgradeNote"] = {
        "type": "string",
        "maxLength": 64,
        "description": "A field only the upgraded chart's CRD has.",
    }
    (chart / "templates" / "crd-mediajobs.yaml").write_text(chart_crd_template(crd))
    meta = chart / "Chart.yaml"
    meta.write_text(meta.read_text().replace("version: 0.1.0", "version: 0.2.0"))
    return chart


def _uids(ns: Kubectl) -> dict[str, str]:
    return {m["metadata"]["name"]: m["metadata"]["uid"] for m in ns.items("mediajobs")}


def _refusal(ns: Kubectl, manifest: dict[str, Any], text: str) -> str | None:
    """The API server's refusal of MANIFEST (a server-side dry run) when it says TEXT."""
    result = ns.run(
        "create", "--dry-run=server", "-f", "-", stdin=json.dumps(manifest), check=False
    )
    return result.stderr if result.returncode != 0 and text in result.stderr else None


def test_install_upgrade_uninstall(
    kube: Kubectl, ns: Kubectl, release_ns: str, tmp_path: Path, crds_restored: None
) -> None:
    tenant = str(ns.namespace)
    values = _values(tmp_path, tenant)
    where = (f"--namespace={release_ns}", f"--values={values}")
    helm(kube, "install", RELEASE, str(CHART), *where, "--take-ownership")
    try:
        # What the chart installs, as the API server holds it.
        for crd in CRDS:
            annotations = kube.run("get", crd, "-o", "jsonpath={.metadata.annotations}").stdout
            assert '"helm.sh/resource-policy":"keep"' in annotations
        classes = {c["metadata"]["name"] for c in kube.items("priorityclasses")}
        assert {"mediajobs-cpu", "mediajobs-gpu-encode", "mediajobs-gpu-ai"} <= classes
        quotas = {q["metadata"]["name"] for q in ns.items("resourcequotas")}
        assert quotas == {
            "mediajobs-cpu",
            "mediajobs-gpu-encode",
            "mediajobs-gpu-ai",
            "mediajobs-count",
        }
        released = kube.in_namespace(release_ns)
        deployment = released.get("deployment", RELEASE)
        assert deployment["spec"]["replicas"] == 2
        assert released.get("role", f"{RELEASE}-leader-election")["rules"][0]["verbs"] == [
            "get", "create", "update",
        ]  # fmt: skip
        assert kube.get("clusterrole", RELEASE)["rules"]
        assert ns.get("serviceaccount", "mediajobs-worker")["automountServiceAccountToken"] is False
        assert ns.get("networkpolicy", "mediajobs-workers")["spec"]["policyTypes"] == [
            "Ingress",
            "Egress",
        ]
        assert kube.get("validatingadmissionpolicy", f"{RELEASE}-tiers")
        # The operator's account may do what it calls, and no more (Secrets: nowhere).
        account = f"system:serviceaccount:{release_ns}:{RELEASE}"
        for verb, what in (
            ("create", "jobs.batch"),
            ("patch", "mediajobs.mediajobs.dev --subresource=status"),
            ("create", "mediajobs.mediajobs.dev"),  # a MediaJobSchedule's runs
            ("watch", "pods"),
        ):
            assert (
                kube.run(
                    "auth", "can-i", verb, *what.split(), f"--as={account}", f"--namespace={tenant}"
                ).stdout.strip()
                == "yes"
            )
        for verb, what in (
            ("get", "secrets"),
            ("delete", "pods"),
            ("update", "mediajobs.mediajobs.dev"),
            ("create", "mediajobschedules.mediajobs.dev"),
        ):
            refused = kube.run(
                "auth",
                "can-i",
                verb,
                *what.split(),
                f"--as={account}",
                f"--namespace={tenant}",
                check=False,
            )
            assert refused.stdout.strip() == "no", (verb, what)

        # Tiers: a namespace labelled free may validate, not compress (not_in_tier, said).
        ns.run("label", "namespace", tenant, "mediajobs.dev/tier=free")
        refused = wait_for(
            "the tier policy to refuse compress_video",
            lambda: _refusal(ns, mediajob("big", "compress_video").obj(), "not_in_tier"),
            timeout=WAIT_LONG,
        )
        assert "this namespace's plan does not include this operation" in refused
        assert "(operation compress_video, tier free)" in refused
        # Until the quota controller has counted, the API server refuses MediaJobs.
        wait_for(
            "the count quota's usage",
            lambda: (
                "count/mediajobs.mediajobs.dev"
                in ns.get("resourcequota", "mediajobs-count").get("status", {}).get("used", {})
            ),
            timeout=2 * WAIT_LONG,
        )
        for n in range(3):
            ns.apply(mediajob(f"keep-{n}").obj())
        # limit_reached: the fourth MediaJob is over the namespace's count quota.
        over = wait_for(
            "the count quota to refuse a fourth MediaJob",
            lambda: _refusal(ns, mediajob("fourth").obj(), "exceeded quota: mediajobs-count"),
            timeout=WAIT_LONG,
        )
        assert "count/mediajobs.mediajobs.dev" in over
        before = _uids(ns)

        # An upgrade to a chart whose CRD changed updates the CRD and keeps every MediaJob.
        changed = _changed_chart(tmp_path)
        helm(kube, "upgrade", RELEASE, str(changed), *where)
        schema = kube.get("crd", "mediajobs.mediajobs.dev")["spec"]["versions"][0]["schema"]
        assert "upgradeNote" in schema["openAPIV3Schema"]["properties"]["spec"]["properties"]
        assert _uids(ns) == before
        ns.run("patch", "mediajob", "keep-0", "--type=merge", "-p", '{"spec":{"upgradeNote":"hi"}}')
        assert ns.get("mediajob", "keep-0")["spec"]["upgradeNote"] == "hi"
    finally:
        helm(kube, "uninstall", RELEASE, f"--namespace={release_ns}", "--wait", check=False)

    # Uninstalled: the CRDs and the MediaJobs stay; the release's objects go.
    for crd in CRDS:
        kube.run("get", crd)
    assert _uids(ns) == before
    assert kube.get_or_none("deployment", RELEASE) is None
    assert kube.in_namespace(release_ns).get_or_none("deployment", RELEASE) is None
    assert kube.get_or_none("clusterrole", RELEASE) is None
    assert kube.get_or_none("validatingadmissionpolicy", f"{RELEASE}-tiers") is None
    assert ns.items("resourcequotas") == []
    assert not {c["metadata"]["name"] for c in kube.items("priorityclasses")} & {"mediajobs-cpu"}


def test_rendered_chart_passes_a_server_dry_run(
    kube: Kubectl, ns: Kubectl, release_ns: str, tmp_path: Path
) -> None:
    """Every object the chart renders (tiers on, monitoring off: no Prometheus CRDs here)
    is one the API server accepts."""
    rendered = tmp_path / "rendered.yaml"
    values = _values(tmp_path, str(ns.namespace))
    # The `helm test` pod is left out: its ServiceAccount exists only once Helm made it.
    rendered.write_text(render_text(values, f"--namespace={release_ns}", tests=False))
    result = kube.run("apply", "--dry-run=server", "-f", str(rendered), check=False)
    assert result.returncode == 0, result.stderr
    # The session's CRDs were applied server-side: kubectl says it would add its annotation.
    warnings = [
        line
        for line in result.stderr.splitlines()
        if "last-applied-configuration annotation" not in line
    ]
    assert warnings == []
    policy = "validatingadmissionpolicy.admissionregistration.k8s.io/mediajobs-tiers"
    assert f"{policy} created (server dry run)" in result.stdout


def test_kustomize_base_and_overlay_apply(kube: Kubectl, crds_restored: None) -> None:
    base, overlay = REPO / "manifests" / "base", REPO / "manifests" / "overlays" / "example"
    try:
        result = kube.run("apply", "-k", str(base), check=False)
        assert result.returncode == 0, result.stderr
        operator = kube.in_namespace("mediajobs")
        assert operator.get("deployment", "mediajobs")["spec"]["replicas"] == 2
        assert kube.get("clusterrole", "mediajobs")
        result = kube.run("apply", "-k", str(overlay), check=False)
        assert result.returncode == 0, result.stderr
        config = yaml.safe_load(operator.get("configmap", "mediajobs")["data"]["config.yaml"])
        assert [p["name"] for p in config["gpuPools"]] == ["default", "a100"]
        quota = kube.in_namespace("media").get("resourcequota", "mediajobs-gpu-encode")
        assert quota["spec"]["hard"]["pods"] == "1"
    finally:
        # Everything they made but the CRDs (the session's MediaJobs live in them).
        built = kube.run("kustomize", str(overlay)).stdout
        made = [o for o in yaml.safe_load_all(built) if o]
        kept = [o for o in made if o["kind"] != "CustomResourceDefinition"]
        kube.run(
            "delete", "--ignore-not-found", "--wait=false", "-f", "-",
            stdin=yaml.safe_dump_all(kept),
        )  # fmt: skip


def test_helm_test_check_applies_a_validate_job_and_waits(
    kube: Kubectl, ns: Kubectl, start_operator: StartOperator, tmp_path: Path
) -> None:
    """The `helm test` pod's script, run here with the token of the hook's own account
    (its Role, as the chart renders it) against the operator: KWOK runs the Job."""
    tenant = str(ns.namespace)
    hook = render_text(
        None, f"--set=helmTest.namespace={tenant}", "--show-only=templates/tests/test-validate.yaml"
    )
    account = [o for o in yaml.safe_load_all(hook) if o and o["kind"] not in ("Pod", "ConfigMap")]
    assert [o["kind"] for o in account] == ["ServiceAccount", "Role", "RoleBinding"]
    ns.apply(yaml.safe_dump_all(account))
    start_operator()
    secrets = tmp_path / "account"
    secrets.mkdir()
    (secrets / "token").write_text(ns.run("create", "token", "mediajobs-test").stdout)
    config = yaml.safe_load(kube.kubeconfig.read_text())["clusters"][0]["cluster"]
    shutil.copy(config["certificate-authority"], secrets / "ca.crt")
    host, port = config["server"].removeprefix("https://").rsplit(":", 1)
    env = {
        "PATH": "/usr/bin:/bin",
        "SERVICE_ACCOUNT_DIR": str(secrets),
        "KUBERNETES_SERVICE_HOST": host,
        "KUBERNETES_SERVICE_PORT": port,
        "NAMESPACE": tenant,
        "MEDIA_DIR": str(tmp_path / "media"),
        "TIMEOUT_SECONDS": str(WAIT_LONG),
    }
    script = CHART / "files" / "helm-test.py"
    result = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False,
        timeout=WAIT_LONG + 30,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Succeeded" in result.stdout
    assert ns.items("mediajobs") == []  # it cleans up after itself
    assert list((tmp_path / "media" / "helm-test").iterdir()) == []
