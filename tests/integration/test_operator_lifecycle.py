"""A MediaJob from creation to a final phase, with the operator as a real process."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.builders import mediajob
from tests.integration.operator_checks import events_of, jobs_of, status, wait_phase
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]


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


def test_invalid_params_fail_once_with_a_reason_and_an_event(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    # The schema cannot see that fill needs both sides; the catalog's model can.
    ns.apply(mediajob("half", "resize_image").params(width=320, mode="fill").obj())
    failed = wait_phase(ns, "half", "Failed")
    assert "mode fill needs both width and height" in failed["message"]
    assert jobs_of(ns, "half") == []
    warning = [e for e in events_of(ns, "half") if e["reason"] == "InvalidSpec"]
    assert warning and warning[0]["type"] == "Warning"
    assert next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"] == "InvalidSpec"


def test_exit_2_fails_at_once_without_a_retry(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("broken").kwok(exit_code=2).retry(3).obj())
    failed = wait_phase(ns, "broken", "Failed")
    assert failed["attempts"] == 1
    assert "exit code 2" in failed["message"]
    assert len(jobs_of(ns, "broken")) == 1


def test_retries_back_off_and_respect_the_limit(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("flaky").kwok(exit_code=75).retry(2, seconds=2, factor=2).obj())
    backing = wait_phase(ns, "flaky", "BackingOff")
    assert backing["failures"] == 1
    failed = wait_phase(ns, "flaky", "Failed", timeout=WAIT_LONG)
    assert (failed["attempts"], failed["failures"]) == (3, 3)
    assert "retry limit 2 reached" in failed["message"]
    jobs = sorted(
        jobs_of(ns, "flaky"), key=lambda j: int(j["metadata"]["labels"]["mediajobs.dev/attempt"])
    )
    assert [j["metadata"]["labels"]["mediajobs.dev/attempt"] for j in jobs] == ["1", "2", "3"]
    # Each retry waited longer than the one before (2 s, then 4 s), measured on the Jobs.
    t = [datetime.fromisoformat(j["metadata"]["creationTimestamp"]) for j in jobs]
    assert (t[1] - t[0]).total_seconds() >= 2
    assert (t[2] - t[1]).total_seconds() >= 4
    assert {e["reason"] for e in events_of(ns, "flaky")} >= {"BackingOff", "TemporaryFailure"}


def test_oom_is_retried(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("hungry").kwok(exit_code=137, reason="OOMKilled").retry(1, seconds=1).obj())
    failed = wait_phase(ns, "hungry", "Failed")
    assert failed["attempts"] == 2
    assert "memory" in failed["message"].lower()


def test_login_required_waits_for_a_human_without_spending_a_retry(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    job = mediajob("scrape", "scrape_profile").no_input().creator("alice", "onlyfans")
    ns.apply(job.kwok(exit_code=3).retry(0).obj())
    waiting = wait_phase(ns, "scrape", "WaitingForHuman")
    assert waiting.get("failures") is None
    assert any(
        c["type"] == "WaitingForHuman" and c["status"] == "True" for c in waiting["conditions"]
    )


def test_suspend_frees_the_slot_and_resume_requeues(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    op = start_operator(limits={"cpu": {"maxRunning": 1}})
    ns.apply(mediajob("long").kwok(run_for="600s").obj())
    wait_phase(ns, "long", "Running")
    ns.apply(mediajob("next").kwok(run_for="600s").obj())
    wait_phase(ns, "next", "Queued")
    ns.run("patch", "mj", "long", "--type=merge", "-p", '{"spec":{"suspend":true}}')
    wait_phase(ns, "long", "Suspended")
    (job,) = jobs_of(ns, "long")
    assert job["spec"]["suspend"] is True
    wait_phase(ns, "next", "Running")  # the slot went to the next job
    ns.run("patch", "mj", "long", "--type=merge", "-p", '{"spec":{"suspend":false}}')
    assert wait_phase(ns, "long", "Queued")["queuePosition"] == 1
    ns.run("delete", "mj", "next")
    resumed = wait_phase(ns, "long", "Running")
    assert resumed["attempts"] == 1  # the same attempt, its Job unsuspended
    (job,) = jobs_of(ns, "long")
    assert job["spec"]["suspend"] is False
    assert op.stats()["queues"]["cpu"]["active"] == 1


def test_cancel_stops_a_running_job_and_keeps_the_record(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    ns.apply(mediajob("stopme").kwok(run_for="600s").obj())
    wait_phase(ns, "stopme", "Running")
    ns.run("patch", "mj", "stopme", "--type=merge", "-p", '{"spec":{"cancel":true}}')
    cancelled = wait_phase(ns, "stopme", "Cancelled")
    assert cancelled["completedAt"]
    wait_for("its Job to go", lambda: jobs_of(ns, "stopme") == [])
    wait_for("its pod to go", lambda: not ns.items("pods"))


def test_cancel_a_queued_job(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(limits={"cpu": {"maxRunning": 1}})
    ns.apply(mediajob("first").kwok(run_for="600s").obj())
    ns.apply(mediajob("second").obj())
    wait_phase(ns, "second", "Queued")
    ns.run("patch", "mj", "second", "--type=merge", "-p", '{"spec":{"cancel":true}}')
    wait_phase(ns, "second", "Cancelled")
    assert jobs_of(ns, "second") == []


def test_start_after_delays_the_start(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    later = (datetime.now(UTC) + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ns.apply(mediajob("later").spec(startAfter=later).obj())
    time_0 = datetime.now(UTC)
    done = wait_phase(ns, "later", "Succeeded", timeout=WAIT_LONG)
    assert datetime.fromisoformat(done["startedAt"]) >= datetime.fromisoformat(later)
    assert (datetime.now(UTC) - time_0).total_seconds() >= 4


def test_deleting_a_mediajob_removes_its_job_and_pods(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    ns.apply(mediajob("doomed").kwok(run_for="600s").obj())
    wait_phase(ns, "doomed", "Running")
    assert len(jobs_of(ns, "doomed")) == 1
    ns.run("delete", "mj", "doomed")
    wait_for("the Job to be collected", lambda: not ns.items("jobs"), WAIT_LONG)
    wait_for("the pod to be collected", lambda: not ns.items("pods"), WAIT_LONG)


def test_ttl_removes_finished_mediajobs(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("brief").spec(ttlSecondsAfterFinished=2).obj())
    ns.apply(mediajob("kept").obj())
    wait_phase(ns, "kept", "Succeeded")
    wait_for(
        "the finished MediaJob to be removed",
        lambda: ns.get_or_none("mj", "brief") is None,
        WAIT_LONG,
    )
    assert ns.get("mj", "kept")["status"]["phase"] == "Succeeded"  # the default keeps it a day


def test_custom_container_runs_under_the_same_rules(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    start_operator()
    container = {
        "image": "registry.example.com/onboarding/llm:1",
        "command": ["python", "-m", "steps"],
        "env": [
            {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm", "key": "token"}}}
        ],
    }
    ns.apply(mediajob("llm", "custom").no_input().spec(container=container).obj())
    done = wait_phase(ns, "llm", "Succeeded")
    job = ns.get("job", done["jobName"])
    spec = job["spec"]["template"]["spec"]["containers"][0]
    assert spec["image"] == container["image"] and spec["command"] == container["command"]
    env = {e["name"]: e for e in spec["env"]}
    assert env["API_KEY"]["valueFrom"]["secretKeyRef"] == {"name": "llm", "key": "token"}
    assert json.loads(env["MEDIAJOB_TASK"]["value"])["operation"] == "custom"
