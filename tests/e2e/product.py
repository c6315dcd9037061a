"""The product installed by its own chart on the real node, and the demo set run on it.

One installer for the tests and `make run`: hack/release.py, hack/demo_library.py and
hack/demo_jobs.py, loaded as modules. While the demo runs, a sampler records what a
person watching `kubectl get mj,pods` would have seen: every job's progress and the
worker pods running at each moment, by category.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.localcluster import Kubectl, load_hack
from tests.scraper.conftest import browser_platform, http_platform

release_mod = load_hack("release")
library_mod = load_hack("demo_library")
jobs_mod = load_hack("demo_jobs")

NAMESPACE: str = jobs_mod.NAMESPACE
RELEASE_NAMESPACE: str = release_mod.RELEASE_NAMESPACE
FINISHED = ("Succeeded", "Failed", "Cancelled")
CATEGORY_LABEL = "mediajobs.dev/category"
MEDIAJOB_LABEL = "mediajobs.dev/mediajob"
# Scrape and publish jobs (test_product_scrape.py) run in a namespace of their own, where
# the operator may read the platform session Secrets, against the fake platform's two faces.
SCRAPE_NAMESPACE = "mediajobs-scrape"
HTTP_PLATFORM, BROWSER_PLATFORM = "fakeplace", "fakeplace-js"
PLATFORM_STARTS_PER_MINUTE = 30  # one start every 2 s: the order of starts is visible


def scrape_values(platform_url: str) -> dict[str, Any]:
    """The chart values for the fake platform at PLATFORM_URL (a private address: allowed)."""
    host = urlsplit(platform_url).hostname
    return {
        "namespaces": [{"name": NAMESPACE}, {"name": SCRAPE_NAMESPACE, "secrets": True}],
        "config": {
            "allowPrivateUrls": True,
            "platforms": {
                HTTP_PLATFORM: http_platform(platform_url),
                BROWSER_PLATFORM: browser_platform(platform_url),
            },
            "platformStartRates": {HTTP_PLATFORM: PLATFORM_STARTS_PER_MINUTE},
        },
        # The workers' egress blocks private ranges; this one address is let through.
        "networkPolicy": {"extraEgress": [{"to": [{"ipBlock": {"cidr": f"{host}/32"}}]}]},
    }


def install_product(kube: Kubectl, media: Path, platform_url: str) -> None:
    release = release_mod.Release(
        kube.kubeconfig,
        namespaces=(NAMESPACE, SCRAPE_NAMESPACE),
        media=media,
        overrides=scrape_values(platform_url),
    )
    release_mod.install(release)


def make_library(media: Path) -> None:
    library_mod.make_library(media)


def demo_jobs() -> list[dict[str, Any]]:
    return jobs_mod.demo_jobs()  # type: ignore[no-any-return]


def phase_of(job: dict[str, Any]) -> str:
    return str(job.get("status", {}).get("phase") or "")


@dataclass
class Sampled:
    """What was seen while jobs ran: progress values per job, running pods per category."""

    progress: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    running: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # the most seen
    started: dict[str, float] = field(default_factory=dict)  # job -> first seen Running
    samples: int = 0


class Sampler(threading.Thread):
    """Polls the namespace's MediaJobs and pods until stopped (a daemon: never blocks exit)."""

    def __init__(self, kube: Kubectl) -> None:
        super().__init__(daemon=True)
        self.kube = kube
        self.seen = Sampled()
        self.halt = threading.Event()
        self.jobs: dict[str, dict[str, Any]] = {}  # the latest listing, by name
        self.error: AssertionError | None = None  # the last failed listing

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                self.sample()
            except AssertionError as err:  # kubectl failed once: say so, sample on
                self.error = err
            self.halt.wait(0.3)

    def sample(self) -> None:
        jobs = self.kube.items("mediajobs")
        pods = self.kube.items("pods")
        now = time.monotonic()
        self.jobs = {j["metadata"]["name"]: j for j in jobs}
        for job in jobs:
            name, status = job["metadata"]["name"], job.get("status", {})
            if status.get("progress") is not None and status.get("phase") == "Running":
                self.seen.progress[name].add(int(status["progress"]))
            if status.get("phase") == "Running":
                self.seen.started.setdefault(name, now)
        running: dict[str, int] = defaultdict(int)
        for pod in pods:
            category = pod["metadata"].get("labels", {}).get(CATEGORY_LABEL)
            if category and pod.get("status", {}).get("phase") == "Running":
                running[category] += 1
        for category, count in running.items():
            self.seen.running[category] = max(self.seen.running[category], count)
        self.seen.samples += 1

    def stop(self) -> Sampled:
        self.halt.set()
        self.join(timeout=30)
        return self.seen


def apply_jobs(kube: Kubectl, jobs: list[dict[str, Any]]) -> None:
    kube.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": jobs}))


def all_finished(
    jobs: dict[str, dict[str, Any]], names: list[str]
) -> dict[str, dict[str, Any]] | None:
    """JOBS when every one of NAMES has finished."""
    return jobs if all(phase_of(jobs.get(n, {})) in FINISHED for n in names) else None
