"""`stats` computed from MediaJobs and the operator's configuration (pure)."""

from __future__ import annotations

from typing import Any

from mediajobs.config import OperatorConfig
from mediajobs.plugin.stats import computed, stats_text


def job(name: str, phase: str | None, operation: str = "validate", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": name, "namespace": "ns", "uid": name, "generation": 1,
                     "resourceVersion": "1", "creationTimestamp": "2026-12-08T10:00:00Z"},
        "spec": {"operation": operation, "input": {"path": "in.mp4"}},
        "status": {"phase": phase, **status} if phase else {},
    }  # fmt: skip


def test_counts_per_category_and_vram_per_pool() -> None:
    config = OperatorConfig.model_validate(
        {"limits": {"cpu": {"maxRunning": 3}},
         "gpuPools": [{"name": "a", "vramMiB": 16000}, {"name": "b", "vramMiB": 8000}]}
    )  # fmt: skip
    jobs = [
        job("q", "Queued"), job("p", None), job("r", "Running", jobName="r-1"),
        job("s", "Succeeded"), job("f", "Failed"), job("b", "BackingOff"), job("h", "Suspended"),
        job("enc", "Running", "reencode_streaming", jobName="enc-1"),
        job("enc2", "Running", "reencode_streaming", jobName="enc2-1"),
    ]  # fmt: skip
    figures = computed(jobs, config, {"enc-1": "a", "enc2-1": "b"})
    assert figures["queues"]["cpu"] == {
        "waiting": 2, "active": 1, "completed": 1, "failed": 1, "delayed": 2, "limit": 3,
    }  # fmt: skip
    assert figures["queues"]["gpu_encode"]["active"] == 2
    assert figures["queues"]["gpu_encode"]["limit"] == 2  # the default
    vram = figures["vram"]
    assert vram["a"]["usedMiB"] == vram["b"]["usedMiB"] > 0
    assert vram["b"]["availableMiB"] == 8000 - vram["b"]["usedMiB"]


def test_an_invalid_job_counts_nowhere() -> None:
    bad = job("bad", "Failed")
    bad["spec"]["params"] = {"nonsense": 1}
    figures = computed([bad], OperatorConfig(), {})
    assert all(sum(q.values()) - q["limit"] == 0 for q in figures["queues"].values())


def test_the_tables_read_the_operator_document_too() -> None:
    document = {
        "queues": {"cpu": {"waiting": 4, "active": 5, "completed": 9, "failed": 1,
                           "delayed": 0, "limit": 5}},
        "vram": {"default": {"usedMiB": 12000, "totalMiB": 16000, "availableMiB": 4000}},
        "leader": True,
    }  # fmt: skip
    text = stats_text(document, "the operator's /stats")
    assert text.splitlines()[1].split() == ["cpu", "4", "5", "9", "1", "0", "5"]
    assert "default   12000" in text and "75%" in text
    assert text.endswith("Source: the operator's /stats")
