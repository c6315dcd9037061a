"""Operator configuration: defaults, partial overrides, YAML loading."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from mediajobs.api.common import Category
from mediajobs.api.platform import AdapterKind, StepKind
from mediajobs.config import OperatorConfig, load_config
from mediajobs.controller.queues import limits_from
from mediajobs.scheduling.preempt import allows


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


def test_platforms_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "platforms:\n"
        "  fanplace:\n"
        "    adapter: browser\n"
        "    baseUrl: https://fanplace.example\n"
        "    login: {url: /login, markers: [Log in to continue]}\n"
        "    profile: {path: '/u/{profile}', steps: [{goto: '/u/{profile}'}, {waitFor: .n}]}\n"
    )
    [(name, platform)] = load_config(path).platforms.items()
    assert (name, platform.adapter, platform.login.markers) == (
        "fanplace",
        AdapterKind.BROWSER,
        ["Log in to continue"],
    )
    assert platform.profile is not None and platform.profile.steps is not None
    assert [s.kind for s in platform.profile.steps] == [StepKind.GOTO, StepKind.WAIT_FOR]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"baseUrl": "ftp://x.example"}, "must be an http:// or https:// URL"),
        ({"baseUrl": "https://x.example", "adapter": "curl"}, "Input should be 'http' or"),
        (
            {"baseUrl": "https://x.example",
             "profile": {"path": "/", "steps": [{"goto": "/", "click": "a"}]}},
            "a step does exactly one thing, this one sets ['goto', 'click']",
        ),
        (
            {"baseUrl": "https://x.example", "post": {"path": "/", "steps": [{"goto": "/"}]}},
            "post.steps are the browser adapter's (adapter: browser)",
        ),
        (
            {"baseUrl": "https://x.example", "adapter": "browser",
             "profile": {"path": "/", "format": "json"}},
            "profile has format json: JSON endpoints are the http adapter's",
        ),
    ],
)  # fmt: skip
def test_bad_platforms_are_refused(entry: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        OperatorConfig.model_validate({"platforms": {"p": entry}})


def test_preemption_is_opt_in_per_category_and_reaches_admission(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "limits:\n"
        "  gpu_ai: {maxRunning: 1, preemption: {policy: LowerPriority, minRuntimeSeconds: 60}}\n"
        "fairShare: {weights: {team-a: 2}}\n"
    )
    limits = limits_from(load_config(path))
    assert [allows(limits.preemption, c) for c in Category] == [False, False, True]
    assert limits.preemption[Category.GPU_AI].min_runtime_seconds == 60
    assert limits.preemption[Category.GPU_AI].protect_progress_percent == 80
    assert limits.fair_share == {"team-a": 2}
    assert limits.fair_preemption is False  # off by default
    off = OperatorConfig.model_validate({"fairShare": {"enabled": False}})
    assert limits_from(off).fair_share is None
    fair = {"fairShare": {"preemption": {"enabled": True}}}
    assert limits_from(OperatorConfig.model_validate(fair)).fair_preemption is True
    fair["fairShare"]["enabled"] = False  # type: ignore[index]
    assert limits_from(OperatorConfig.model_validate(fair)).fair_preemption is False


def test_bad_preemption_and_weights_are_refused_with_a_reason() -> None:
    with pytest.raises(ValidationError, match=r"Never.*LowerPriority"):
        OperatorConfig.model_validate({"limits": {"cpu": {"maxRunning": 1, "preemption": {
            "policy": "Always"}}}})  # fmt: skip
    with pytest.raises(ValidationError, match=r"weights must be > 0 \(namespaces: b\)"):
        OperatorConfig.model_validate({"fairShare": {"weights": {"a": 1, "b": 0}}})
