"""Builders for the Job layer's tests: specs, and Jobs and pods as the API server returns them.

The status shapes are those the real Job controller and kubelet write (and the
local cluster's KWOK stages simulate: hack/kwok/stages.yaml); e.g.
``job().failed("PodFailurePolicy", ...)`` adds the interim FailureTarget and
the terminal Failed condition, as the Job controller does.
"""

from __future__ import annotations

import copy
from typing import Any

from mediajobs.api.mediajob import MediaJobSpec
from mediajobs.config import OperatorConfig
from tests.builders import MediaJobBuilder

NAMESPACE = "studio"
UID = "6f1c7a5e-0b1d-4d55-9a0e-2f7c3b8e91aa"
CREATED = "2026-01-05T10:00:00Z"
STARTED = "2026-01-05T10:00:02Z"
FINISHED = "2026-01-05T10:03:20Z"
LATER = "2026-01-05T10:04:00Z"


def spec_of(builder: MediaJobBuilder) -> MediaJobSpec:
    """The MediaJobSpec of a shared test builder's manifest."""
    return MediaJobSpec.model_validate(builder.obj()["spec"])


def operator_config(**fields: Any) -> OperatorConfig:
    """The default config with a Redis URL (and FIELDS, by their wire names)."""
    return OperatorConfig.model_validate({"redisUrl": "redis://mediajobs-redis:6379/0", **fields})


class JobStatusBuilder:
    def __init__(self, name: str) -> None:
        self._obj: dict[str, Any] = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": NAMESPACE, "creationTimestamp": CREATED},
            "spec": {"backoffLimit": 0, "suspend": False},
            "status": {"startTime": CREATED, "ready": 0, "terminating": 0},
        }

    def _condition(self, type_: str, reason: str, message: str, at: str) -> None:
        self._obj["status"].setdefault("conditions", []).append(
            {
                "type": type_,
                "status": "True",
                "reason": reason,
                "message": message,
                "lastProbeTime": at,
                "lastTransitionTime": at,
            }
        )

    def active(self) -> JobStatusBuilder:
        self._obj["status"] |= {"active": 1, "ready": 1}
        return self

    def deadline(self, seconds: int) -> JobStatusBuilder:
        self._obj["spec"]["activeDeadlineSeconds"] = seconds
        return self

    def complete(self, *, interim_only: bool = False, at: str = FINISHED) -> JobStatusBuilder:
        message = "Reached expected number of succeeded pods"
        self._condition("SuccessCriteriaMet", "CompletionsReached", message, at)
        if not interim_only:
            self._condition("Complete", "CompletionsReached", message, at)
            self._obj["status"] |= {"succeeded": 1, "completionTime": at}
        return self

    def failed(
        self, reason: str, message: str, *, interim_only: bool = False, at: str = FINISHED
    ) -> JobStatusBuilder:
        self._condition("FailureTarget", reason, message, at)
        if not interim_only:
            self._condition("Failed", reason, message, at)
            self._obj["status"]["failed"] = 1
        return self

    def suspended(self) -> JobStatusBuilder:
        self._obj["spec"]["suspend"] = True
        self._condition("Suspended", "JobSuspended", "Job suspended", LATER)
        return self

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._obj)


class PodStatusBuilder:
    def __init__(self, name: str, created: str) -> None:
        self._obj: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": NAMESPACE, "creationTimestamp": created},
            "spec": {
                "containers": [
                    {"name": "worker", "resources": {"limits": {"memory": "2Gi"}}},
                ],
            },
            "status": {
                "phase": "Pending",
                "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": created}
                ],
            },
        }

    @property
    def _status(self) -> dict[str, Any]:
        return self._obj["status"]  # type: ignore[no-any-return]

    def _worker(self, state: dict[str, Any]) -> None:
        self._status["containerStatuses"] = [
            {
                "name": "worker",
                "image": "docker.io/local/mediajobs-ffmpeg-worker:0.1.0",
                "imageID": "",
                "lastState": {},
                "ready": "running" in state,
                "started": "running" in state,
                "restartCount": 0,
                "state": state,
            }
        ]

    def unschedulable(self, message: str) -> PodStatusBuilder:
        self._status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
                "lastTransitionTime": CREATED,
            }
        ]
        return self

    def waiting(self, reason: str, message: str | None = None) -> PodStatusBuilder:
        self._worker({"waiting": {"reason": reason, **({"message": message} if message else {})}})
        return self

    def running(self, started: str = STARTED) -> PodStatusBuilder:
        self._status["phase"] = "Running"
        self._worker({"running": {"startedAt": started}})
        return self

    def terminated(
        self,
        exit_code: int,
        message: str | None = None,
        *,
        reason: str | None = None,
        started: str = STARTED,
        finished: str = FINISHED,
    ) -> PodStatusBuilder:
        self._status["phase"] = "Succeeded" if exit_code == 0 else "Failed"
        terminated: dict[str, Any] = {
            "exitCode": exit_code,
            "reason": reason or ("Completed" if exit_code == 0 else "Error"),
            "startedAt": started,
            "finishedAt": finished,
        }
        if message is not None:
            terminated["message"] = message
        self._worker({"terminated": terminated})
        return self

    def lost_state(self, exit_code: int, message: str | None = None) -> PodStatusBuilder:
        """The terminated state only in lastState (the kubelet restarted and lost track)."""
        self.terminated(exit_code, message)
        status = self._status["containerStatuses"][0]
        status["lastState"] = status.pop("state")
        status["state"] = {"waiting": {"reason": "ContainerStatusUnknown"}}
        return self

    def disrupted(self, reason: str, message: str) -> PodStatusBuilder:
        """A DisruptionTarget condition, as eviction, preemption and pod GC add it."""
        self._status["conditions"].append(
            {
                "type": "DisruptionTarget",
                "status": "True",
                "reason": reason,
                "message": message,
                "lastTransitionTime": FINISHED,
            }
        )
        return self

    def phase(self, phase: str) -> PodStatusBuilder:
        self._status["phase"] = phase
        return self

    def evicted(self, message: str) -> PodStatusBuilder:
        """A kubelet eviction without a DisruptionTarget condition (older kubelets)."""
        self._status.update(phase="Failed", reason="Evicted", message=message)
        return self

    def no_memory_limit(self) -> PodStatusBuilder:
        self._obj["spec"]["containers"][0]["resources"] = {}
        return self

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._obj)


def job(name: str = "intro-3f9a2c-1") -> JobStatusBuilder:
    return JobStatusBuilder(name)


def pod(suffix: str = "x7k2p", created: str = CREATED) -> PodStatusBuilder:
    return PodStatusBuilder(f"intro-3f9a2c-1-{suffix}", created)
