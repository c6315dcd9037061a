"""What each acting command asks of the API, or why it refuses (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from mediajobs.plugin import changes


def job(phase: str | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": "enc", "namespace": "ns", "labels": {"team": "a"}},
        "spec": {"operation": "transcode", "priority": 5, **spec},
        "status": {"phase": phase} if phase else {},
    }


def test_retry_raises_the_request_and_the_priority() -> None:
    assert changes.retry_patch(job("Failed")) == {"manualRetries": 1, "priority": 4}
    failed_again = job("Failed", manualRetries=1, priority=1)
    failed_again["status"]["manualRetries"] = 1
    assert changes.retry_patch(failed_again) == {"manualRetries": 2, "priority": 1}


@pytest.mark.parametrize("phase", [None, "Queued", "Running", "Succeeded", "Cancelled"])
def test_only_a_failed_job_is_retried(phase: str | None) -> None:
    with pytest.raises(changes.Refused, match=f"is {phase or 'Pending'}, not Failed"):
        changes.retry_patch(job(phase))


def test_pause_resume_cancel() -> None:
    assert changes.pause_patch(job("Running")) == {"suspend": True}
    assert changes.resume_patch(job("Suspended", suspend=True)) == {"suspend": False}
    assert changes.cancel_patch(job("Queued")) == {"cancel": True}
    with pytest.raises(changes.Refused, match="already paused"):
        changes.pause_patch(job("Suspended", suspend=True))
    with pytest.raises(changes.Refused, match=r"not paused \(Running\)"):
        changes.resume_patch(job("Running"))
    for refuse in (changes.pause_patch, changes.cancel_patch):
        with pytest.raises(changes.Refused, match=r"already finished \(Succeeded\)"):
            refuse(job("Succeeded"))


def test_resubmit_keeps_the_spec_and_labels_not_what_befell_the_old_job() -> None:
    new = changes.resubmitted(job("Cancelled", cancel=True, suspend=True, manualRetries=2))
    assert new["metadata"] == {"generateName": "enc-", "labels": {"team": "a"}}
    assert new["spec"] == {"operation": "transcode", "priority": 5}
    long = job()
    long["metadata"]["name"] = "a" * 60 + ".b"
    assert len(changes.resubmitted(long)["metadata"]["generateName"]) + 5 <= 63


def test_the_pod_of_the_current_attempt() -> None:
    running = job("Running")
    running["status"]["jobName"] = "enc-abc-2"
    pods = [
        {"metadata": {"name": "p1", "creationTimestamp": "2026-12-08T10:00:00Z"}},
        {"metadata": {"name": "p2", "creationTimestamp": "2026-12-08T11:00:00Z"}},
    ]
    assert changes.attempt_pod(running, pods)["metadata"]["name"] == "p2"
    with pytest.raises(changes.Refused, match="no pod of Job enc-abc-2"):
        changes.attempt_pod(running, [])
    with pytest.raises(changes.Refused, match=r"has not started an attempt \(Queued\)"):
        changes.attempt_pod(job("Queued"), pods)


def test_where_a_sessions_cookies_go() -> None:
    session = {"spec": {"credentialsSecretRef": {"name": "mine"}}}
    assert changes.secret_of(session, "session-x", "cookies.json") == ("mine", "cookies.json")
    default = changes.secret_of({"spec": {}}, "session-x", "cookies.json")
    assert default == ("session-x", "cookies.json")
    assert changes.session_open({"status": {"phase": "InProgress"}})
    assert not changes.session_open({"status": {"phase": "Resolved"}})
