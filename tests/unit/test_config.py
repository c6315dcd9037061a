"""Operator configuration: defaults, partial overrides, YAML loading."""

from __future__ import annotations

from pathlib import Path

from mediajobs.api.common import Category
from mediajobs.config import OperatorConfig, load_config


def test_reference_defaults() -> None:
    config = OperatorConfig()
    assert [config.limit(c).max_running for c in Category] == [5, 2, 1]
    assert [p.vram_mib for p in config.gpu_pools] == [16000]
    assert config.retention.succeeded_seconds == 86400
    assert config.retention.failed_seconds == 7 * 86400


def test_naming_one_category_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("limits:\n  cpu: {maxRunning: 1, startsPerMinute: 30}\n")
    config = load_config(path)
    assert config.limit(Category.CPU).max_running == 1
    assert config.limit(Category.CPU).starts_per_minute == 30
    assert config.limit(Category.GPU_ENCODE).max_running == 2
    assert config.limit(Category.GPU_AI).max_running == 1


def test_no_file_means_defaults() -> None:
    assert load_config(None) == OperatorConfig()
