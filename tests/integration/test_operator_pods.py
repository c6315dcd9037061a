"""What the pods say, in the status, and edits to a finished job: the operator as a real
process on the local cluster (the real scheduler; KWOK's stages for the kubelet)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.builders import mediajob
from tests.integration.operator_checks import events_of, jobs_of, status, wait_phase
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
START_TIMEOUT = 10  # seconds: the operator's start timeout in these tests


def said(ns: Kubectl, name: str, reason: str) -> dict[str, Any]:
    """NAME's status once it says its worker waits for REASON."""

    def probe() -> dict[str, Any] | None:
        current = status(ns, name)
        return current if current.get("waitingReason") == reason else None

    return wait_for(f"{name} to say {reason}", probe, WAIT_LONG)


def warned(ns: Kubectl, name: str, reason: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        return next((e for e in events_of(ns, name) if e["reason"] == reason), None)

    event = wait_for(f"a {reason} Event about {name}", probe, WAIT_LONG)
    assert event["type"] == "Warning"
    return event


def test_an_image_that_cannot_be_pulled_is_said_then_fails_the_job(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(startTimeoutSeconds=START_TIMEOUT)
    ns.apply(mediajob("pull").kwok(waiting="ImagePullBackOff").retry(3).obj())
    running = said(ns, "pull", "ImagePullBackOff")
    assert running["phase"] == "Running"
    assert running["message"].startswith("the worker has not started: simulated by kwok")
    warned(ns, "pull", "ImagePullBackOff")

    failed = wait_phase(ns, "pull", "Failed", timeout=WAIT_LONG)
    assert f"did not start within {START_TIMEOUT}s" in failed["message"]
    assert failed["attempts"] == 1  # the next attempt would pull the same image
    assert "waitingReason" not in failed
    wait_for("its Job to go", lambda: jobs_of(ns, "pull") == [] or None, WAIT_LONG)


def test_a_missing_media_claim_is_said_and_the_attempt_retried(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(
        startTimeoutSeconds=START_TIMEOUT,
        media={"source": {"persistentVolumeClaim": {"claimName": "no-such-claim"}}},
    )
    ns.apply(mediajob("media").retry(1, seconds=1).obj())
    running = said(ns, "media", "Unschedulable")  # the scheduler's PodScheduled=False
    assert running["phase"] == "Running"
    assert 'persistentvolumeclaim "no-such-claim" not found' in running["message"]
    warned(ns, "media", "Unschedulable")

    failed = wait_phase(ns, "media", "Failed", timeout=WAIT_LONG)
    assert (failed["attempts"], failed["failures"]) == (2, 2)  # retried once, as spec.retry says
    assert "retry limit 1 reached" in failed["message"]
    assert "no-such-claim" in failed["message"]


def test_a_gpu_job_no_node_can_take_is_said_and_frees_its_slot(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    nowhere = {"name": "default", "nodeSelector": {"nvidia.com/gpu.present": "nowhere"}}
    start_operator(
        startTimeoutSeconds=START_TIMEOUT,
        gpuPools=[nowhere],
        limits={"gpu_encode": {"maxRunning": 1}},
    )
    for name in ("first", "second"):
        ns.apply(mediajob(name).category("gpu_encode", gpu=1).retry(0).obj())
    running = said(ns, "first", "Unschedulable")
    assert running["message"].startswith("the worker has not started: 0/3 nodes are available")
    assert status(ns, "second")["phase"] == "Queued"
    wait_phase(ns, "first", "Failed", timeout=WAIT_LONG)
    said(ns, "second", "Unschedulable")  # its slot went on; it meets the same wall


def test_an_edit_to_a_finished_job_is_observed_and_said_to_be_ignored(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    ns.apply(mediajob("done").obj())
    ns.run("wait", "--for=condition=Complete", f"--timeout={WAIT_LONG:.0f}s", "mj/done")
    ns.run("patch", "mj/done", "--type=merge", "-p", '{"spec": {"priority": 9}}')
    # kubectl wait skips a condition observed for an older generation: it returns now.
    ns.run("wait", "--for=condition=Complete", f"--timeout={WAIT_LONG:.0f}s", "mj/done")
    done = status(ns, "done")
    assert done["observedGeneration"] == ns.get("mj", "done")["metadata"]["generation"] == 2
    assert {c["observedGeneration"] for c in done["conditions"]} == {2}
    event = next(e for e in events_of(ns, "done") if e["reason"] == "EditIgnored")
    assert event["type"] == "Normal"
    assert (
        event["message"] == "the MediaJob has finished (Succeeded); spec changes are not acted on"
    )
    assert len(jobs_of(ns, "done")) == 1
