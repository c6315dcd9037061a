"""Effective category and resources: the catalog's, overridden by the spec."""

from __future__ import annotations

from typing import Any

import pytest

from mediajobs.api.common import Category
from mediajobs.jobs.placement import Placement, PlacementError, placement_for
from tests.builders import mediajob
from tests.unit.jobs.builders import spec_of

CPU, ENC, AI = Category.CPU, Category.GPU_ENCODE, Category.GPU_AI


@pytest.mark.parametrize(
    ("operation", "fields", "expected"),
    [
        ("validate", {}, Placement(CPU, "500m", "256Mi", 0, 0)),
        ("reencode_streaming", {}, Placement(ENC, "2", "2Gi", 1, 4000)),
        ("scene_detect", {}, Placement(AI, "2", "2Gi", 1, 8000)),
        (
            "reencode_streaming",
            {"resources": {"cpu": 4, "memory": "6Gi", "gpu": 2, "vramMiB": 9000}},
            Placement(ENC, "4", "6Gi", 2, 9000),
        ),
        ("reencode_streaming", {"resources": {"vramMiB": 0}}, Placement(ENC, "2", "2Gi", 1, 0)),
        # An encode run on CPU: no GPU, no VRAM, the worker falls back to libx264.
        ("reencode_streaming", {"category": "cpu"}, Placement(CPU, "2", "2Gi", 0, 0)),
        ("reencode_streaming", {"category": "gpu_ai"}, Placement(AI, "2", "2Gi", 1, 4000)),
        (
            "validate",
            {"resources": {"gpu": 0, "vramMiB": 0}},
            Placement(CPU, "500m", "256Mi", 0, 0),
        ),
        # A CPU operation moved to a GPU category holds a GPU; its VRAM is what it says.
        ("validate", {"category": "gpu_encode"}, Placement(ENC, "500m", "256Mi", 1, 0)),
        (
            "custom",
            {
                "input": None,
                "container": {"image": "docker.io/local/x:1"},
                "category": "gpu_ai",
                "resources": {"vramMiB": 12000, "memory": 4294967296},
            },
            Placement(AI, "1", "4294967296", 1, 12000),
        ),
        (
            "validate",
            {"resources": {"cpu": "1.5", "memory": "1e9"}},
            Placement(CPU, "1.5", "1e9", 0, 0),
        ),
    ],
)
def test_placement(operation: str, fields: dict[str, Any], expected: Placement) -> None:
    assert placement_for(spec_of(mediajob("a", operation).spec(**fields))) == expected


@pytest.mark.parametrize(
    ("operation", "fields", "message"),
    [
        ("validate", {"resources": {"gpu": 1}}, "need a GPU category"),
        ("validate", {"resources": {"vramMiB": 1000}}, "need a GPU category"),
        ("reencode_streaming", {"category": "cpu", "resources": {"gpu": 1}}, "need a GPU category"),
        ("reencode_streaming", {"resources": {"gpu": 0}}, "set category: cpu"),
        ("validate", {"resources": {"memory": "2 GB"}}, "spec.resources.memory: '2 GB'"),
        ("validate", {"resources": {"cpu": "-1"}}, "spec.resources.cpu"),
        ("validate", {"resources": {"cpu": "two"}}, "not a Kubernetes quantity"),
    ],
)
def test_invalid_placement(operation: str, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(PlacementError, match=message):
        placement_for(spec_of(mediajob("a", operation).spec(**fields)))
