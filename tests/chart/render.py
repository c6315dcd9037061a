"""The chart rendered by `helm template` (hack/generate.py's), as objects."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from tests.localcluster import REPO

VALUES = Path(__file__).resolve().parent / "values"
# Each values file of the rendering tests; "defaults" is values.yaml alone.
CASES = {"defaults": None} | {p.stem: p for p in sorted(VALUES.glob("*.yaml"))}


def load_hack_generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("hack_generate", REPO / "hack" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["hack_generate"] = module
    spec.loader.exec_module(module)
    return module


HACK = load_hack_generate()


def render_text(values: Path | None = None, *args: str, tests: bool = True) -> str:
    return str(HACK.template(*args, values=[values] if values else [], tests=tests))


def render(values: Path | None = None, *args: str, tests: bool = True) -> list[dict[str, Any]]:
    """Every object the chart renders with VALUES (and ARGS, e.g. --set)."""
    return [o for o in yaml.safe_load_all(render_text(values, *args, tests=tests)) if o]


def of_kind(objects: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: Sequence[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} rendered"
    return found[0]
