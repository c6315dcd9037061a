"""Job + pods status -> outcome, over the shapes the Job controller and the kubelet write."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import TerminationMessage
from mediajobs.jobs.outcome import Outcome, OutcomeKind, outcome, parse_termination_message
from tests.unit.jobs.builders import CREATED, FINISHED, LATER, STARTED, job, pod

P, R, S = OutcomeKind.PENDING, OutcomeKind.RUNNING, OutcomeKind.SUCCEEDED
INVALID, LOGIN, RETRY = OutcomeKind.INVALID, OutcomeKind.LOGIN_REQUIRED, OutcomeKind.RETRYABLE
DEADLINE = OutcomeKind.DEADLINE_EXCEEDED

RESULT = {"outputs": [{"path": "playback/intro.mp4", "bytes": 1048576, "sha256": "ab" * 32}]}


def error(text: str) -> str:
    return json.dumps({"error": text})


def footprint(what: str, estimated_mib: int, limit_mib: int) -> str:
    """The provisional termination message the worker leaves before it decodes."""
    mib = 1024 * 1024
    sizes = {"estimatedBytes": estimated_mib * mib, "limitBytes": limit_mib * mib}
    return json.dumps({"footprint": {"input": what, **sizes}})


def by_policy(code: int, index: int) -> str:
    """The Job controller's FailJob message."""
    return (
        f"Container worker for pod studio/intro-3f9a2c-1-x7k2p failed with exit code {code} "
        f"matching FailJob rule at index {index}"
    )


BACKOFF = "Job has reached the specified backoff limit"
PAST_DEADLINE = "Job was active longer than specified deadline"
UNSCHEDULABLE = (
    "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint."
)
PRESSURE = "The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi."
MEDIAJOB_PREEMPTED = "Preempted in order to admit critical pod"

Row = tuple[str, dict[str, Any], list[dict[str, Any]], OutcomeKind, str, int | None, str]

ROWS: list[Row] = [
    # --- in flight ---
    ("no pod yet", job().obj(), [], P, "Pending", None, "waiting for the Job's pod"),
    (
        "unschedulable",
        job().obj(),
        [pod().unschedulable(UNSCHEDULABLE).obj()],
        P,
        "Unschedulable",
        None,
        "1 Insufficient nvidia.com/gpu",
    ),
    (
        "scheduled, no container status yet",
        job().obj(),
        [pod().obj()],
        P,
        "Pending",
        None,
        "the pod is starting",
    ),
    (
        "container creating",
        job().active().obj(),
        [pod().waiting("ContainerCreating").obj()],
        P,
        "ContainerCreating",
        None,
        "ContainerCreating",
    ),
    (
        "image pull back-off",
        job().active().obj(),
        [pod().waiting("ImagePullBackOff", 'Back-off pulling image "x:1"').obj()],
        P,
        "ImagePullBackOff",
        None,
        'Back-off pulling image "x:1"',
    ),
    (
        "missing secret for a custom container",
        job().active().obj(),
        [pod().waiting("CreateContainerConfigError", 'secret "llm" not found').obj()],
        P,
        "CreateContainerConfigError",
        None,
        'secret "llm" not found',
    ),
    (
        "a waiting reason unfit for a condition",
        job().active().obj(),
        [pod().waiting("not camel case").obj()],
        P,
        "Waiting",
        None,
        "not camel case",
    ),
    ("running", job().active().obj(), [pod().running().obj()], R, "Running", None, "running"),
    ("suspended", job().suspended().obj(), [], P, "Suspended", None, "suspended"),
    (
        "being evicted, still running",
        job().active().obj(),
        [pod().running().disrupted("EvictionByEvictionAPI", "Eviction API: evicting").obj()],
        R,
        "Running",
        None,
        "running",
    ),
    (
        "evicted, replacement not created yet",
        job().obj(),
        [pod().terminated(137).disrupted("TerminationByKubelet", PRESSURE).obj()],
        P,
        "Evicted",
        None,
        "low on resource: memory. Threshold quantity: 100Mi, available: 80Mi.; the Job controller",
    ),
    (
        "evicted, replacement running",
        job().active().obj(),
        [
            pod("old").terminated(137).disrupted("TerminationByKubelet", PRESSURE).obj(),
            pod("new", created=FINISHED).running(LATER).obj(),
        ],
        R,
        "Running",
        None,
        "running",
    ),
    (
        "failed, not judged yet",
        job().obj(),
        [pod().terminated(75, error("rate limited")).obj()],
        R,
        "Finishing",
        None,
        "the worker exited",
    ),
    # --- succeeded ---
    (
        "exited 0, not judged yet (the pod says it before the Job does)",
        job().obj(),
        [pod().terminated(0, json.dumps({"result": RESULT})).obj()],
        S,
        "Succeeded",
        0,
        "succeeded: 1 output",
    ),
    (
        "complete",
        job().complete().obj(),
        [pod().terminated(0, json.dumps({"result": RESULT})).obj()],
        S,
        "Succeeded",
        0,
        "succeeded: 1 output",
    ),
    (
        "success criteria met (interim)",
        job().complete(interim_only=True).obj(),
        [pod().terminated(0, json.dumps({"result": {"outputs": []}})).obj()],
        S,
        "Succeeded",
        0,
        "succeeded: 0 outputs",
    ),
    (
        "complete, no message",
        job().complete().obj(),
        [pod().terminated(0).obj()],
        S,
        "Succeeded",
        0,
        "no readable result",
    ),
    (
        "complete, a message that is not a result",
        job().complete().obj(),
        [pod().terminated(0, "done!\n").obj()],
        S,
        "Succeeded",
        0,
        "no readable result",
    ),
    ("complete, pod gone", job().complete().obj(), [], S, "Succeeded", 0, "no readable result"),
    # --- the worker's exit codes ---
    (
        "exit 2",
        job().failed("PodFailurePolicy", by_policy(2, 1)).obj(),
        [pod().terminated(2, error("in/intro.mov: not a video file")).obj()],
        INVALID,
        "InvalidInput",
        2,
        "in/intro.mov: not a video file",
    ),
    (
        "exit 2, no message",
        job().failed("PodFailurePolicy", by_policy(2, 1)).obj(),
        [pod().terminated(2).obj()],
        INVALID,
        "InvalidInput",
        2,
        "the worker rejected its input",
    ),
    (
        "exit 2, interim FailureTarget",
        job().failed("PodFailurePolicy", by_policy(2, 1), interim_only=True).obj(),
        [pod().terminated(2, error("bad box")).obj()],
        INVALID,
        "InvalidInput",
        2,
        "bad box",
    ),
    (
        "exit 3",
        job().failed("PodFailurePolicy", by_policy(3, 2)).obj(),
        [pod().terminated(3, error("fansly: session expired for alice")).obj()],
        LOGIN,
        "LoginRequired",
        3,
        "session expired",
    ),
    (
        "exit 75",
        job().failed("PodFailurePolicy", by_policy(75, 3)).obj(),
        [pod().terminated(75, error("redis: connection refused")).obj()],
        RETRY,
        "TemporaryFailure",
        75,
        "redis: connection refused",
    ),
    (
        "exit 75 after a 429",
        job().failed("PodFailurePolicy", by_policy(75, 3)).obj(),
        [pod().terminated(75, json.dumps({"error": "429", "retryAfterSeconds": 120})).obj()],
        RETRY,
        "RateLimited",
        75,
        "429",
    ),
    (
        "exit 75 in lastState",
        job().failed("PodFailurePolicy", by_policy(75, 3)).obj(),
        [pod().lost_state(75).obj()],
        RETRY,
        "TemporaryFailure",
        75,
        "a temporary failure",
    ),
    (
        "OOMKilled",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(137, reason="OOMKilled").obj()],
        RETRY,
        "OOMKilled",
        137,
        "the worker ran out of memory (OOMKilled, limit 2Gi)",
    ),
    (
        "OOMKilled on an input the worker estimated at most of the limit",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(137, footprint("3840x2160 video", 1600, 2048), reason="OOMKilled").obj()],
        INVALID,
        "InputTooLarge",
        137,
        "out of memory on a 3840x2160 video (estimated 1600 MiB of the 2048 MiB limit): it will"
        " not fit on a retry; raise spec.resources.memory",
    ),
    (
        "OOMKilled on an input estimated small: something else took the memory",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(137, footprint("320x240 video", 200, 2048), reason="OOMKilled").obj()],
        RETRY,
        "OOMKilled",
        137,
        "the worker ran out of memory (OOMKilled, limit 2Gi)",
    ),
    (
        "OOMKilled, no limit in sight",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(137, reason="OOMKilled").no_memory_limit().obj()],
        RETRY,
        "OOMKilled",
        137,
        "the worker ran out of memory (OOMKilled)",
    ),
    (
        "crash with a log tail (FallbackToLogsOnError)",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [
            pod()
            .terminated(1, "Traceback (most recent call last):\n  File x\nRuntimeError: boom\n\n")
            .obj()
        ],
        RETRY,
        "ExitCode1",
        1,
        "the worker failed: exit code 1: RuntimeError: boom",
    ),
    (
        "killed",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(137).obj()],
        RETRY,
        "ExitCode137",
        137,
        "killed by SIGKILL (exit code 137)",
    ),
    (
        "an exit code above 128 that is no signal",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(255).obj()],
        RETRY,
        "ExitCode255",
        255,
        "the worker failed: exit code 255",
    ),
    # --- the cluster's doing ---
    (
        "deadline, pod gone",
        job().deadline(600).failed("DeadlineExceeded", PAST_DEADLINE).obj(),
        [],
        DEADLINE,
        "DeadlineExceeded",
        None,
        "the attempt ran longer than its deadline of 600s",
    ),
    (
        "deadline, pod killed",
        job().deadline(600).failed("DeadlineExceeded", PAST_DEADLINE, interim_only=True).obj(),
        [pod().terminated(143).obj()],
        DEADLINE,
        "DeadlineExceeded",
        None,
        "deadline of 600s",
    ),
    (
        "evicted without DisruptionTarget, Job failed",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(137).evicted(PRESSURE).obj()],
        RETRY,
        "Evicted",
        137,
        "The node was low on resource: memory",
    ),
    (
        "preempted, Job failed",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(143).disrupted("PreemptionByScheduler", MEDIAJOB_PREEMPTED).obj()],
        RETRY,
        "Preempted",
        143,
        MEDIAJOB_PREEMPTED,
    ),
    (
        "node lost, Job failed",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().disrupted("DeletionByPodGC", "PodGC: node no longer exists").phase("Failed").obj()],
        RETRY,
        "NodeLost",
        None,
        "node no longer exists",
    ),
    (
        "FailJob, pod gone: the condition names the code",
        job().failed("PodFailurePolicy", by_policy(3, 2)).obj(),
        [],
        LOGIN,
        "LoginRequired",
        3,
        "the platform needs a login",
    ),
    (
        "backoff limit, pod gone",
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [],
        RETRY,
        "BackoffLimitExceeded",
        None,
        BACKOFF,
    ),
    (
        "failed for a reason unfit for a condition",
        job().failed("", "").obj(),
        [],
        RETRY,
        "JobFailed",
        None,
        "the Job failed",
    ),
    (
        "an evicted pod, then its replacement exits 2",
        job().failed("PodFailurePolicy", by_policy(2, 1)).obj(),
        [
            pod("old").terminated(137).disrupted("TerminationByKubelet", PRESSURE).obj(),
            pod("new", created=FINISHED)
            .terminated(2, error("no video stream"), started=LATER, finished=LATER)
            .obj(),
        ],
        INVALID,
        "InvalidInput",
        2,
        "no video stream",
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_outcome(row: Row) -> None:
    _, job_obj, pods, kind, reason, exit_code, message = row
    for ordering in (pods, pods[::-1]):  # the API server lists pods in no promised order
        got = outcome(job_obj, ordering)
        assert (got.kind, got.reason, got.exit_code) == (kind, reason, exit_code)
        assert message in got.message
        assert "\n" not in got.message and len(got.message) <= 1024
        assert (got.result is not None) is (kind is S)


@pytest.mark.parametrize(
    ("asked", "wait", "reason"),
    [(120, 120, "RateLimited"), (0, None, "TemporaryFailure"), (86401, None, "TemporaryFailure"),
     ("soon", None, "TemporaryFailure"), (None, None, "TemporaryFailure")],
)  # fmt: skip
def test_a_429_carries_the_wait_it_asked_for(asked: object, wait: int | None, reason: str) -> None:
    said = json.dumps({"retryAfterSeconds": asked})
    got = outcome(
        job().failed("PodFailurePolicy", by_policy(75, 3)).obj(), [pod().terminated(75, said).obj()]
    )
    assert (got.reason, got.retry_after_seconds) == (reason, wait)
    if wait is not None:
        assert got.message == f"the platform asked to wait {wait}s"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_success_carries_the_result_and_the_times() -> None:
    got = outcome(
        job().complete().obj(), [pod().terminated(0, json.dumps({"result": RESULT})).obj()]
    )
    assert got == Outcome(
        OutcomeKind.SUCCEEDED,
        "Succeeded",
        "succeeded: 1 output",
        result=JobResult.model_validate(RESULT),
        exit_code=0,
        started_at=at(STARTED),
        finished_at=at(FINISHED),
        settled=True,
    )


def test_success_without_a_pod_takes_the_jobs_times() -> None:
    got = outcome(job().complete(at=LATER).obj(), [])
    assert (got.result, got.started_at, got.finished_at) == (JobResult(), at(CREATED), at(LATER))


@pytest.mark.parametrize(
    ("job_obj", "settled"),
    [
        (job().complete().obj(), True),
        (job().complete(interim_only=True).obj(), False),
        (job().failed("PodFailurePolicy", by_policy(2, 1)).obj(), True),
        (job().failed("PodFailurePolicy", by_policy(2, 1), interim_only=True).obj(), False),
    ],
)
def test_settled_only_with_the_terminal_condition(job_obj: dict[str, Any], settled: bool) -> None:
    assert outcome(job_obj, []).settled is settled


def test_a_worker_that_exited_0_before_the_jobs_verdict_has_not_settled() -> None:
    early = outcome(job().obj(), [pod().terminated(0, json.dumps({"result": RESULT})).obj()])
    assert early.kind is OutcomeKind.SUCCEEDED and not early.settled
    assert early.result == JobResult.model_validate(RESULT)
    assert (early.started_at, early.finished_at) == (at(STARTED), at(FINISHED))


def test_failure_times_from_the_pod_or_the_condition() -> None:
    failed = job().failed("PodFailurePolicy", by_policy(2, 1), at=LATER).obj()
    with_pod = outcome(failed, [pod().terminated(2).obj()])
    assert (with_pod.started_at, with_pod.finished_at) == (at(STARTED), at(FINISHED))
    without = outcome(failed, [])
    assert (without.started_at, without.finished_at) == (at(CREATED), at(LATER))


def test_running_since_the_container_started() -> None:
    assert outcome(job().active().obj(), [pod().running(LATER).obj()]).started_at == at(LATER)


def test_the_newest_terminated_pod_decides() -> None:
    older = pod("a").terminated(75, finished=FINISHED).obj()
    newer = pod("b").terminated(2, finished=LATER).obj()
    failed = job().failed("PodFailurePolicy", by_policy(2, 1)).obj()
    assert outcome(failed, [older, newer]).kind is OutcomeKind.INVALID
    assert outcome(failed, [newer, older]).kind is OutcomeKind.INVALID


def test_messages_hold_no_credentials() -> None:
    leaked = error(
        "GET https://alice:hunter2@api.fansly.example/v1/me?token=abc123 -> 401; "
        "Cookie: sess=xyz789; Authorization: Bearer eyJhbGci"
    )
    got = outcome(
        job().failed("PodFailurePolicy", by_policy(3, 2)).obj(), [pod().terminated(3, leaked).obj()]
    )
    assert got.kind is OutcomeKind.LOGIN_REQUIRED
    for secret in ("hunter2", "abc123", "xyz789", "eyJhbGci"):
        assert secret not in got.message
    assert "api.fansly.example/v1/me" in got.message


def test_long_errors_are_cut_to_one_bounded_line() -> None:
    got = outcome(
        job().failed("BackoffLimitExceeded", BACKOFF).obj(),
        [pod().terminated(1, "x" * 3000).obj()],
    )
    assert len(got.message) == 1024 and got.message.endswith("…")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, TerminationMessage()),
        ("", TerminationMessage()),
        ("  \n", TerminationMessage()),
        (
            json.dumps({"result": RESULT}),
            TerminationMessage(result=JobResult.model_validate(RESULT)),
        ),
        (json.dumps({"error": "bad\ninput"}), TerminationMessage(error="bad input")),
        (
            "ffmpeg version 5.1\n...\nConversion failed!\n",
            TerminationMessage(error="Conversion failed!"),
        ),
        ("[1, 2]", TerminationMessage(error="[1, 2]")),
        ('{"result": {"outputs": "nope"}, "error": 3}', TerminationMessage()),
        (json.dumps({"error": "e" * 2000}), TerminationMessage(error="e" * 1023 + "…")),
        ("token=abc123", TerminationMessage(error="token=<redacted>")),
    ],
)
def test_parse_termination_message(text: str | None, expected: TerminationMessage) -> None:
    assert parse_termination_message(text) == expected


@pytest.mark.parametrize(
    ("kind", "finished"),
    [
        (P, False),
        (R, False),
        (S, True),
        (INVALID, True),
        (LOGIN, True),
        (RETRY, True),
        (DEADLINE, True),
    ],
)
def test_finished_kinds(kind: OutcomeKind, finished: bool) -> None:
    assert kind.finished is finished
