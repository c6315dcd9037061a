"""Helpers for operator tests: status reads, bounded waits, a sampler of running Jobs."""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.localcluster import WAIT_LONG, Kubectl, wait_for


def status(ns: Kubectl, name: str) -> dict[str, Any]:
    return ns.get("mj", name).get("status", {})  # type: ignore[no-any-return]


def wait_phase(ns: Kubectl, name: str, phase: str, timeout: float = WAIT_LONG) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        current = status(ns, name)
        return current if current.get("phase") == phase else None

    return wait_for(f"{name} to be {phase}", probe, timeout)


def events_of(ns: Kubectl, name: str) -> list[dict[str, Any]]:
    """The Events about NAME."""
    raw = ns.run(
        "get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json"
    ).stdout
    return json.loads(raw)["items"]  # type: ignore[no-any-return]


def phases(ns: Kubectl) -> dict[str, str | None]:
    return {m["metadata"]["name"]: m.get("status", {}).get("phase") for m in ns.items("mj")}


def jobs_of(ns: Kubectl, mediajob: str) -> list[dict[str, Any]]:
    uid = ns.get("mj", mediajob)["metadata"]["uid"]
    return ns.items("jobs", "-l", f"mediajobs.dev/uid={uid}")


def unfinished(job: dict[str, Any]) -> bool:
    conditions = job.get("status", {}).get("conditions") or []
    done = any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conditions)
    return not done and not job["spec"].get("suspend")


@dataclass
class JobSampler:
    """Polls the namespace's Jobs in a thread: peak unfinished Jobs per category, start order."""

    ns: Kubectl
    peak: Counter[str] = field(default_factory=Counter)
    order: list[str] = field(
        default_factory=list
    )  # MediaJob names in the order their Jobs appeared
    samples: int = 0

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> JobSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        seen: set[str] = set()
        while not self._stop.is_set():
            jobs = self.ns.items("jobs")
            running: Counter[str] = Counter()
            for job in sorted(jobs, key=lambda j: j["metadata"]["creationTimestamp"]):
                labels = job["metadata"]["labels"]
                if unfinished(job):
                    running[labels["mediajobs.dev/category"]] += 1
                name = job["metadata"]["name"]
                if name not in seen:
                    seen.add(name)
                    self.order.append(labels["mediajobs.dev/mediajob"])
            for category, count in running.items():
                self.peak[category] = max(self.peak[category], count)
            self.samples += 1
            self._stop.wait(0.1)


def all_finished(ns: Kubectl, names: list[str], timeout: float) -> dict[str, str | None]:
    def probe() -> dict[str, str | None] | None:
        now = phases(ns)
        done = all(now.get(n) in ("Succeeded", "Failed", "Cancelled") for n in names)
        return now if done else None

    return wait_for(f"{len(names)} MediaJobs to finish", probe, timeout)
