"""The operation catalog and the params models."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from mediajobs.api.common import Category, Operation
from mediajobs.api.mediajob import MediaJob
from mediajobs.catalog import CATALOG, NONE, Runner, entry, parse_params

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))


def test_every_operation_has_an_entry() -> None:
    assert set(CATALOG) == set(Operation)


@pytest.mark.parametrize(
    ("operation", "category", "vram"),
    [
        ("reencode_streaming", Category.GPU_ENCODE, 4000),
        ("compile_quad", Category.GPU_ENCODE, 4000),
        ("scene_detect", Category.GPU_AI, 8000),
        ("validate", Category.CPU, 0),
        ("thumbnail_generate", Category.CPU, 0),
        ("compile_gif", Category.CPU, 0),
    ],
)
def test_reference_categories_and_vram(operation: str, category: Category, vram: int) -> None:
    e = entry(operation)
    assert (e.category, e.vram_mib) == (category, vram)


def test_gpu_categories_and_priority_classes() -> None:
    assert not Category.CPU.uses_gpu and Category.GPU_AI.uses_gpu
    assert Category.GPU_ENCODE.priority_class == "mediajobs-gpu-encode"


def test_scrapers_take_no_input() -> None:
    assert entry("scrape_profile").inputs == NONE
    assert entry("scrape_profile").runner is Runner.SCRAPER


@pytest.mark.parametrize(
    ("operation", "raw", "expected"),
    [
        ("compress_video", {}, {"crf": 28, "preset": "medium", "audioBitrate": 128}),
        (
            "compress_video",
            {"targetBitrate": 900},
            {"targetBitrate": 900, "preset": "medium", "audioBitrate": 128},
        ),
        ("thumbnail_generate", {}, {"width": 640, "format": "jpeg", "quality": 85}),
        (
            "reencode_streaming",
            {},
            {"preset": "medium", "crf": 23, "targetBitrate": 2000, "audioBitrate": 128},
        ),
        ("strip_metadata", None, {}),
    ],
)
def test_defaults(
    operation: str, raw: dict[str, object] | None, expected: dict[str, object]
) -> None:
    assert parse_params(operation, raw).wire() == expected


@pytest.mark.parametrize(
    ("operation", "raw", "message"),
    [
        ("apply_watermark", {}, "exactly one of text or image"),
        ("apply_watermark", {"text": "a", "image": "b.png"}, "exactly one of text or image"),
        ("compress_video", {"crf": 20, "targetBitrate": 900}, "not both"),
        ("resize_video", {}, "set width, height or both"),
        ("resize_image", {"width": 100, "mode": "fill"}, "needs both width and height"),
        ("resize_image", {"width": 100, "crf": 3}, "Extra inputs are not permitted"),
        ("convert_image", {}, "format"),
    ],
)
def test_invalid_params(operation: str, raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_params(operation, raw)


def test_examples_cover_every_operation_and_validate() -> None:
    seen = set()
    docs = [doc for path in EXAMPLES for doc in yaml.safe_load_all(path.read_text())]
    for doc in docs:
        if doc["kind"] != "MediaJob":
            continue
        job = MediaJob.model_validate(doc)
        parse_params(job.spec.operation, job.spec.params)
        seen.add(job.spec.operation)
    assert seen == set(Operation)
    assert any(doc["kind"] == "HitlSession" for doc in docs)
