"""What the pods say, in the status: on the fake API and the fake clock, no sleeps.

The pods of the operator's Jobs are watched (label-selected, like the Jobs): a
worker that cannot start is said in status.waitingReason, status.message and a
Warning Event at once, and an attempt whose worker has not started within the
start timeout is given up (lifecycle/plan.py says when it fails, when it retries). A
worker that exited 0 succeeds its MediaJob before the Job controller says so; its
slot waits for the Job.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from mediajobs.controller.view import View
from mediajobs.jobs.naming import ATTEMPT_LABEL, UID_LABEL
from mediajobs.kube.port import jobs_path
from tests.builders import mediajob
from tests.unit.controller.world import NS, world

TIMEOUT = 120
CAP_1 = {"cpu": {"maxRunning": 1}}
PULL_MESSAGE = 'Back-off pulling image "docker.io/local/mediajobs-ffmpeg-worker:0.1.0"'
NO_NODE = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."


def waiting(reason: str, message: str) -> dict[str, Any]:
    state = {"waiting": {"reason": reason, "message": message}}
    return {"phase": "Pending", "containerStatuses": [{"name": "worker", "state": state}]}


def unschedulable(message: str) -> dict[str, Any]:
    condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
    return {"phase": "Pending", "conditions": [condition | {"message": message}]}


RUNNING = {
    "phase": "Running",
    "conditions": [{"type": "PodScheduled", "status": "True"}],
    "containerStatuses": [
        {"name": "worker", "state": {"running": {"startedAt": "2026-11-25T12:00:05Z"}}}
    ],
}


async def test_an_image_that_cannot_be_pulled_is_said_at_once_and_fails_at_the_timeout() -> None:
    async with world(startTimeoutSeconds=TIMEOUT) as w:
        await w.submit(mediajob("a").retry(limit=3, seconds=1))
        await w.pod_says("a", waiting("ErrImagePull", "rpc error: pull access denied"))
        status = w.status("a")
        assert (status["phase"], status["waitingReason"]) == ("Running", "ImagePullBackOff")
        assert status["message"] == "the worker has not started: rpc error: pull access denied"
        assert w.events("a")[-1] == ("Warning", "ImagePullBackOff", status["message"])

        # The kubelet backs off, alternating the two reasons: nothing more is written.
        writes = w.api.writes
        await w.pod_says("a", waiting("ImagePullBackOff", PULL_MESSAGE))
        await w.pod_says("a", waiting("ErrImagePull", "rpc error: pull access denied"))
        await w.pod_says("a", waiting("ImagePullBackOff", PULL_MESSAGE))
        assert w.api.writes == writes

        await w.advance(TIMEOUT - 1)
        assert w.phase("a") == "Running"
        await w.advance(1)
        status = w.status("a")
        assert status["phase"] == "Failed"  # the next attempt would pull the same image
        assert "waitingReason" not in status
        assert status["message"] == f"the worker did not start within {TIMEOUT}s: {PULL_MESSAGE}"
        failed = next(c for c in status["conditions"] if c["type"] == "Failed")
        assert failed["reason"] == "ImagePullBackOff"
        assert w.jobs_of("a") == []  # its Job (and pod) went: the slot is free


async def test_an_image_never_pulled_fails_at_once() -> None:
    async with world() as w:
        await w.submit(mediajob("a"))
        await w.pod_says("a", waiting("ErrImageNeverPull", 'image "x:1" is not present'))
        status = w.status("a")
        assert status["phase"] == "Failed"
        assert status["message"] == 'the worker did not start: image "x:1" is not present'
        assert w.events("a")[-1][:2] == ("Warning", "ErrImageNeverPull")


async def test_an_unschedulable_pod_is_retried_at_the_timeout_and_its_slot_goes_on() -> None:
    async with world(startTimeoutSeconds=TIMEOUT, limits=CAP_1) as w:
        await w.submit(mediajob("gpu").retry(limit=1, seconds=600), mediajob("next"))
        await w.pod_says("gpu", unschedulable(NO_NODE))
        status = w.status("gpu")
        assert (status["waitingReason"], status["message"]) == (
            "Unschedulable",
            f"the worker has not started: {NO_NODE}",
        )
        assert w.events("gpu")[-1][:2] == ("Warning", "Unschedulable")
        assert w.phase("next") == "Queued"

        await w.advance(TIMEOUT)
        status = w.status("gpu")
        assert (status["phase"], status["failures"]) == ("BackingOff", 1)
        assert f"did not start within {TIMEOUT}s: {NO_NODE}" in status["message"]
        assert w.phase("next") == "Running"  # the slot went on to the job behind it
        assert w.api.count("delete", "jobs") == 1

        await w.end_job("next")
        retry_at = datetime.fromisoformat(w.status("gpu")["retryAfter"])
        await w.advance((retry_at - w.clock.now()).total_seconds())
        # Retried; still no room anywhere: the limit is spent.
        assert (w.phase("gpu"), w.status("gpu")["attempts"]) == ("Running", 2)
        await w.pod_says("gpu", unschedulable(NO_NODE))
        await w.advance(TIMEOUT)
        status = w.status("gpu")
        assert status["phase"] == "Failed"
        assert "retry limit 1 reached" in status["message"]


async def test_a_worker_that_starts_after_all_clears_what_was_said_and_is_not_timed_out() -> None:
    async with world(startTimeoutSeconds=TIMEOUT) as w:
        await w.submit(mediajob("a"))
        await w.pod_says("a", unschedulable("0/3 nodes are available: persistentvolumeclaim"))
        assert w.status("a")["waitingReason"] == "Unschedulable"
        await w.pod_says("a", RUNNING)
        status = w.status("a")
        assert "waitingReason" not in status and "message" not in status
        await w.advance(TIMEOUT * 2)
        assert w.phase("a") == "Running"
        await w.end_job("a")
        assert w.phase("a") == "Succeeded"


OUTPUT = {"path": "out/a.mp4", "bytes": 1024, "sha256": "ab" * 32}
EXITED_0 = {  # the kubelet says Succeeded only once it has stopped the pod's sandbox
    "phase": "Running",
    "containerStatuses": [{"name": "worker", "state": {"terminated": {
        "exitCode": 0, "reason": "Completed", "startedAt": "2026-11-25T12:00:05Z",
        "finishedAt": "2026-11-25T12:00:09Z",
        "message": json.dumps({"result": {"outputs": [OUTPUT]}}),
    }}}],
}  # fmt: skip


async def test_a_worker_that_exited_0_succeeds_at_once_and_its_slot_waits_for_the_job() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("a"), mediajob("next"))
        await w.pod_says("a", RUNNING)
        await w.pod_says("a", EXITED_0)  # the Job controller has not judged it yet
        status = w.status("a")
        assert (status["phase"], status["result"]["outputs"]) == ("Succeeded", [OUTPUT])
        assert status["completedAt"] == "2026-11-25T12:00:09Z"
        # Its pod still holds the node's resources and the quota: the slot is kept.
        assert w.phase("next") == "Queued"
        await w.crash()
        await w.start()  # a new leader sees the same: kept
        assert w.phase("next") == "Queued"
        await w.end_job("a")
        assert (w.phase("a"), w.phase("next")) == ("Succeeded", "Running")
        assert w.status("a") == status  # the Job's verdict changes nothing written


async def test_a_pod_on_its_way_costs_no_write() -> None:
    async with world() as w:
        await w.submit(mediajob("a"))
        writes = w.api.writes
        await w.pod_says("a", {"phase": "Pending"})
        await w.pod_says("a", waiting("ContainerCreating", ""))
        await w.pod_says("a", RUNNING)
        assert w.api.writes == writes
        assert [e[1] for e in w.events("a")] == ["Admitted"]


async def test_the_start_timeout_survives_a_restart() -> None:
    async with world(startTimeoutSeconds=TIMEOUT) as w:
        await w.submit(mediajob("a").retry(limit=0, seconds=1))
        await w.pod_says("a", unschedulable(NO_NODE))
        await w.crash()
        await w.advance(TIMEOUT / 2)
        await w.start()  # the pods are listed again: it is said, not said twice
        assert [e[1] for e in w.events("a")] == ["Admitted", "Unschedulable"]
        await w.advance(TIMEOUT / 2)
        assert w.phase("a") == "Failed"
        assert w.api.items(jobs_path(NS)) == []


def test_the_view_keeps_the_pods_of_the_current_attempt_while_its_job_runs() -> None:
    view = View()

    def pod(attempt: int, name: str, **status: Any) -> dict[str, Any]:
        labels = {UID_LABEL: "u1", ATTEMPT_LABEL: str(attempt)}
        return {"metadata": {"name": name, "labels": labels}, "status": status}

    def job(attempt: int, version: int, *conditions: str) -> dict[str, Any]:
        labels = {UID_LABEL: "u1", ATTEMPT_LABEL: str(attempt)}
        meta = {"name": f"j{attempt}", "namespace": NS, "labels": labels}
        done = [{"type": c, "status": "True"} for c in conditions]
        return {
            "metadata": meta | {"resourceVersion": str(version)},
            "status": {"conditions": done},
        }

    view.job("ADDED", job(2, 1))
    view.pod("ADDED", pod(1, "old", phase="Pending"))  # a late event of attempt 1
    assert "u1" not in view.pods
    view.pod("ADDED", pod(2, "new", phase="Pending"))
    assert list(view.pods["u1"][1]) == ["new"]
    view.pod("DELETED", pod(2, "new"))
    assert "u1" not in view.pods
    view.pod("ADDED", pod(2, "again", phase="Pending"))
    view.job("MODIFIED", job(2, 2, "Complete"))  # the outcome tells the rest: the pods go
    assert "u1" not in view.pods
    view.pod("MODIFIED", pod(2, "again", phase="Succeeded"))
    assert "u1" not in view.pods
