"""Test builders: manifests from a few chained calls instead of hand-written dicts."""

from __future__ import annotations

import copy
from typing import Any

from mediajobs.api.common import API_VERSION


class MediaJobBuilder:
    def __init__(self, name: str, operation: str = "validate") -> None:
        self._obj: dict[str, Any] = {
            "apiVersion": API_VERSION,
            "kind": "MediaJob",
            "metadata": {"name": name},
            "spec": {"operation": operation, "input": {"path": "in/clip.mp4"}},
        }

    def spec(self, **fields: Any) -> MediaJobBuilder:
        """Set (or, with None, remove) top-level spec fields, by their wire names."""
        for key, value in fields.items():
            if value is None:
                self._obj["spec"].pop(key, None)
            else:
                self._obj["spec"][key] = value
        return self

    def operation(self, operation: str) -> MediaJobBuilder:
        return self.spec(operation=operation)

    def path(self, path: str) -> MediaJobBuilder:
        return self.spec(input={"path": path}, inputs=None)

    def url(self, url: str) -> MediaJobBuilder:
        return self.spec(input={"url": url}, inputs=None)

    def inputs(self, *paths: str) -> MediaJobBuilder:
        return self.spec(input=None, inputs=[{"path": p} for p in paths])

    def no_input(self) -> MediaJobBuilder:
        return self.spec(input=None, inputs=None)

    def params(self, **params: Any) -> MediaJobBuilder:
        return self.spec(params=params)

    def priority(self, priority: int) -> MediaJobBuilder:
        return self.spec(priority=priority)

    def creator(self, profile: str, platform: str | None = None) -> MediaJobBuilder:
        return self.spec(creatorProfile=profile, platform=platform)

    def labels(self, **labels: str) -> MediaJobBuilder:
        self._obj["metadata"].setdefault("labels", {}).update(labels)
        return self

    def kwok(
        self,
        run_for: str | None = None,
        exit_code: int | None = None,
        reason: str | None = None,
        waiting: str | None = None,
    ) -> MediaJobBuilder:
        """How KWOK should end this job's pod (hack/kwok/stages.yaml), or keep its worker
        WAITING with that reason; labels reach the pod."""
        wanted = {"run-for": run_for, "exit-code": exit_code, "reason": reason, "waiting": waiting}
        return self.labels(
            **{f"kwok.mediajobs.dev/{k}": str(v) for k, v in wanted.items() if v is not None}
        )

    def category(
        self, category: str, gpu: int | None = None, vram: int | None = None
    ) -> MediaJobBuilder:
        resources = {k: v for k, v in {"gpu": gpu, "vramMiB": vram}.items() if v is not None}
        return self.spec(category=category, resources=resources or None)

    def retry(
        self, limit: int, seconds: int = 1, factor: float = 2, max_seconds: int = 60
    ) -> MediaJobBuilder:
        backoff = {"seconds": seconds, "factor": factor, "maxSeconds": max_seconds}
        return self.spec(retry={"limit": limit, "backoff": backoff})

    def obj(self) -> dict[str, Any]:
        return copy.deepcopy(self._obj)


def mediajob(name: str, operation: str = "validate") -> MediaJobBuilder:
    return MediaJobBuilder(name, operation)


def hitlsession(name: str, **spec: Any) -> dict[str, Any]:
    base = {"creatorProfile": "alice", "platform": "onlyfans", "sessionType": "login_required"}
    return {
        "apiVersion": API_VERSION,
        "kind": "HitlSession",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


def category_quota(name: str, priority_class: str, **hard: str) -> dict[str, Any]:
    """A ResourceQuota scoped to one category's PriorityClass, as a cluster admin writes it."""
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": name},
        "spec": {
            "hard": hard,
            "scopeSelector": {
                "matchExpressions": [
                    {"scopeName": "PriorityClass", "operator": "In", "values": [priority_class]}
                ]
            },
        },
    }
