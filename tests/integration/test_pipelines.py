"""Pipelines with the operator as a real process on the local cluster.

The pods run on KWOK nodes, which simulate them: each job's MediaJob carries the
label ``kwok.mediajobs.dev/waiting`` (copied onto its pod), so its worker waits until
the test gives the pod the termination message a worker would write (its outputs)
and takes the label off; KWOK then runs it to success (hack/kwok/stages.yaml). That
is how outputs flow here: from the termination message, through the dependency's
status.result, into the dependent's status.inputs and its Job's Task.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml

from mediajobs.jobs.naming import UID_LABEL
from mediajobs.lifecycle.schedule_records import SCHEDULE_UID_LABEL, STEP_LABEL, run_name
from tests.builders import mediajob
from tests.integration.operator_checks import jobs_of, phases, status, wait_phase
from tests.integration.test_schedules import SECOND, OperatorClock, stamp
from tests.localcluster import REPO, WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
CAPS = {"limits": {"cpu": {"maxRunning": 5}, "gpu_encode": {"maxRunning": 2}}}
HOLD = {"kwok.mediajobs.dev/waiting": "HeldByTest"}
SHA = "0" * 64
UPLOAD = (
    "upload-validate",
    "upload-reencode",
    "upload-thumbnail",
    "upload-teaser",
    "upload-watermark",
)
LATER = UPLOAD[2:]


def upload_example(**labels: str) -> list[dict[str, Any]]:
    """The example pipeline, each job held (its worker waits for the test)."""
    docs = list(yaml.safe_load_all((REPO / "manifests/examples/upload_pipeline.yaml").read_text()))
    for doc in docs:
        doc["metadata"]["labels"] = HOLD | labels
    return docs


def release(ns: Kubectl, name: str, *outputs: str) -> None:
    """NAME's worker writes OUTPUTS and exits 0."""
    uid = ns.get("mj", name)["metadata"]["uid"]
    pod = wait_for(
        f"the pod of {name}",
        lambda: next(iter(ns.items("pods", "-l", f"{UID_LABEL}={uid}")), None),
        WAIT_LONG,
    )
    result = {"outputs": [{"path": p, "bytes": 1, "sha256": SHA} for p in outputs]}
    message = json.dumps({"result": result})
    pod_name = pod["metadata"]["name"]
    ns.run("annotate", "pod", pod_name, f"kwok.mediajobs.dev/message={message}")
    ns.run("label", "pod", pod_name, "kwok.mediajobs.dev/waiting-")


def task_inputs(ns: Kubectl, name: str) -> list[dict[str, Any]]:
    [job] = jobs_of(ns, name)
    env = job["spec"]["template"]["spec"]["containers"][0]["env"]
    task = json.loads(next(e["value"] for e in env if e["name"] == "MEDIAJOB_TASK"))
    inputs: list[dict[str, Any]] = task["inputs"]
    return inputs


def reason(ns: Kubectl, name: str, type_: str) -> tuple[str, str]:
    found = next(c for c in status(ns, name)["conditions"] if c["type"] == type_)
    return found["reason"], found["message"]


def test_the_upload_example_runs_in_order_with_outputs_flowing(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(**CAPS)
    for doc in reversed(upload_example()):  # in any order: each waits for its dependencies
        ns.apply(doc)
    wait_phase(ns, "upload-validate", "Running")
    for name in UPLOAD[1:]:
        waiting = wait_phase(ns, name, "Pending")
        assert waiting["waitingReason"] == "WaitingForDependency"
        assert jobs_of(ns, name) == []  # no Job, no slot
    assert status(ns, "upload-reencode")["message"] == "waiting for upload-validate to succeed"

    release(ns, "upload-validate")
    wait_phase(ns, "upload-validate", "Succeeded")
    wait_phase(ns, "upload-reencode", "Running")
    assert task_inputs(ns, "upload-reencode") == [{"path": "inbox/upload.mov"}]
    assert {status(ns, n)["phase"] for n in LATER} == {"Pending"}

    release(ns, "upload-reencode", "playback/upload.mp4")
    wait_phase(ns, "upload-reencode", "Succeeded")
    for name in LATER:  # in parallel, each on the re-encoded file
        running = wait_phase(ns, name, "Running")
        assert running["inputs"] == [{"path": "playback/upload.mp4"}]
        assert task_inputs(ns, name) == [{"path": "playback/upload.mp4"}]
        assert reason(ns, name, "DependenciesMet") == ("DependenciesMet", "dependencies succeeded")
    for name in LATER:
        release(ns, name, f"out/{name}")
    for name in LATER:
        wait_phase(ns, name, "Succeeded")


def test_a_failed_first_step_fails_or_skips_its_dependents_with_the_reason(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(**CAPS)
    docs = upload_example()
    docs[0]["metadata"]["labels"] = {"kwok.mediajobs.dev/exit-code": "1"}
    docs[0]["spec"]["retry"] = {"limit": 0}
    for doc in docs:
        ns.apply(doc)
    wait_phase(ns, "upload-validate", "Failed")
    failed = wait_phase(ns, "upload-reencode", "Failed")
    assert failed["message"] == "dependency upload-validate failed"
    assert reason(ns, "upload-reencode", "Failed")[0] == "DependencyFailed"
    for name in ("upload-thumbnail", "upload-watermark"):
        wait_phase(ns, name, "Failed")
        said = reason(ns, name, "Failed")
        assert said == ("DependencyFailed", "dependency upload-reencode failed")
    skipped = wait_phase(ns, "upload-teaser", "Skipped")  # onDependencyFailure: Skip
    assert skipped["message"] == "skipped: dependency upload-reencode failed"
    assert all(jobs_of(ns, n) == [] for n in UPLOAD[1:])
    columns = ns.run("get", "mj", "upload-teaser", "--no-headers").stdout.split()
    assert "Skipped" in columns  # the PHASE column


def test_a_cycle_is_refused_naming_it_and_a_deleted_dependency_fails_its_dependent(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator(**CAPS)
    for name, dep in (("a", "b"), ("b", "a")):
        ns.apply(mediajob(name).spec(dependsOn=[dep]).obj())
    for name, cycle in (("a", "a -> b -> a"), ("b", "b -> a -> b")):
        wait_phase(ns, name, "Failed")
        assert reason(ns, name, "Failed") == (
            "InvalidSpec",
            f"spec.dependsOn makes a cycle: {cycle}",
        )
    ns.apply(mediajob("held").labels(**HOLD).obj())
    ns.apply(mediajob("after-held").spec(dependsOn=["held"]).obj())
    wait_phase(ns, "held", "Running")
    wait_phase(ns, "after-held", "Pending")
    ns.run("delete", "mj", "held", "--wait=false")
    wait_phase(ns, "after-held", "Failed")
    assert reason(ns, "after-held", "Failed") == (
        "DependencyFailed",
        "dependency held was deleted before it succeeded",
    )
    refused = ns.apply(mediajob("self").spec(dependsOn=["self"]).obj(), check=False)
    assert refused.returncode != 0
    assert "a MediaJob cannot depend on itself" in refused.stderr


def test_a_schedule_of_steps_creates_the_pipeline_per_run_and_it_runs_in_order(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    clock = OperatorClock.started()
    start_operator(env=clock.env, **CAPS)
    first = clock.next_minute()
    steps = [
        {"name": "check", "spec": {"operation": "validate", "input": {"path": "inbox/a.mov"}}},
        {
            "name": "thumb",
            "spec": {
                "operation": "thumbnail_generate",
                "dependsOn": ["check"],
                "input": {"path": "inbox/a.mov"},
            },
        },
    ]
    ns.apply(
        {
            "apiVersion": "mediajobs.dev/v1alpha1",
            "kind": "MediaJobSchedule",
            "metadata": {"name": "piped"},
            "spec": {
                "schedule": "* * * * *",
                "startDate": stamp(first - 30 * SECOND),
                "endDate": stamp(first + 30 * SECOND),  # one run
                "jobTemplate": {"metadata": {"labels": HOLD}, "steps": steps},
            },
        }
    )
    run = run_name("piped", first)
    made = wait_for(
        "the run's two MediaJobs",
        lambda: found if len(found := ns.items("mj", "-l", SCHEDULE_UID_LABEL)) == 2 else None,
        WAIT_LONG,
    )
    assert {m["metadata"]["name"]: m["metadata"]["labels"][STEP_LABEL] for m in made} == {
        f"{run}-check": "check",
        f"{run}-thumb": "thumb",
    }
    thumb = ns.get("mj", f"{run}-thumb")
    assert thumb["spec"]["dependsOn"] == [f"{run}-check"]
    wait_phase(ns, f"{run}-check", "Running")
    assert wait_phase(ns, f"{run}-thumb", "Pending")["waitingReason"] == "WaitingForDependency"
    release(ns, f"{run}-check")
    wait_phase(ns, f"{run}-thumb", "Running")
    release(ns, f"{run}-thumb", "thumbnails/a.jpg")
    wait_phase(ns, f"{run}-thumb", "Succeeded")
    done = wait_for(
        "the schedule to count the run once, when its last step finished",
        lambda: s if (s := ns.get("mjs", "piped").get("status") or {}).get("succeeded") else None,
        WAIT_LONG,
    )
    assert done["succeeded"] == 1 and done["runs"] == 1 and not done.get("active")
    assert set(phases(ns).values()) == {"Succeeded"}
