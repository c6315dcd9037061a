"""Namespaces' fair-share weights, as their labels say (scheduling/weights.py's rules).

Read cheaply: one informer per watched scope, metadata only, selecting the
namespaces that carry the weight label (a namespace whose label goes leaves
the selection: the API server reports it DELETED), and for an operator bound
to some namespaces, each by name (the chart's RBAC grants those names only).
It runs only while fair share is on, and is optional: where RBAC does not let
the operator list namespaces (the chart grants it), it says so once in its log
and the config's weights apply alone. A label that is no weight is logged and
said in a Warning Event in that namespace, once per value; the namespace then
weighs what it would without the label.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mediajobs.clock import Clock
from mediajobs.kube.port import Api, Selection, namespaces_path
from mediajobs.kube.watch import Informer
from mediajobs.scheduling.weights import WEIGHT_LABEL, effective, parse_weight

log = logging.getLogger("mediajobs.namespaces")


@dataclass
class NamespaceWeights:
    configured: Mapping[str, float]  # the operator config's: they win
    labelled: dict[str, float] = field(default_factory=dict)
    said: dict[str, str] = field(default_factory=dict)  # namespace -> the bad value said
    version: int = 0  # moves when the weights admission reads change

    def weights(self) -> dict[str, float]:
        return effective(self.labelled, self.configured)

    def observe(self, event_type: str | None, body: Mapping[str, Any]) -> str | None:
        """Take a namespace's event in; why its label is ignored, the first time it is."""
        meta = body["metadata"]
        name = meta["name"]
        value = (meta.get("labels") or {}).get(WEIGHT_LABEL)
        parsed = parse_weight(value) if event_type != "DELETED" and value is not None else None
        weight = parsed if isinstance(parsed, float) else None
        if self.labelled.get(name) != weight:
            if weight is None:
                del self.labelled[name]
            else:
                self.labelled[name] = weight
            self.version += 1
        if not isinstance(parsed, str):
            self.said.pop(name, None)
            return None
        if self.said.get(name) == value:
            return None
        self.said[name] = str(value)
        return f"{parsed}; namespace {name} keeps weight {self.weights().get(name, 1.0):g}"


def informers(
    api: Api,
    scopes: list[str | None],
    handle: Callable[[str, Mapping[str, Any]], None],
    clock: Clock,
) -> list[Informer]:
    """The watches of the labelled namespaces in SCOPES (None: every namespace)."""
    return [
        Informer(
            api,
            namespaces_path(),
            handle,
            selection=Selection(
                labels=WEIGHT_LABEL,
                fields=None if ns is None else f"metadata.name={ns}",
                metadata_only=True,
            ),
            clock=clock,
            optional=True,  # without RBAC on namespaces, the config's weights apply
        )
        for ns in scopes
    ]


def warn(
    api: Api, body: Mapping[str, Any], message: str, now: datetime
) -> Coroutine[Any, Any, None]:
    """The Warning Event that says a namespace's weight label is ignored, and why."""
    meta = body["metadata"]
    log.warning("%s", message)
    involved = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "name": meta["name"],
        "namespace": meta["name"],  # shown to the namespace's own users
        "uid": meta["uid"],
    }
    return api.post_event(
        involved, type_="Warning", reason="InvalidFairShareWeight", message=message, now=now
    )
