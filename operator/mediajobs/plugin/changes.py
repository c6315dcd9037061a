"""What each acting command asks of the API, decided from plain data (pure): the spec
patch, or why the job is in no state for it (one line; the command exits 1).

Every change is a spec field, so GitOps tools see it: retry raises spec.manualRetries
(the operator queues the Failed job again with a fresh retry budget: lifecycle/plan.py)
and raises the priority one step (1 is the highest), as the reference system's retry
queued failed jobs at a higher priority; pause and resume set spec.suspend, cancel
spec.cancel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mediajobs.api.mediajob import Phase

Body = Mapping[str, Any]
GENERATE_NAME_STEM = 57  # a generated name adds 5 characters and must stay within 63
HIGHEST_PRIORITY = 1
# Fields that say what happened to the old job, not what the new one is to do.
_NOT_RESUBMITTED = ("cancel", "suspend", "manualRetries")


class Refused(Exception):
    """The job is in no state for the change asked; the message says why, in one line."""


def phase_of(job: Body) -> Phase:
    return Phase((job.get("status") or {}).get("phase") or Phase.PENDING)


def _name(job: Body) -> str:
    return str(job["metadata"]["name"])


def retry_patch(job: Body) -> dict[str, Any]:
    phase = phase_of(job)
    if phase != Phase.FAILED:
        raise Refused(f"mediajob {_name(job)} is {phase}, not Failed: only a failed job is retried")
    spec, status = job.get("spec") or {}, job.get("status") or {}
    asked = max(int(spec.get("manualRetries") or 0), int(status.get("manualRetries") or 0))
    priority = int(spec.get("priority") or 5)
    return {"manualRetries": asked + 1, "priority": max(HIGHEST_PRIORITY, priority - 1)}


def cancel_patch(job: Body) -> dict[str, Any]:
    phase = phase_of(job)
    if phase.finished:
        raise Refused(f"mediajob {_name(job)} has already finished ({phase})")
    return {"cancel": True}


def pause_patch(job: Body) -> dict[str, Any]:
    phase = phase_of(job)
    if phase.finished:
        raise Refused(f"mediajob {_name(job)} has already finished ({phase})")
    if (job.get("spec") or {}).get("suspend"):
        raise Refused(f"mediajob {_name(job)} is already paused")
    return {"suspend": True}


def resume_patch(job: Body) -> dict[str, Any]:
    if not (job.get("spec") or {}).get("suspend"):
        raise Refused(f"mediajob {_name(job)} is not paused ({phase_of(job)})")
    return {"suspend": False}


def resubmitted(job: Body) -> dict[str, Any]:
    """A new MediaJob with JOB's spec and labels, named by the API server after JOB."""
    meta = job["metadata"]
    spec = {k: v for k, v in (job.get("spec") or {}).items() if k not in _NOT_RESUBMITTED}
    metadata: dict[str, Any] = {"generateName": _name(job)[:GENERATE_NAME_STEM].rstrip("-.") + "-"}
    if meta.get("labels"):
        metadata["labels"] = dict(meta["labels"])
    return {
        "apiVersion": job["apiVersion"],
        "kind": job["kind"],
        "metadata": metadata,
        "spec": spec,
    }


def attempt_pod(job: Body, pods: Sequence[Body]) -> Body:
    """The pod of JOB's current or last attempt: the newest of its Job's pods."""
    status = job.get("status") or {}
    if not status.get("jobName"):
        raise Refused(f"mediajob {_name(job)} has not started an attempt ({phase_of(job)})")
    if not pods:
        raise Refused(f"mediajob {_name(job)}: no pod of Job {status['jobName']} is left")
    return max(
        pods, key=lambda p: (p["metadata"].get("creationTimestamp", ""), p["metadata"]["name"])
    )


def secret_of(session: Body, default_name: str, default_key: str) -> tuple[str, str]:
    """The Secret (name, key) a HitlSession's cookies go to."""
    ref = (session.get("spec") or {}).get("credentialsSecretRef") or {}
    return str(ref.get("name") or default_name), str(ref.get("key") or default_key)


def session_open(session: Body) -> bool:
    return (session.get("status") or {}).get("phase") in (None, "Pending", "InProgress")
