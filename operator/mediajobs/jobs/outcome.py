"""Job + pods status -> one outcome of the attempt.

The Job's conditions say whether the attempt ended; the pod that decided (the
newest terminated one) says why. The Job controller writes the interim
conditions (``SuccessCriteriaMet``, ``FailureTarget``) the moment it decides,
and the terminal ones (``Complete``, ``Failed``) once the attempt's pods are
gone: the outcome is decided by either, and ``settled`` says that the pods no
longer hold quota. A worker that exited 0 decides success before either: the
Job has one pod and no success policy, so that exit completes it, and the pod's
status has the exit and the termination message seconds before the Job does
(the kubelet reports the pod Succeeded only once its sandbox is stopped).

How an ending maps (the worker contract, api/task.py ``ExitCode``):

==========================================  ===================  =====================
what happened                               kind                 reason
==========================================  ===================  =====================
Complete, or the worker exited 0             SUCCEEDED            Succeeded
Failed, DeadlineExceeded                    DEADLINE_EXCEEDED    DeadlineExceeded
exit 2                                      INVALID              InvalidInput
exit 3                                      LOGIN_REQUIRED       LoginRequired
exit 75                                     RETRYABLE            TemporaryFailure
exit 75 with retryAfterSeconds (HTTP 429)   RETRYABLE            RateLimited
pod evicted / preempted / node lost         RETRYABLE            Evicted / Preempted /
                                                                 NodeLost
container OOMKilled, input over budget      INVALID              InputTooLarge
container OOMKilled                         RETRYABLE            OOMKilled
any other exit code N                       RETRYABLE            ExitCodeN
Failed, no pod left to ask                  RETRYABLE            the condition's reason
==========================================  ===================  =====================

"Input over budget": before decoding, the worker leaves its inputs' estimated
footprint in the termination message. An attempt killed for memory whose
input was estimated at half the limit or more will be killed again at the
same limit: it fails at once, saying how large the input is and what to
raise, instead of spending the retries. A smaller estimate means something
else took the memory, and the attempt is retried.

A disrupted pod does not fail the Job (its podFailurePolicy ignores it: the Job
controller replaces the pod), so Evicted and friends only decide an outcome when
the cluster failed the Job anyway; before that they explain a PENDING.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import ExitCode, Footprint, TerminationMessage
from mediajobs.jobs.messages import clean
from mediajobs.jobs.naming import CONTAINER


class OutcomeKind(StrEnum):
    PENDING = "Pending"  # no worker running yet (scheduling, pulling, suspended, replaced)
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    INVALID = "Invalid"  # permanent: fail the MediaJob, no retry
    LOGIN_REQUIRED = "LoginRequired"  # wait for a person (HitlSession), no retry spent
    RETRYABLE = "Retryable"  # retry with backoff while retry.limit lasts
    DEADLINE_EXCEEDED = "DeadlineExceeded"  # the attempt ran past spec.deadlineSeconds

    @property
    def finished(self) -> bool:
        """The attempt is over (its Job will not run again)."""
        return self not in (OutcomeKind.PENDING, OutcomeKind.RUNNING)


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    reason: str  # CamelCase, fit for a condition's reason
    message: str  # one line, at most 1024 characters, no credentials
    result: JobResult | None = None  # SUCCEEDED only
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    settled: bool = False  # the Job carries Complete/Failed: its pods are gone
    retry_after_seconds: int | None = None  # RateLimited: the wait the platform asked for


_REASON = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# The Job controller's message for a FailJob rule: "Container worker for pod
# ns/x failed with exit code 2 matching FailJob rule at index 1".
_CONDITION_EXIT_CODE = re.compile(r"exit code (\d+)")
# DisruptionTarget reasons (pod conditions) -> our reason.
_DISRUPTIONS = {
    "PreemptionByScheduler": "Preempted",
    "DeletionByPodGC": "NodeLost",
    "DeletionByTaintManager": "NodeLost",
    "TerminationByKubelet": "Evicted",
    "EvictionByEvictionAPI": "Evicted",
}


def parse_termination_message(text: str | None) -> TerminationMessage:
    """The worker's termination message, tolerantly.

    JSON from the worker gives its result and error; anything else (the log
    tail that FallbackToLogsOnError leaves when the worker died before writing)
    becomes ``error`` = its last non-empty line.
    """
    text = (text or "").strip()
    if not text:
        return TerminationMessage()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return TerminationMessage(error=clean(text.splitlines()[-1]))
    result = footprint = None
    if isinstance(doc.get("result"), dict):
        with contextlib.suppress(ValidationError):
            result = JobResult.model_validate(doc["result"])
    if isinstance(doc.get("footprint"), dict):
        with contextlib.suppress(ValidationError):
            footprint = Footprint.model_validate(doc["footprint"])
    error = doc.get("error")
    wait = None  # out of bounds (1 s to a day): the generic backoff instead
    with contextlib.suppress(ValidationError):
        asked = {"retryAfterSeconds": doc.get("retryAfterSeconds")}
        wait = TerminationMessage.model_validate(asked).retry_after_seconds
    return TerminationMessage(
        result=result,
        error=clean(error) if isinstance(error, str) else None,
        footprint=footprint,
        retry_after_seconds=wait,
    )


def _time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _reason(value: object, default: str) -> str:
    return value if isinstance(value, str) and _REASON.match(value) else default


def _true_conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return {c.get("type", ""): c for c in conditions if c.get("status") == "True"}


def _worker_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return next((s for s in statuses if s.get("name") == CONTAINER), {})


def _terminated(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The worker's terminated state; ``lastState`` when the kubelet lost track of the state."""
    status = _worker_status(pod)
    state = status.get("state") or {}
    if "terminated" in state:
        return state["terminated"]  # type: ignore[no-any-return]
    if "running" in state:
        return None
    return (status.get("lastState") or {}).get("terminated")


def _finished(pod: Mapping[str, Any]) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed") or _terminated(pod) is not None


def _newest(pods: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    def key(pod: Mapping[str, Any]) -> tuple[str, str, str]:
        terminated = _terminated(pod) or {}
        meta = pod.get("metadata") or {}
        created = str(meta.get("creationTimestamp") or "")
        # RFC 3339 UTC timestamps sort as strings; the name breaks ties.
        return (str(terminated.get("finishedAt") or created), created, str(meta.get("name", "")))

    return max(pods, key=key, default=None)


def _memory_limit(pod: Mapping[str, Any]) -> str | None:
    containers = (pod.get("spec") or {}).get("containers") or []
    worker: Mapping[str, Any] = next((c for c in containers if c.get("name") == CONTAINER), {})
    limit = ((worker.get("resources") or {}).get("limits") or {}).get("memory")
    return str(limit) if limit is not None else None


def _disruption(pod: Mapping[str, Any]) -> tuple[str, str] | None:
    """(reason, message) when the pod was evicted, preempted or lost with its node."""
    status = pod.get("status") or {}
    target = _true_conditions(pod).get("DisruptionTarget")
    if target is not None:
        reason = _DISRUPTIONS.get(target.get("reason", ""), "Evicted")
        return reason, str(target.get("message") or status.get("message") or reason)
    if status.get("reason") == "Evicted":
        return "Evicted", str(status.get("message") or "the pod was evicted")
    return None


@dataclass(frozen=True)
class _Verdict:
    """What an outcome says, before its times are attached and its message cleaned."""

    kind: OutcomeKind
    reason: str
    message: str
    exit_code: int | None = None
    retry_after_seconds: int | None = None


def _outcome(
    verdict: _Verdict,
    *,
    result: JobResult | None = None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    settled: bool = False,
) -> Outcome:
    # Every message passes here: one line, bounded, nothing that looks like a credential.
    return Outcome(
        verdict.kind,
        verdict.reason,
        clean(verdict.message),
        result=result,
        exit_code=verdict.exit_code,
        started_at=started_at,
        finished_at=finished_at,
        settled=settled,
        retry_after_seconds=verdict.retry_after_seconds,
    )


def _by_exit_code(code: int, said: TerminationMessage) -> _Verdict:
    error = said.error
    if code == ExitCode.INVALID:
        return _Verdict(
            OutcomeKind.INVALID, "InvalidInput", error or "the worker rejected its input", code
        )
    if code == ExitCode.LOGIN_REQUIRED:
        return _Verdict(
            OutcomeKind.LOGIN_REQUIRED, "LoginRequired", error or "the platform needs a login", code
        )
    if code == ExitCode.TEMPORARY and said.retry_after_seconds is not None:
        wait = said.retry_after_seconds
        message = error or f"the platform asked to wait {wait}s"
        return _Verdict(OutcomeKind.RETRYABLE, "RateLimited", message, code, wait)
    if code == ExitCode.TEMPORARY:
        return _Verdict(
            OutcomeKind.RETRYABLE, "TemporaryFailure", error or "a temporary failure", code
        )
    what = f"exit code {code}"
    if code > 128:
        with contextlib.suppress(ValueError):  # not a signal number
            what = f"killed by {signal.Signals(code - 128).name} (exit code {code})"
    message = f"the worker failed: {what}" + (f": {error}" if error else "")
    return _Verdict(OutcomeKind.RETRYABLE, f"ExitCode{code}", message, code)


def _too_large(footprint: Footprint) -> str:
    mib = 1024 * 1024
    return (
        f"out of memory on a {footprint.input} (estimated {footprint.estimated_bytes // mib} MiB"
        f" of the {footprint.limit_bytes // mib} MiB limit): it will not fit on a retry;"
        " raise spec.resources.memory"
    )


def _failure(pod: Mapping[str, Any]) -> _Verdict | None:
    """Why POD's worker failed; None when the pod does not say."""
    terminated = _terminated(pod) or {}
    code = terminated.get("exitCode")
    code = code if isinstance(code, int) else None
    disruption = _disruption(pod)
    if disruption is not None:
        return _Verdict(OutcomeKind.RETRYABLE, *disruption, code)
    if terminated.get("reason") == "OOMKilled":
        footprint = parse_termination_message(terminated.get("message")).footprint
        if footprint is not None and footprint.estimated_bytes * 2 >= footprint.limit_bytes:
            return _Verdict(OutcomeKind.INVALID, "InputTooLarge", _too_large(footprint), code)
        limit = _memory_limit(pod)
        detail = f"OOMKilled, limit {limit}" if limit else "OOMKilled"
        message = f"the worker ran out of memory ({detail})"
        return _Verdict(OutcomeKind.RETRYABLE, "OOMKilled", message, code)
    if not code:
        return None
    return _by_exit_code(code, parse_termination_message(terminated.get("message")))


def _succeeded(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], settled: bool) -> Outcome:
    pod = _newest([p for p in pods if (_terminated(p) or {}).get("exitCode") == 0])
    terminated = (_terminated(pod) if pod is not None else None) or {}
    status = job.get("status") or {}
    result = parse_termination_message(terminated.get("message")).result
    if result is None:
        result, message = JobResult(), "succeeded; the worker reported no readable result"
    else:
        count = len(result.outputs)
        message = f"succeeded: {count} output{'s' * (count != 1)}"
    return _outcome(
        _Verdict(OutcomeKind.SUCCEEDED, "Succeeded", message, 0),
        result=result,
        started_at=_time(terminated.get("startedAt")) or _time(status.get("startTime")),
        finished_at=_time(terminated.get("finishedAt")) or _time(status.get("completionTime")),
        settled=settled,
    )


def _failed(
    job: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    condition: Mapping[str, Any],
    settled: bool,
) -> Outcome:
    pod = _newest([p for p in pods if _finished(p)])
    terminated = (_terminated(pod) if pod is not None else None) or {}
    reason = condition.get("reason")
    condition_message = str(condition.get("message") or "the Job failed")
    if reason == "DeadlineExceeded":
        deadline = (job.get("spec") or {}).get("activeDeadlineSeconds")
        limit = f" of {deadline}s" if deadline is not None else ""
        message = f"the attempt ran longer than its deadline{limit}"
        verdict = _Verdict(OutcomeKind.DEADLINE_EXCEEDED, "DeadlineExceeded", message)
    elif pod is not None and (failure := _failure(pod)) is not None:
        verdict = failure
    elif reason == "PodFailurePolicy" and (code := _CONDITION_EXIT_CODE.search(condition_message)):
        # The pod is gone; the FailJob rule's message still names the exit code.
        verdict = _by_exit_code(int(code.group(1)), TerminationMessage())
    else:
        verdict = _Verdict(OutcomeKind.RETRYABLE, _reason(reason, "JobFailed"), condition_message)
    return _outcome(
        verdict,
        started_at=_time(terminated.get("startedAt"))
        or _time((job.get("status") or {}).get("startTime")),
        finished_at=_time(terminated.get("finishedAt"))
        or _time(condition.get("lastTransitionTime")),
        settled=settled,
    )


def _waiting(pod: Mapping[str, Any]) -> _Verdict:
    """Why POD's worker is not running yet."""
    waiting = (_worker_status(pod).get("state") or {}).get("waiting")
    if waiting:  # ContainerCreating, ImagePullBackOff, CreateContainerConfigError...
        message = str(waiting.get("message") or waiting.get("reason") or "waiting")
        return _Verdict(OutcomeKind.PENDING, _reason(waiting.get("reason"), "Waiting"), message)
    conditions = (pod.get("status") or {}).get("conditions") or []
    for condition in conditions:  # Unschedulable: "0/3 nodes are available: ..."
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            reason = _reason(condition.get("reason"), "Unschedulable")
            return _Verdict(OutcomeKind.PENDING, reason, str(condition.get("message") or reason))
    return _Verdict(OutcomeKind.PENDING, "Pending", "the pod is starting")


def _in_flight(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> Outcome:
    if "Suspended" in _true_conditions(job) or (job.get("spec") or {}).get("suspend"):
        return _outcome(_Verdict(OutcomeKind.PENDING, "Suspended", "the Job is suspended"))
    active = _newest([p for p in pods if not _finished(p)])
    if active is not None:
        running = (_worker_status(active).get("state") or {}).get("running")
        if running is None:
            return _outcome(_waiting(active))
        verdict = _Verdict(OutcomeKind.RUNNING, "Running", "the worker is running")
        return _outcome(verdict, started_at=_time(running.get("startedAt")))
    last = _newest(pods)
    if last is None:
        return _outcome(_Verdict(OutcomeKind.PENDING, "Pending", "waiting for the Job's pod"))
    disruption = _disruption(last)
    if disruption is not None:
        reason, message = disruption
        message += "; the Job controller replaces the pod"
        return _outcome(_Verdict(OutcomeKind.PENDING, reason, message))
    return _exited(job, pods, last)


def _exited(
    job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], last: Mapping[str, Any]
) -> Outcome:
    """The worker of LAST (the newest pod) exited and the Job controller has not judged it."""
    if (_terminated(last) or {}).get("exitCode") == 0:  # completes the Job (module docstring)
        return _succeeded(job, pods, settled=False)
    # It failed: the Job's podFailurePolicy decides whether a new pod comes.
    return _outcome(
        _Verdict(OutcomeKind.RUNNING, "Finishing", "the worker exited; the Job is being finished")
    )


def outcome(job: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> Outcome:
    """The attempt's outcome from its Job and the Job's pods, as the API server returns them."""
    conditions = _true_conditions(job)
    if "Complete" in conditions or "SuccessCriteriaMet" in conditions:
        return _succeeded(job, pods, settled="Complete" in conditions)
    failed = conditions.get("Failed") or conditions.get("FailureTarget")
    if failed is not None:
        return _failed(job, pods, failed, settled="Failed" in conditions)
    return _in_flight(job, pods)
