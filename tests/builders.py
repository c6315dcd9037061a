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
