"""crds/ is generated from the models; the generated schema is structural."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mediajobs.api.crd import (
    OperationContract,
    SchemaConflictError,
    hitlsession_crd,
    mediajob_crd,
    params_union,
    structural,
)
from mediajobs.api.mediajob import MediaJobSpec, Resources
from mediajobs.catalog import contracts
from mediajobs.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_crds_directory_matches_generation(tmp_path: Path) -> None:
    main(["crds", "--out", str(tmp_path)])
    generated = sorted(p.name for p in tmp_path.iterdir())
    committed = sorted(p.name for p in (REPO / "crds").glob("*.yaml"))
    assert generated == committed
    for name in generated:
        assert (tmp_path / name).read_text() == (REPO / "crds" / name).read_text(), (
            f"crds/{name} is stale: run `make crds`"
        )


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            found.extend(_walk(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_walk(value, f"{path}/{i}"))
    return found


@pytest.mark.parametrize("crd", [mediajob_crd(contracts()), hitlsession_crd()], ids=["mj", "hitl"])
def test_schema_is_structural(crd: dict[str, Any]) -> None:
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        if "/x-kubernetes-validations" in path:
            continue
        for forbidden in ("$ref", "$defs", "anyOf", "allOf", "oneOf", "title", "const"):
            assert forbidden not in node, f"{forbidden} at {path}"
        assert node.get("additionalProperties") is not False, path
        for bound in ("exclusiveMinimum", "exclusiveMaximum"):
            if bound in node:
                assert node[bound] is True, f"{bound} must be boolean in OpenAPI v3.0 at {path}"


def test_int_or_string_and_free_form_fields() -> None:
    schema = structural(Resources)
    assert schema["properties"]["cpu"] == {
        "x-kubernetes-int-or-string": True,
        "description": "CPU request, e.g. 2 or 500m.",
    }
    spec = structural(MediaJobSpec)
    assert spec["properties"]["priority"] == {
        "default": 5,
        "description": "1 is the highest, 10 the lowest.",
        "maximum": 10,
        "minimum": 1,
        "type": "integer",
    }


def test_crd_metadata_names_columns_and_selectors() -> None:
    crd = mediajob_crd(contracts())
    names = crd["spec"]["names"]
    assert names["shortNames"] == ["mj"] and names["categories"] == ["media"]
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    columns = [
        c["name"].upper() for c in version["additionalPrinterColumns"] if "priority" not in c
    ]
    assert columns == ["OPERATION", "PHASE", "PROGRESS", "PRIORITY", "CATEGORY", "AGE"]
    assert {"jsonPath": ".spec.operation"} in version["selectableFields"]
    hitl = hitlsession_crd()
    assert hitl["spec"]["names"]["shortNames"] == ["hitl"]


class _A(BaseModel):
    width: int = 3


class _B(BaseModel):
    width: str = "x"


def test_params_union_refuses_a_name_with_two_meanings() -> None:
    with pytest.raises(SchemaConflictError, match="width"):
        params_union([OperationContract("a", _A, 1, 1), OperationContract("b", _B, 1, 1)])


def test_params_union_has_no_defaults() -> None:
    union = params_union(contracts())
    assert [path for path, node in _walk(union) if "default" in node] == []
