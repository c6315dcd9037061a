"""The chart as `helm template` renders it, for several values files (tests/chart/values)."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.api.common import Category
from mediajobs.api.mediajob import MediaJobSpec
from mediajobs.api.platform import PlatformConfig
from mediajobs.config import OperatorConfig
from mediajobs.jobs.build import build_job
from mediajobs.jobs.naming import job_labels
from mediajobs.jobs.placement import placement_for
from mediajobs.lifecycle.records import quota_from_body
from tests.builders import mediajob
from tests.chart.render import CASES, HACK, named, of_kind, render
from tests.localcluster import REPO

CASE_IDS = list(CASES)
RBAC_KINDS = ("Role", "ClusterRole")


def _config(objects: list[dict[str, Any]]) -> OperatorConfig:
    """The operator's config as the chart renders it, read the way the operator reads it."""
    text = named(objects, "ConfigMap", "mediajobs")["data"]["config.yaml"]
    return OperatorConfig.model_validate(yaml.safe_load(text))


@pytest.fixture(scope="module", params=CASE_IDS)
def case(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(CASES[request.param])


@pytest.mark.parametrize("name", CASE_IDS)
def test_helm_lint_is_clean(name: str) -> None:
    values = CASES[name]
    argv = [HACK.helm_binary(), "lint", "--strict", str(REPO / "charts" / "mediajobs")]
    result = subprocess.run(
        argv + ([f"--values={values}"] if values else []),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[WARNING]" not in result.stdout and "[ERROR]" not in result.stdout


def test_rbac_has_no_wildcard_and_no_cluster_wide_secrets(case: tuple[str, Any]) -> None:
    _, objects = case
    for role in [o for o in objects if o["kind"] in RBAC_KINDS]:
        for rule in role["rules"]:
            for key in ("verbs", "resources", "apiGroups"):
                assert "*" not in rule.get(key, []), f"{role['metadata']['name']}: {rule}"
            if role["kind"] == "ClusterRole":
                assert "secrets" not in rule["resources"], role["metadata"]["name"]


def test_secrets_only_in_the_namespaces_that_ask() -> None:
    objects = render(CASES["two-gpu-pools"])
    secret_roles = [
        r for r in of_kind(objects, "Role") if any("secrets" in x["resources"] for x in r["rules"])
    ]
    assert [r["metadata"]["namespace"] for r in secret_roles] == ["studio-a"]
    assert secret_roles[0]["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
    ]


def test_cluster_wide_secrets_is_an_opt_in() -> None:
    objects = render(None, "--set=clusterWideSecrets=true")
    role = named(objects, "ClusterRole", "mediajobs-secrets")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]


# What the operator calls (kube/port.py's paths, controller/ and election.py): the rules
# must grant each, and nothing in them beyond it.
CALLED = {
    ("mediajobs.dev", "mediajobs"): {"get", "list", "watch", "create", "delete"},
    ("mediajobs.dev", "mediajobs/status"): {"patch"},
    ("mediajobs.dev", "hitlsessions"): {"get", "list", "watch", "create", "delete"},
    ("mediajobs.dev", "hitlsessions/status"): {"patch"},
    ("mediajobs.dev", "mediajobschedules"): {"list", "watch"},
    ("mediajobs.dev", "mediajobschedules/status"): {"patch"},
    ("batch", "jobs"): {"get", "list", "watch", "create", "patch", "delete"},
    ("", "pods"): {"list", "watch"},
    ("", "resourcequotas"): {"list", "watch"},
    ("", "events"): {"create", "patch"},
    ("", "namespaces"): {"list", "watch"},
    ("scheduling.k8s.io", "priorityclasses"): {"create"},
    ("coordination.k8s.io", "leases"): {"get", "create", "update"},
}


def _granted(roles: list[dict[str, Any]]) -> dict[tuple[str, str], set[str]]:
    granted: dict[tuple[str, str], set[str]] = {}
    for role in roles:
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    granted.setdefault((group, resource), set()).update(rule["verbs"])
    return granted


@pytest.mark.parametrize(
    ("name", "scope"), [("defaults", "ClusterRole"), ("two-gpu-pools", "Role")]
)
def test_operator_rules_are_what_it_calls(name: str, scope: str) -> None:
    objects = render(CASES[name], tests=False)
    operator_roles = [
        o
        for o in objects
        if o["kind"] in RBAC_KINDS and not o["metadata"]["name"].endswith("-secrets")
    ]
    assert _granted(operator_roles) == CALLED
    jobs_roles = [r for r in of_kind(objects, scope) if ("batch", "jobs") in _granted([r]) and r]
    watched = {"defaults": [None], "two-gpu-pools": ["studio-a", "studio-b"]}[name]
    assert [r["metadata"].get("namespace") for r in jobs_roles] == watched
    lease = named(objects, "Role", "mediajobs-leader-election")
    assert lease["metadata"]["namespace"] == "mediajobs"


def test_worker_pods_have_no_token_and_their_own_account(case: tuple[str, Any]) -> None:
    name, objects = case
    config = _config(objects)
    namespaces = [
        ns["name"]
        for ns in yaml.safe_load(
            (CASES[name] or REPO / "charts/mediajobs/values.yaml").read_text()
        ).get("namespaces")
        or []
    ]
    accounts = [
        a for a in of_kind(objects, "ServiceAccount") if a["metadata"]["name"] == "mediajobs-worker"
    ]
    assert sorted(a["metadata"]["namespace"] for a in accounts) == sorted(namespaces)
    assert all(a["automountServiceAccountToken"] is False for a in accounts)
    assert config.job_service_account == ("mediajobs-worker" if namespaces else None)
    pod = _worker_pod(config)
    assert pod["automountServiceAccountToken"] is False
    assert pod.get("serviceAccountName") == config.job_service_account


def _worker_pod(config: OperatorConfig) -> dict[str, Any]:
    """The pod spec of a Job the operator builds with CONFIG."""
    spec = MediaJobSpec.model_validate(mediajob("w").obj()["spec"])
    job = build_job(
        name="w", namespace="media", uid="u-1", spec=spec, attempt=1, run=1,
        placement=placement_for(spec), config=config, pool=None,
    )  # fmt: skip
    return job["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _images(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["image"]] if isinstance(node.get("image"), str) else []
        return own + [i for v in node.values() for i in _images(v)]
    if isinstance(node, list):
        return [i for v in node for i in _images(v)]
    return []


def test_every_image_comes_from_values(case: tuple[str, Any]) -> None:
    name, _ = case
    sets = [
        f"--set=images.{image}.repository=example.test/{image},images.{image}.tag=t{n}"
        for n, image in enumerate(("operator", "worker", "scraper", "redis"))
    ]
    objects = render(CASES[name], *sets)
    config = _config(objects)
    images = [*_images(objects), config.images.ffmpeg_worker, config.images.scraper]
    assert images and all(i.startswith("example.test/") for i in images), images
    assert config.images.ffmpeg_worker == "example.test/worker:t1"
    pulls = {c["imagePullPolicy"] for pod in _pods(objects) for c in pod["containers"]}
    assert pulls == {config.images.pull_policy}


def test_default_images_are_the_local_builds_at_app_version() -> None:
    objects = render()
    config = _config(objects)
    assert config.images.ffmpeg_worker == "docker.io/local/mediajobs-ffmpeg-worker:0.1.0"
    assert config.images.scraper == "docker.io/local/mediajobs-scraper:0.1.0"
    deployment = named(objects, "Deployment", "mediajobs")
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "docker.io/local/mediajobs-operator:0.1.0"
    redis = named(objects, "Deployment", "mediajobs-redis")
    assert redis["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "docker.io/local/mediajobs-redis:0.1.0"
    )


def test_config_map_is_the_operator_config() -> None:
    """Values land in OperatorConfig (which refuses unknown keys) as they were meant."""
    config = _config(render(CASES["two-gpu-pools"]))
    assert [(p.name, p.vram_mib) for p in config.gpu_pools] == [("t4", 16000), ("a100", 40000)]
    assert config.gpu_pools[1].node_selector == {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB"}
    assert config.limit(Category.GPU_ENCODE).max_running == 4
    assert config.limit(Category.GPU_ENCODE).starts_per_minute == 30
    assert config.limit(Category.CPU).max_running == 5
    assert config.platform_start_rates == {"instagram": 6, "tiktok": 0.5}
    assert config.media.source == {"hostPath": {"path": "/data/media", "type": "Directory"}}
    assert config.images.ffmpeg_worker == "registry.example.com/mediajobs/worker:1.2.3"
    assert config.images.pull_policy == "Always"
    assert config.leader_election.enabled and config.leader_election.lease_namespace == "mediajobs"
    assert config.redis_url == "redis://mediajobs-redis.mediajobs.svc:6379/0"
    defaults = _config(render())
    assert defaults.media == OperatorConfig().media
    assert defaults.start_timeout_seconds == OperatorConfig().start_timeout_seconds
    assert defaults.retention == OperatorConfig().retention
    assert defaults.max_download_bytes == OperatorConfig().max_download_bytes
    assert defaults.platform_start_rates == {}


def test_external_redis() -> None:
    objects = render(CASES["external-redis"])
    assert _config(objects).redis_url == "redis://redis.shared.svc:6379/3"
    assert not [d for d in of_kind(objects, "Deployment") if "redis" in d["metadata"]["name"]]
    policy = named(objects, "NetworkPolicy", "mediajobs-workers")
    assert all(
        6379 not in [p["port"] for p in rule.get("ports", [])] for rule in policy["spec"]["egress"]
    )


def test_operator_deployment(case: tuple[str, Any]) -> None:
    _, objects = case
    deployment = named(objects, "Deployment", "mediajobs")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert deployment["spec"]["replicas"] == 2
    env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert env == {"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}
    assert "--http-port=8080" in container["args"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    config_mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert f"--config={config_mount['mountPath']}/config.yaml" in container["args"]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {}} in pod["volumes"]
    _assert_restricted(pod)
    pdb = named(objects, "PodDisruptionBudget", "mediajobs")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = named(objects, "Service", "mediajobs-metrics")
    assert service["spec"]["selector"].items() <= labels.items()


def _pods(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pod spec of every Deployment and Pod."""
    pods = [o["spec"]["template"]["spec"] for o in of_kind(objects, "Deployment")]
    return pods + [o["spec"] for o in of_kind(objects, "Pod")]


def _assert_restricted(pod: dict[str, Any]) -> None:
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}


def test_every_pod_is_restricted(case: tuple[str, Any]) -> None:
    _, objects = case
    pods = _pods(objects)
    assert pods
    for pod in pods:
        _assert_restricted(pod)


def test_priority_classes_are_the_categories() -> None:
    classes = of_kind(render(), "PriorityClass")
    assert sorted(c["metadata"]["name"] for c in classes) == sorted(
        c.priority_class for c in Category
    )
    assert all(c["preemptionPolicy"] == "Never" and c["value"] == 0 for c in classes)


def test_quotas_per_namespace_and_category() -> None:
    """Each listed namespace gets one quota per category that the operator reads as that
    category's, with the namespace's overrides over the defaults, and a MediaJob count."""
    objects = render(CASES["two-gpu-pools"])
    quotas = of_kind(objects, "ResourceQuota")
    read = {}
    for quota in quotas:
        quota["status"] = {}
        parsed = quota_from_body(quota)
        if parsed is not None:
            read[parsed[0]] = parsed[1]
    assert set(read) == {(ns, c) for ns in ("studio-a", "studio-b") for c in Category}
    assert read[("studio-a", Category.GPU_ENCODE)].pods == 4
    assert read[("studio-a", Category.GPU_ENCODE)].gpus == 4
    assert read[("studio-b", Category.GPU_ENCODE)].pods == 2
    assert read[("studio-a", Category.GPU_ENCODE)].memory_bytes == 16 * 1024**3
    counts = {
        q["metadata"]["namespace"]: q["spec"]["hard"]["count/mediajobs.mediajobs.dev"]
        for q in quotas
        if q["metadata"]["name"] == "mediajobs-count"
    }
    assert counts == {"studio-b": "50"}  # studio-a: none, the default


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    matched = all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())
    for expr in selector.get("matchExpressions", []):
        assert expr["operator"] == "Exists"
        matched = matched and expr["key"] in labels
    return matched


def test_worker_network_policy_keeps_workers_out_of_the_cluster(case: tuple[str, Any]) -> None:
    name, objects = case
    policies = [
        p for p in of_kind(objects, "NetworkPolicy") if p["metadata"]["name"] == "mediajobs-workers"
    ]
    if name in ("defaults", "monitoring"):
        assert policies == []  # no namespaces listed
        return
    assert policies
    worker = job_labels(name="mj", uid="u-1", attempt=1, run=1, category=Category.CPU)
    for policy in policies:
        spec = policy["spec"]
        assert _selects(spec["podSelector"], worker)
        assert not _selects(spec["podSelector"], {"app.kubernetes.io/managed-by": "Helm"})
        assert spec["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in spec
        blocks = [
            peer["ipBlock"] for rule in spec["egress"] for peer in rule["to"] if "ipBlock" in peer
        ]
        for rule in spec["egress"]:
            assert rule.get("to"), "an egress rule without `to` allows everywhere"
        v4 = next(b for b in blocks if b["cidr"] == "0.0.0.0/0")
        excepted = [ipaddress.ip_network(c) for c in v4["except"]]
        for inside in (
            "169.254.169.254",
            "10.96.0.1",
            "10.244.1.7",
            "192.168.1.1",
            "172.16.0.1",
            "127.0.0.1",
            "100.64.0.1",
        ):
            assert any(ipaddress.ip_address(inside) in net for net in excepted), inside
        assert not any(ipaddress.ip_address("93.184.216.34") in net for net in excepted)
        v6 = next(b for b in blocks if b["cidr"] == "::/0")
        assert {"fe80::/10", "fc00::/7", "::1/128"} <= set(v6["except"])


def test_tiers_policy() -> None:
    objects = render(CASES["tiers"])
    policy = named(objects, "ValidatingAdmissionPolicy", "mediajobs-tiers")
    binding = named(objects, "ValidatingAdmissionPolicyBinding", "mediajobs-tiers")
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["validationActions"] == ["Deny"]
    assert "not_in_tier" in policy["spec"]["validations"][0]["messageExpression"]
    assert not of_kind(render(), "ValidatingAdmissionPolicy")


@pytest.mark.parametrize("enabled", [False, True], ids=["off", "on"])
def test_monitoring_objects(enabled: bool) -> None:
    objects = render(CASES["monitoring"] if enabled else None)
    kinds = [("ServiceMonitor", "mediajobs"), ("PrometheusRule", "mediajobs")]
    for kind, name in kinds:
        found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
        assert len(found) == (1 if enabled else 0), kind
        if enabled:
            assert found[0]["metadata"]["labels"]["release"] == "prometheus"
    dashboards = [
        o for o in of_kind(objects, "ConfigMap") if o["metadata"]["name"] == "mediajobs-dashboard"
    ]
    assert len(dashboards) == (1 if enabled else 0)
    if enabled:
        assert dashboards[0]["metadata"]["labels"]["grafana_dashboard"] == "1"
        monitor = named(objects, "ServiceMonitor", "mediajobs")
        assert monitor["spec"]["endpoints"] == [
            {"port": "http", "path": "/metrics", "interval": "15s"}
        ]


def test_crds_are_the_generated_ones_and_kept() -> None:
    rendered = {c["metadata"]["name"]: c for c in of_kind(render(), "CustomResourceDefinition")}
    committed = [yaml.safe_load(p.read_text()) for p in sorted((REPO / "crds").glob("*.yaml"))]
    assert sorted(rendered) == sorted(c["metadata"]["name"] for c in committed)
    for crd in committed:
        ours = rendered[crd["metadata"]["name"]]
        assert ours["spec"] == crd["spec"]
        assert ours["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert not of_kind(render(None, "--set=crds.install=false"), "CustomResourceDefinition")
    unkept = of_kind(render(None, "--set=crds.keep=false"), "CustomResourceDefinition")
    assert unkept and all("annotations" not in c["metadata"] for c in unkept)


def test_values_outside_the_schema_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("config:\n  gpuPool: []\n")
    with pytest.raises(subprocess.CalledProcessError) as err:
        render(bad)
    assert "gpuPool" in err.value.stderr


def test_replicas_without_leader_election_are_refused() -> None:
    with pytest.raises(subprocess.CalledProcessError) as err:
        render(None, "--set=operator.leaderElection.enabled=false")
    assert "needs operator.leaderElection.enabled" in err.value.stderr
    alone = render(None, "--set=operator.leaderElection.enabled=false,operator.replicas=1")
    assert _config(alone).leader_election.enabled is False
    assert not [r for r in of_kind(alone, "Role") if "leader-election" in r["metadata"]["name"]]


def test_platforms_reach_the_operator_config_and_the_schema_checks_them(tmp_path: Path) -> None:
    platforms = {
        "fanplace": {
            "adapter": "browser",
            "baseUrl": "https://fanplace.example",
            "login": {"url": "/login", "markers": ["Log in to continue"]},
            "profile": {"path": "/u/{profile}", "steps": [{"goto": "/u/{profile}"}]},
        }
    }
    values = tmp_path / "platforms.yaml"
    values.write_text(yaml.safe_dump({"config": {"platforms": platforms}}))
    config = _config(render(values))
    assert config.platforms == {"fanplace": PlatformConfig.model_validate(platforms["fanplace"])}
    assert _config(render()).platforms == {}
    values.write_text(yaml.safe_dump({"config": {"platforms": {"x": {"adapter": "curl"}}}}))
    with pytest.raises(subprocess.CalledProcessError) as refused:
        render(values)
    assert "baseUrl" in refused.value.stderr and "adapter" in refused.value.stderr


def test_the_web_view_is_off_unless_asked(tmp_path: Path) -> None:
    assert _config(render()).web_view.enabled is False
    assert OperatorConfig().web_view.enabled is True  # outside the chart: on 127.0.0.1
    values = tmp_path / "web-view.yaml"
    values.write_text(
        yaml.safe_dump({"config": {"webView": {"enabled": True, "namespaces": ["media"]}}})
    )
    shown = _config(render(values)).web_view
    assert (shown.enabled, shown.namespaces) == (True, ["media"])
    values.write_text(yaml.safe_dump({"config": {"webView": {"enabled": True, "port": 80}}}))
    with pytest.raises(subprocess.CalledProcessError) as refused:
        render(values)
    assert "port" in refused.value.stderr


def test_namespaces_are_read_only_for_fair_share_and_only_those_watched() -> None:
    def rules(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        role = named(objects, "ClusterRole", "mediajobs-cluster")
        return [r for r in role["rules"] if "namespaces" in r["resources"]]

    assert rules(render(CASES["defaults"], tests=False)) == [
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list", "watch"]}
    ]
    (bound,) = rules(render(CASES["two-gpu-pools"], tests=False))
    assert bound["resourceNames"] == ["studio-a", "studio-b"]
    assert rules(render(None, "--set=config.fairShare.enabled=false", tests=False)) == []
