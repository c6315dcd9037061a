"""The local cluster behaves like Kubernetes where mediajobs depends on it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mediajobs.controller.bootstrap import priority_classes
from tests.builders import category_quota
from tests.localcluster import WAIT_LONG, Kubectl, wait_for


def job(
    name: str,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            **spec,
            "template": {
                "metadata": {"labels": labels or {}, "annotations": annotations or {}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "worker", "image": "docker.io/local/none:0"}],
                },
            },
        },
    }


def pod_of(ns: Kubectl, job_name: str) -> dict[str, Any]:
    items = ns.items("pods", "-l", f"job-name={job_name}")
    assert len(items) == 1
    return items[0]


def test_nodes_two_cpu_one_gpu(kube: Kubectl) -> None:
    nodes = {n["metadata"]["name"]: n for n in kube.items("nodes")}
    assert set(nodes) == {"kwok-cpu-1", "kwok-cpu-2", "kwok-gpu-1"}
    for node in nodes.values():
        ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
        assert ready and ready[0]["status"] == "True"
    assert nodes["kwok-gpu-1"]["status"]["allocatable"]["nvidia.com/gpu"] == "2"
    assert "nvidia.com/gpu" not in nodes["kwok-cpu-1"]["status"]["allocatable"]


def test_job_controller_completes_a_kwok_pod(ns: Kubectl) -> None:
    ns.apply(job("ok", annotations={"kwok.mediajobs.dev/message": '{"outputs": []}'}))
    ns.run("wait", "--for=condition=Complete", f"--timeout={WAIT_LONG:.0f}s", "job/ok")
    terminated = pod_of(ns, "ok")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert terminated["exitCode"] == 0
    assert terminated["message"] == '{"outputs": []}'


def test_pod_failure_policy_sees_the_exit_code(ns: Kubectl) -> None:
    rules = {"rules": [{"action": "FailJob", "onExitCodes": {"operator": "In", "values": [2]}}]}
    ns.apply(
        job(
            "bad",
            {"kwok.mediajobs.dev/exit-code": "2"},
            {"kwok.mediajobs.dev/message": "not a video"},
            backoffLimit=5,
            podFailurePolicy=rules,
        )
    )
    ns.run("wait", "--for=condition=Failed", f"--timeout={WAIT_LONG:.0f}s", "job/bad")
    conditions = ns.get("job", "bad")["status"]["conditions"]
    failed = next(c for c in conditions if c["type"] == "Failed")
    assert failed["reason"] == "PodFailurePolicy"
    terminated = pod_of(ns, "bad")["status"]["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["exitCode"], terminated["message"]) == (2, "not a video")


def test_run_for_keeps_a_pod_running(ns: Kubectl) -> None:
    ns.apply(job("slow", {"kwok.mediajobs.dev/run-for": "600s"}))

    def running() -> bool:
        pods = ns.items("pods", "-l", "job-name=slow")
        return bool(pods) and pods[0]["status"].get("phase") == "Running"

    wait_for("the pod to run", running)
    assert ns.get("job", "slow")["status"].get("active") == 1


@pytest.fixture
def gpu_encode_class(kube: Kubectl) -> str:
    """The PriorityClass as the operator creates it (controller/bootstrap.py)."""
    (body,) = [pc for pc in priority_classes() if pc["metadata"]["name"] == "mediajobs-gpu-encode"]
    kube.run("create", "-f", "-", stdin=json.dumps(body), check=False)  # AlreadyExists is fine
    return str(body["metadata"]["name"])


def test_quota_scoped_to_a_priority_class_refuses_the_extra_pod(
    ns: Kubectl, gpu_encode_class: str
) -> None:
    ns.apply(
        category_quota("gpu-encode", gpu_encode_class, pods="1", **{"requests.nvidia.com/gpu": "1"})
    )
    wait_for(
        "the quota to be counted",
        lambda: ns.get("resourcequota", "gpu-encode").get("status", {}).get("hard"),
    )

    def pod(name: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"kwok.mediajobs.dev/run-for": "600s"}},
            "spec": {
                "priorityClassName": gpu_encode_class,
                "tolerations": [
                    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
                ],
                "containers": [
                    {
                        "name": "encode",
                        "image": "docker.io/local/none:0",
                        "resources": {"limits": {"nvidia.com/gpu": "1"}},
                    }
                ],
            },
        }

    ns.apply(pod("first"))
    refused = ns.apply(pod("second"), check=False)
    assert refused.returncode != 0
    assert "exceeded quota: gpu-encode" in refused.stderr
    assert "requests.nvidia.com/gpu=1" in refused.stderr
    wait_for(
        "the first pod on the GPU node",
        lambda: ns.get("pod", "first")["spec"].get("nodeName") == "kwok-gpu-1",
    )


def test_garbage_collector_follows_owner_references(ns: Kubectl) -> None:
    ns.apply(job("owner", {"kwok.mediajobs.dev/run-for": "600s"}))
    uid = ns.get("job", "owner")["metadata"]["uid"]
    ns.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "owned",
                "ownerReferences": [
                    {"apiVersion": "batch/v1", "kind": "Job", "name": "owner", "uid": uid}
                ],
            },
        }
    )
    wait_for("the pod", lambda: ns.items("pods", "-l", "job-name=owner"))
    ns.run("delete", "job", "owner", "--cascade=background")
    wait_for(
        "the owned ConfigMap to be collected",
        lambda: ns.get_or_none("configmap", "owned") is None,
        WAIT_LONG,
    )
    wait_for(
        "the Job's pod to be collected",
        lambda: not ns.run("get", "pods", "-o", "name").stdout.strip(),
        WAIT_LONG,
    )


def test_ttl_after_finished_removes_a_job(ns: Kubectl) -> None:
    ns.apply(job("brief", ttlSecondsAfterFinished=0))
    wait_for(
        "the finished Job to be removed", lambda: ns.get_or_none("job", "brief") is None, WAIT_LONG
    )
