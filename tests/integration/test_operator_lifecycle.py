"""A MediaJob from creation to a final phase, with the operator as a real process."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.builders import mediajob
from tests.localcluster import WAIT_LONG, Kubectl
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]


def status(ns: Kubectl, name: str) -> dict[str, Any]:
    return ns.get("mj", name).get("status", {})  # type: ignore[no-any-return]


def phase_is(ns: Kubectl, name: str, phase: str) -> Callable[[], dict[str, Any] | None]:
    def probe() -> dict[str, Any] | None:
        current = status(ns, name)
        return current if current.get("phase") == phase else None

    return probe


def test_a_job_runs_to_succeeded_and_kubectl_wait_works(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    ns.apply(mediajob("probe", "validate").obj())
    ns.run("wait", "--for=condition=Complete", f"--timeout={WAIT_LONG:.0f}s", "mj/probe")
    done = status(ns, "probe")
    assert done["phase"] == "Succeeded"
    assert done["progress"] == 100
    assert done["attempts"] == 1
    assert done["category"] == "cpu"
    assert done["result"] == {"outputs": [], "data": {"simulatedBy": "kwok"}}
    assert done["startedAt"] <= done["completedAt"]
    job = ns.get("job", done["jobName"])
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("MediaJob", "probe", True)
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["priorityClassName"] == "mediajobs-cpu"
    reasons = json.loads(
        ns.run(
            "get", "events", "--field-selector", "involvedObject.name=probe", "-o", "json"
        ).stdout
    )
    assert "Succeeded" in {e["reason"] for e in reasons["items"]}
