"""What is generated from the chart and the models is committed as generated: no drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mediajobs.api.common import Category, Operation
from mediajobs.cli import main
from tests.chart.render import HACK
from tests.localcluster import REPO

CHART = REPO / "charts" / "mediajobs"


def test_chart_crd_templates_match_generation(tmp_path: Path) -> None:
    main(["crds", "--out", str(tmp_path / "crds"), "--chart-templates", str(tmp_path / "t")])
    generated = sorted((tmp_path / "t").iterdir())
    assert [p.name for p in generated] == [
        "crd-hitlsessions.yaml",
        "crd-mediajobs.yaml",
        "crd-mediajobschedules.yaml",
    ]
    for path in generated:
        committed = (CHART / "templates" / path.name).read_text()
        assert path.read_text() == committed, f"templates/{path.name} is stale: run `make crds`"


def test_manifests_match_the_chart() -> None:
    for path, text in HACK.manifests().items():
        assert path.read_text() == text, (
            f"{path} is stale: run `python3 hack/generate.py manifests`"
        )


def test_readme_values_reference_and_operation_table_are_current() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    readme = (REPO / "README.md").read_text()
    assert HACK.readme_generated(readme, schema) == readme, (
        "README.md's values reference or operation table is stale: "
        "run `python3 hack/generate.py docs`"
    )


def test_operation_table_names_every_operation_once() -> None:
    table = HACK.operation_table()
    assert table.count("| `validate` | cpu | 0 | 1 | — |") == 1
    params = "`crf`, `targetBitrate`, `preset` medium, `audioBitrate` 128"
    assert f"| `compress_video` | gpu_encode | 2000 | 1 | {params} |" in table
    assert "`format` (required)" in table  # convert_image's


def test_every_value_is_described() -> None:
    """Each key of the schema, however deep, says what it is for (the reference shows it)."""

    def undescribed(schema: dict[str, Any], path: str) -> list[str]:
        found = []
        for key, prop in schema.get("properties", {}).items():
            here = f"{path}.{key}" if path else key
            found += [] if prop.get("description") else [here]
            found += undescribed(prop, here)
            found += undescribed(prop.get("items", {}), f"{here}[]")
        return found

    schema = json.loads((CHART / "values.schema.json").read_text())
    assert undescribed(schema, "") == []


def test_schema_names_the_catalog_operations_and_categories() -> None:
    """Tier operations and category keys are checked by the schema against these lists."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    tiers = schema["properties"]["tiers"]["properties"]["tiers"]["additionalProperties"]
    assert tiers["items"]["enum"] == [o.value for o in Operation]
    limits = schema["properties"]["config"]["properties"]["limits"]["properties"]
    quotas = schema["properties"]["namespaceDefaults"]["properties"]["quotas"]["properties"]
    assert list(limits) == list(quotas) == [c.value for c in Category]
