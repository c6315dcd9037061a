"""crds/ is generated from the models; the generated schema is structural."""

from __future__ import annotations

import json
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
from mediajobs.api.schedule_crd import schedule_crd
from mediajobs.api.strings import NO_CONTROL, RELATIVE
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


CRDS = [mediajob_crd(contracts()), hitlsession_crd()]


@pytest.mark.parametrize("crd", CRDS, ids=["mj", "hitl"])
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
        for bound in ("minimum", "maximum"):  # a bool is an int to Python: not to the API
            if bound in node:
                value = node[bound]
                assert isinstance(value, int | float) and not isinstance(value, bool), path


def test_int_or_string_keeps_the_string_bound_and_its_rule() -> None:
    cpu = structural(Resources)["properties"]["cpu"]
    assert cpu["x-kubernetes-int-or-string"] is True
    assert cpu["maxLength"] == 64
    assert "type" not in cpu
    assert [r["rule"] for r in cpu["x-kubernetes-validations"]] == [
        "type(self) == int || isQuantity(self)"
    ]
    spec = structural(MediaJobSpec)
    assert spec["properties"]["priority"] == {
        "default": 5,
        "description": "Queue priority, 1 (highest) to 10 (lowest); default 5.",
        "maximum": 10,
        "minimum": 1,
        "type": "integer",
    }


def _root(crd: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _properties(node: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    """Every property under NODE (through objects and list items), by its kubectl explain path."""
    found = []
    for name, prop in node.get("properties", {}).items():
        found.append((f"{path}.{name}", prop))
        found.extend(_properties(prop, f"{path}.{name}"))
    if "items" in node:
        found.extend(_properties(node["items"], path))
    return found


@pytest.mark.parametrize("crd", CRDS, ids=["mj", "hitl"])
def test_every_field_and_object_is_described(crd: dict[str, Any]) -> None:
    """kubectl explain shows a description for each field, objects included."""
    root = _root(crd)
    kind = crd["spec"]["names"]["singular"]
    # metadata is ObjectMeta: the API server describes it and refuses anything we add.
    missing = [
        path
        for path, prop in _properties(root, kind)
        if not prop.get("description") and path != f"{kind}.metadata"
    ]
    assert root.get("description") and missing == []
    objects = [p for p, prop in _properties(root, kind) if "properties" in prop]
    assert {f"{kind}.spec", f"{kind}.status"} <= set(objects)


def test_object_fields_keep_their_description_when_inlined() -> None:
    spec = _root(mediajob_crd(contracts()))["properties"]["spec"]["properties"]
    assert spec["retry"]["description"].startswith("How failed attempts are retried")
    backoff = spec["retry"]["properties"]["backoff"]
    assert backoff["description"].startswith("The delay between attempts")
    assert "maxSeconds" in backoff["properties"]
    # A model without a field-level description lends its docstring, on one line.
    assert spec["inputs"]["items"]["description"] == (
        "One input: a file on the media volume (path), an http(s) URL (url), or a file another "
        "MediaJob of the namespace wrote (fromJob, with output); set exactly one of the three."
    )
    assert "\n" not in str(spec["container"]["description"])


def test_params_say_which_operations_take_them_and_their_defaults() -> None:
    params = _root(mediajob_crd(contracts()))["properties"]["spec"]["properties"]["params"]
    assert "thumbnail_generate: timestamp, width, format, quality" in params["description"]
    width = params["properties"]["width"]["description"]
    assert width.startswith("Width in pixels. Taken by resize_image, ")
    assert "thumbnail_generate (default 640)" in width and "compile_gif (default 480)" in width
    assert "convert_image (required)" in params["properties"]["format"]["description"]
    assert 'publish_post (default "")' in params["properties"]["caption"]["description"]


@pytest.mark.parametrize("crd", CRDS, ids=["mj", "hitl"])
def test_everything_a_user_writes_is_bounded(crd: dict[str, Any]) -> None:
    """Strings have a maxLength (or an enum or format), lists a maxItems: no unbounded
    input, and CEL's cost estimate has bounds to work with."""
    spec = _root(crd)["properties"]["spec"]
    unbounded = []
    for path, prop in _properties(spec, "spec"):
        for node, where in ((prop, path), (prop.get("items", {}), f"{path}[]")):
            is_text = node.get("type") == "string" or node.get("x-kubernetes-int-or-string")
            if is_text and not {"maxLength", "enum", "format"} & node.keys():
                unbounded.append(where)
            if node.get("type") == "array" and "maxItems" not in node:
                unbounded.append(where)
    assert unbounded == []


PATH_FIELDS = [
    ("input", "path"),
    ("inputs", "path"),
    ("output", "path"),
    ("output", "prefix"),
    ("params", "image"),
]


@pytest.mark.parametrize(("parent", "name"), PATH_FIELDS, ids=[".".join(f) for f in PATH_FIELDS])
def test_every_path_field_refuses_control_characters_and_escapes(parent: str, name: str) -> None:
    spec = _root(mediajob_crd(contracts()))["properties"]["spec"]["properties"]
    holder = spec[parent].get("items", spec[parent])
    field = holder["properties"][name]
    assert field["maxLength"] == 1024
    assert [r["rule"] for r in field["x-kubernetes-validations"]] == [
        NO_CONTROL.cel,
        RELATIVE.cel,
    ]


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


@pytest.mark.parametrize(
    "crd",
    [*CRDS, schedule_crd(contracts())],
    ids=lambda c: c["spec"]["names"]["kind"],
)
def test_a_crd_fits_kubectl_applys_annotation(crd: dict[str, Any]) -> None:
    """Client-side `kubectl apply` (the kustomize base) stores the object as JSON in an
    annotation of at most 256 KiB; keep a quarter of it spare."""
    assert len(json.dumps(crd, separators=(",", ":"))) < 196_608
