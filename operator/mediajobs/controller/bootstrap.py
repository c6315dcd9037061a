"""Cluster objects the operator needs before its first Job: the category PriorityClasses.

Worker pods carry their category's PriorityClass so that per-namespace
ResourceQuotas scoped to it count them. The classes never preempt anything:
they exist to scope quotas, not to rank pods.
"""

from __future__ import annotations

from typing import Any

from mediajobs.api.common import Category
from mediajobs.kube.port import Api

PRIORITY_CLASSES_PATH = "/apis/scheduling.k8s.io/v1/priorityclasses"


def priority_classes() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {
                "name": c.priority_class,
                "labels": {"app.kubernetes.io/managed-by": "mediajobs"},
            },
            "value": 0,
            "preemptionPolicy": "Never",
            "globalDefault": False,
            "description": f"mediajobs {c.value} workers (ResourceQuotas select it)",
        }
        for c in Category
    ]


async def ensure_priority_classes(kube: Api) -> None:
    for body in priority_classes():
        await kube.create(PRIORITY_CLASSES_PATH, body)  # a 409 means it is there
