"""record_from_body: a MediaJob as the operator tracks it, and what an update re-reads."""

from __future__ import annotations

from typing import Any

from mediajobs.api.mediajob import Phase
from mediajobs.jobs.naming import ATTEMPT_LABEL, UID_LABEL
from mediajobs.lifecycle.records import pod_from_body, record_from_body
from tests.builders import mediajob


def body(generation: int, rv: str, **status: Any) -> dict[str, Any]:
    out = mediajob("mj", "resize_video").params(width=640).obj()
    out["metadata"].update(
        namespace="ns",
        uid="u1",
        generation=generation,
        resourceVersion=rv,
        creationTimestamp="2026-11-25T11:00:00Z",
        labels={"team": "a"},
    )
    out["status"] = status
    return out


def test_a_status_change_keeps_the_parsed_spec() -> None:
    first = record_from_body(body(1, "10"))
    second = record_from_body(body(1, "11", phase="Running", attempts=1), first)
    assert second.spec is first.spec
    assert second.placement is first.placement
    assert second.resource_version == 11
    assert second.phase is Phase.RUNNING
    assert second.status.attempts == 1


def test_a_new_generation_parses_the_spec_again() -> None:
    first = record_from_body(body(1, "10"))
    changed = body(2, "12")
    changed["spec"]["params"] = {"width": 3}  # odd: resize_video needs even sizes
    second = record_from_body(changed, first)
    assert second.spec is not first.spec
    assert second.generation == 2
    assert second.invalid is not None
    assert first.invalid is None


def test_another_uid_is_another_object() -> None:
    first = record_from_body(body(1, "10"))
    other = body(1, "13")
    other["metadata"]["uid"] = "u2"
    second = record_from_body(other, first)
    assert second.uid == "u2"
    assert second.spec is not first.spec


def test_labels_are_read_on_every_update() -> None:
    first = record_from_body(body(1, "10"))
    relabelled = body(1, "11")
    relabelled["metadata"]["labels"] = {"team": "b"}
    assert record_from_body(relabelled, first).labels == {"team": "b"}


def test_a_pod_is_kept_slim() -> None:
    """Only what the in-flight outcome reads: a watch of every pod of every Job is busy."""
    waiting = {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}
    pod = {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "creationTimestamp": "2026-11-25T11:00:00Z",
            "labels": {UID_LABEL: "u1", ATTEMPT_LABEL: "2", "team": "a"},
            "managedFields": [{"manager": "kubelet"}],
        },
        "spec": {"containers": [{"name": "worker", "image": "x:1"}]},
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": "True"},
            ],
            "containerStatuses": [
                {"name": "worker", "image": "x:1", "state": {"waiting": waiting}},
                {"name": "sidecar", "state": {"running": {}}},
            ],
        },
    }
    view = pod_from_body(pod)
    assert view is not None
    assert (view.owner_uid, view.run, view.name) == ("u1", 2, "p")  # no run label: the attempt
    assert view.body == {
        "metadata": {"name": "p", "creationTimestamp": "2026-11-25T11:00:00Z"},
        "status": {
            "phase": "Pending",
            "conditions": [],
            "containerStatuses": [
                {"name": "worker", "state": {"waiting": waiting}, "lastState": {}}
            ],
        },
    }
    assert pod_from_body({"metadata": {"name": "other", "labels": {}}}) is None
