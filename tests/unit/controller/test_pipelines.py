"""Pipelines on the fake API and the fake clock: a dependent job waits Pending with no slot
and no Job, is queued in its own order once its dependencies succeed, takes its inputs
from their outputs, and fails, runs anyway or is skipped when one fails or is deleted;
a cycle and a name no job has are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from mediajobs.jobs.naming import CONTAINER
from mediajobs.kube.port import mediajobs_path
from mediajobs.lifecycle.dependencies import MISSING_GRACE_SECONDS
from tests.builders import MediaJobBuilder, mediajob
from tests.unit.controller.world import NS, World, world

EXAMPLES = Path(__file__).resolve().parents[3] / "manifests" / "examples"
CAP_1 = {"cpu": {"maxRunning": 1}}
SHA = "0" * 64


def after(name: str, *deps: str, operation: str = "validate") -> MediaJobBuilder:
    return mediajob(name, operation).spec(dependsOn=list(deps))


def from_job(name: str, dep: str, output: int = 0, **more: Any) -> MediaJobBuilder:
    return after(name, dep).spec(input={"fromJob": dep, "output": output}, **more)


async def succeed(w: World, name: str, *outputs: str) -> None:
    """NAME's worker wrote OUTPUTS and exited 0."""
    result = {"outputs": [{"path": p, "bytes": 1, "sha256": SHA} for p in outputs]}
    terminated = {"exitCode": 0, "reason": "Completed", "message": json.dumps({"result": result})}
    await w.pod_says(
        name, {"containerStatuses": [{"name": CONTAINER, "state": {"terminated": terminated}}]}
    )
    await w.end_job(name)


def task_inputs(w: World, name: str) -> list[dict[str, Any]]:
    env = w.jobs_of(name)[-1]["spec"]["template"]["spec"]["containers"][0]["env"]
    task = json.loads(next(e["value"] for e in env if e["name"] == "MEDIAJOB_TASK"))
    inputs: list[dict[str, Any]] = task["inputs"]
    return inputs


def condition(w: World, name: str, type_: str) -> dict[str, Any]:
    return next(c for c in w.status(name)["conditions"] if c["type"] == type_)


async def test_a_dependent_waits_with_no_slot_then_runs_on_its_dependencys_output() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(
            mediajob("first"),
            from_job("second", "first"),
            mediajob("low").priority(9),
            mediajob("lower").priority(9),
        )
        assert w.phases() == {
            "first": "Running",
            "second": "Pending",
            "low": "Queued",
            "lower": "Queued",
        }
        assert w.status("second")["waitingReason"] == "WaitingForDependency"
        assert w.status("second")["message"] == "waiting for first to succeed"
        assert "queuePosition" not in w.status("second")
        assert w.status("low")["queuePosition"] == 1  # it holds no place either
        assert w.jobs_of("second") == []
        assert ("Normal", "WaitingForDependency", "waiting for first to succeed") in w.events(
            "second"
        )
        await succeed(w, "first", "out/first.mp4")
        # The worker's exit 0 ends the dependency while its Job settles, holding the slot:
        # meanwhile the dependent joins the queue in its own (priority, creation) order,
        # ahead of the priority-9 jobs, and takes the slot when the Job has settled.
        assert w.phases() == {
            "first": "Succeeded",
            "second": "Running",
            "low": "Queued",
            "lower": "Queued",
        }
        assert [w.status(n)["queuePosition"] for n in ("low", "lower")] == [1, 2]
        assert w.status("second")["inputs"] == [{"path": "out/first.mp4"}]
        assert condition(w, "second", "DependenciesMet")["status"] == "True"
        assert task_inputs(w, "second") == [{"path": "out/first.mp4"}]


async def test_every_dependency_must_succeed_and_the_message_names_what_is_left() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}}) as w:
        await w.submit(mediajob("a"), mediajob("b"), after("c", "a", "b"))
        assert w.status("c")["message"] == "waiting for a, b to succeed"
        await succeed(w, "a")
        assert w.phase("c") == "Pending"
        assert w.status("c")["message"] == "waiting for b to succeed"
        await succeed(w, "b")
        assert w.phase("c") == "Running"
        assert "inputs" not in w.status("c")  # none of its inputs is another job's


async def test_a_failed_dependency_fails_its_dependents_down_the_chain() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("a").retry(limit=0), after("b", "a"), after("c", "b"))
        await w.end_job("a", failed=True)
        assert w.phases() == {"a": "Failed", "b": "Failed", "c": "Failed"}
        failed = condition(w, "b", "Failed")
        assert (failed["reason"], failed["message"]) == ("DependencyFailed", "dependency a failed")
        assert condition(w, "c", "Failed")["message"] == "dependency b failed"
        assert w.jobs_of("b") == w.jobs_of("c") == []


async def test_skip_ends_as_skipped_and_run_runs_anyway() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}}) as w:
        await w.submit(
            mediajob("a").retry(limit=0),
            after("skips", "a").spec(onDependencyFailure="Skip"),
            after("runs", "a").spec(onDependencyFailure="Run"),
            from_job("needs-its-output", "a", onDependencyFailure="Run"),
        )
        await w.end_job("a", failed=True)
        assert w.phases() == {
            "a": "Failed",
            "skips": "Skipped",
            "runs": "Running",
            "needs-its-output": "Failed",
        }
        assert w.status("skips")["message"] == "skipped: dependency a failed"
        assert "completedAt" in w.status("skips")
        assert condition(w, "runs", "DependenciesMet")["message"] == (
            "ran anyway (onDependencyFailure Run): dependency a failed"
        )
        assert w.status("needs-its-output")["message"] == (
            "input 0 is output 0 of a, which did not succeed (dependency a failed)"
        )


async def test_a_cancelled_or_skipped_dependency_counts_as_failed() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(
            mediajob("a"),
            after("b", "a").spec(onDependencyFailure="Skip"),
            after("c", "b"),
        )
        await w.edit("a", cancel=True)
        assert w.phases() == {"a": "Cancelled", "b": "Skipped", "c": "Failed"}
        assert w.status("c")["message"] == "dependency b skipped"


async def test_deleting_a_dependency_fails_its_waiting_dependents_clearly() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("busy"), mediajob("a"), after("b", "a"))
        assert w.phase("a") == "Queued"
        await w.delete(mediajobs_path(NS, "a"))
        assert w.phase("b") == "Failed"
        assert w.status("b")["message"] == "dependency a was deleted before it succeeded"
        assert w.rec.dependents.tombstones == {}  # nobody waits on it any more


async def test_a_succeeded_dependency_deleted_meanwhile_still_lends_its_outputs() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}}) as w:
        await w.submit(mediajob("a"), mediajob("slow"))
        await w.submit(from_job("b", "a").spec(dependsOn=["a", "slow"]))
        await succeed(w, "a", "out/a.mp4")
        await w.delete(mediajobs_path(NS, "a"))  # its TTL, say
        assert w.phase("b") == "Pending"
        await succeed(w, "slow")
        assert w.phase("b") == "Running"
        assert task_inputs(w, "b") == [{"path": "out/a.mp4"}]


async def test_a_missing_job_has_a_grace_then_is_refused() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}}) as w:
        await w.submit(after("b", "a"), after("lost", "nobody"))
        assert w.phases() == {"b": "Pending", "lost": "Pending"}
        await w.submit(mediajob("a"))  # applied after its dependent: in time
        await w.advance(MISSING_GRACE_SECONDS)
        assert w.phases() == {"a": "Running", "b": "Pending", "lost": "Failed"}
        failed = condition(w, "lost", "Failed")
        assert failed["reason"] == "InvalidSpec"
        assert failed["message"].startswith("spec.dependsOn names nobody: no such MediaJob")


async def test_a_cycle_is_refused_naming_it_and_its_dependents_fail() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(after("a", "c"), after("b", "a"), after("c", "b"), after("d", "a"))
        assert {n: w.phase(n) for n in "abcd"} == dict.fromkeys("abcd", "Failed")
        assert w.status("a")["message"] == "spec.dependsOn makes a cycle: a -> c -> b -> a"
        assert condition(w, "a", "Failed")["reason"] == "InvalidSpec"
        assert condition(w, "d", "Failed")["reason"] == "DependencyFailed"


async def test_an_output_the_dependency_did_not_write_is_refused() -> None:
    async with world(limits=CAP_1) as w:
        await w.submit(mediajob("a"), from_job("b", "a", output=2))
        await succeed(w, "a", "out/one.mp4")
        assert w.phase("b") == "Failed"
        assert w.status("b")["message"] == "input 0 is output 2 of a, which wrote 1 output(s)"


def upload_example() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((EXAMPLES / "upload_pipeline.yaml").read_text()))


async def test_the_upload_example_runs_in_order_with_outputs_flowing() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}, "gpu_encode": {"maxRunning": 5}}) as w:
        with w.api.user():
            for doc in reversed(upload_example()):  # any order: they wait for each other
                await w.api.create(mediajobs_path(NS), doc)
        await w.settle()
        later = ("upload-reencode", "upload-thumbnail", "upload-teaser", "upload-watermark")
        assert w.phase("upload-validate") == "Running"
        assert {w.phase(n) for n in later} == {"Pending"}
        await succeed(w, "upload-validate")
        assert w.phase("upload-reencode") == "Running"
        assert task_inputs(w, "upload-reencode") == [{"path": "inbox/upload.mov"}]
        assert {w.phase(n) for n in later[1:]} == {"Pending"}
        await succeed(w, "upload-reencode", "playback/upload.mp4")
        for name in later[1:]:  # in parallel, each on the re-encoded file
            assert w.phase(name) == "Running"
            assert task_inputs(w, name) == [{"path": "playback/upload.mp4"}]


async def test_the_upload_example_after_a_failed_reencode() -> None:
    async with world(limits={"cpu": {"maxRunning": 5}, "gpu_encode": {"maxRunning": 5}}) as w:
        with w.api.user():
            for doc in upload_example():
                doc["spec"]["retry"] = {"limit": 0}
                await w.api.create(mediajobs_path(NS), doc)
        await w.settle()
        await succeed(w, "upload-validate")
        await w.end_job("upload-reencode", failed=True)
        assert w.phase("upload-teaser") == "Skipped"  # onDependencyFailure: Skip
        assert w.phase("upload-thumbnail") == w.phase("upload-watermark") == "Failed"
        reason = condition(w, "upload-thumbnail", "Failed")["reason"]
        assert reason == "DependencyFailed"
