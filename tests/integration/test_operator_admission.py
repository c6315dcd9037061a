"""Admission on the real cluster: order, caps, VRAM, quotas, handoff."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime

from tests.builders import category_quota, mediajob
from tests.integration.operator_checks import (
    JobSampler,
    all_finished,
    jobs_of,
    status,
    wait_phase,
)
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]


def caps(cpu: int = 5, gpu_encode: int = 2, gpu_ai: int = 1, **extra: object) -> dict[str, object]:
    return {
        "limits": {
            "cpu": {"maxRunning": cpu},
            "gpu_encode": {"maxRunning": gpu_encode},
            "gpu_ai": {"maxRunning": gpu_ai},
        },
        **extra,
    }


def test_priority_order_within_a_category(ns: Kubectl, start_operator: StartOperator) -> None:
    # Created while no operator runs, so the whole queue is known when admission starts.
    names = []
    for i, priority in enumerate([5, 9, 1, 5, 3, 1, 7]):
        name = f"p{priority}-{i}"
        names.append(name)
        ns.apply(mediajob(name).priority(priority).obj())
    with JobSampler(ns) as sampler:
        start_operator(**caps(cpu=1))
        all_finished(ns, names, timeout=WAIT_LONG * 2)
    # The total order: priority, then creationTimestamp (1 s resolution), then uid.
    stored = ns.items("mj")
    stored.sort(
        key=lambda m: (
            m["spec"]["priority"],
            m["metadata"]["creationTimestamp"],
            m["metadata"]["uid"],
        )
    )
    assert sampler.order == [m["metadata"]["name"] for m in stored]
    assert [n[:2] for n in sampler.order] == ["p1", "p1", "p3", "p5", "p5", "p7", "p9"]
    assert sampler.peak["cpu"] == 1


def test_each_category_cap_holds_while_jobs_run(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(**caps(cpu=3, gpu_encode=1, gpu_ai=1))  # the GPU node has 2 GPUs
    names = []
    with JobSampler(ns) as sampler:
        for i in range(8):
            names.append(f"cpu-{i}")
            ns.apply(mediajob(f"cpu-{i}").kwok(run_for="2s").obj())
        for i in range(5):
            names.append(f"enc-{i}")
            ns.apply(mediajob(f"enc-{i}", "reencode_streaming").kwok(run_for="2s").obj())
        for i in range(3):
            names.append(f"ai-{i}")
            ns.apply(mediajob(f"ai-{i}", "scene_detect").kwok(run_for="2s").obj())
        wait_for("a queue to form", lambda: status(ns, "cpu-7").get("phase") == "Queued")
        queued = status(ns, "cpu-7")
        assert queued["waitingReason"] == "cpu: 3/3 running"
        assert queued["queuePosition"] >= 1
        final = all_finished(ns, names, timeout=WAIT_LONG * 2)
    assert set(final.values()) == {"Succeeded"}
    assert dict(sampler.peak) == {"cpu": 3, "gpu_encode": 1, "gpu_ai": 1}
    assert sampler.samples > 20


def test_vram_budget_is_shared_by_gpu_categories(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    # 16000 MiB: one scene_detect (8000) and one reencode (4000) fit; a second 8000 does not.
    start_operator(**caps(gpu_encode=4, gpu_ai=2))
    ns.apply(mediajob("ai-1", "scene_detect").kwok(run_for="600s").obj())
    ns.apply(mediajob("enc-1", "reencode_streaming").kwok(run_for="600s").obj())
    wait_phase(ns, "ai-1", "Running")
    wait_phase(ns, "enc-1", "Running")
    # ai-2 comes first in the global order, so the freed VRAM goes to it, not to enc-big.
    ns.apply(mediajob("ai-2", "scene_detect").priority(2).kwok(run_for="600s").obj())
    big = mediajob("enc-big", "reencode_streaming").category("gpu_encode", vram=6000)
    ns.apply(big.kwok(run_for="600s").obj())
    ai2 = wait_phase(ns, "ai-2", "Queued")
    assert ai2["waitingReason"] == "gpu_ai: 1/2 running; VRAM 12000/16000 MiB; needs 8000 MiB"
    big = wait_phase(ns, "enc-big", "Queued")
    assert "VRAM 12000/16000 MiB; needs 6000 MiB" in big["waitingReason"]
    ns.run("delete", "mj", "ai-1")  # frees 8000 MiB: the queue moves from that event
    wait_phase(ns, "ai-2", "Running")
    assert status(ns, "enc-big")["phase"] == "Queued"  # 4000 + 8000 + 6000 > 16000


def test_gpu_job_lands_on_the_gpu_node_with_its_limits(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(**caps())
    ns.apply(mediajob("enc", "reencode_streaming").kwok(run_for="600s").obj())
    wait_phase(ns, "enc", "Running")
    (job,) = jobs_of(ns, "enc")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "1"
    pods = wait_for(
        "its pod", lambda: ns.items("pods", "-l", f"job-name={job['metadata']['name']}")
    )
    wait_for(
        "the pod on the GPU node",
        lambda: ns.get("pod", pods[0]["metadata"]["name"])["spec"].get("nodeName"),
    )
    assert ns.get("pod", pods[0]["metadata"]["name"])["spec"]["nodeName"] == "kwok-gpu-1"


def test_namespace_quota_holds_jobs_and_refuses_pods_it_did_not_admit(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(**caps(gpu_encode=5))
    ns.apply(
        category_quota(
            "gpu-encode", "mediajobs-gpu-encode", pods="1", **{"requests.nvidia.com/gpu": "1"}
        )
    )
    ns.apply(mediajob("first", "reencode_streaming").kwok(run_for="600s").obj())
    wait_phase(ns, "first", "Running")
    ns.apply(mediajob("second", "reencode_streaming").kwok(run_for="600s").obj())
    second = wait_phase(ns, "second", "Queued")
    assert second["waitingReason"] == "ResourceQuota gpu-encode: pods 1/1 used"
    assert jobs_of(ns, "second") == []  # held by the operator, not by a stuck Job
    # The API server itself refuses a pod over the quota: the hard ceiling if the operator erred.
    rogue = ns.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "rogue"},
            "spec": {
                "priorityClassName": "mediajobs-gpu-encode",
                "containers": [
                    {
                        "name": "x",
                        "image": "docker.io/local/none:0",
                        "resources": {"limits": {"nvidia.com/gpu": "1"}},
                    }
                ],
            },
        },
        check=False,
    )
    assert rogue.returncode != 0 and "exceeded quota: gpu-encode" in rogue.stderr
    ns.run("patch", "mj", "first", "--type=merge", "-p", '{"spec":{"cancel":true}}')
    wait_phase(ns, "second", "Running")


def test_slot_handoff_on_completion(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(**caps(cpu=1))
    ns.apply(mediajob("a").kwok(run_for="2s").obj())
    wait_phase(ns, "a", "Running")
    ns.apply(mediajob("b").obj())
    assert wait_phase(ns, "b", "Queued")["queuePosition"] == 1
    wait_phase(ns, "a", "Succeeded")
    wait_phase(ns, "b", "Succeeded")


def test_a_job_that_can_never_fit_fails_at_once(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(**caps())
    ns.apply(mediajob("huge", "scene_detect").category("gpu_ai", vram=64000).obj())
    failed = wait_phase(ns, "huge", "Failed")
    assert failed["message"] == "needs 64000 MiB VRAM; the largest GPU pool has 16000 MiB"
    assert jobs_of(ns, "huge") == []


def test_start_rate_limit_spaces_starts(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(limits={"cpu": {"maxRunning": 5, "startsPerMinute": 20}})  # one start per 3 s
    names = [f"r{i}" for i in range(3)]
    for name in names:
        ns.apply(mediajob(name).obj())
    wait_for("a rate-limited wait", lambda: any(
        status(ns, n).get("waitingReason") == "cpu: rate limit of 20 starts/min" for n in names
    ))  # fmt: skip
    all_finished(ns, names, timeout=WAIT_LONG)
    starts = sorted(datetime.fromisoformat(status(ns, n)["startedAt"]) for n in names)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert all(gap >= 2 for gap in gaps), gaps  # 3 s apart, on a 1 s clock
