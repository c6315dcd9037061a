"""The API server itself enforces the CRDs: examples apply, bad manifests are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import hitlsession, mediajob
from tests.localcluster import REPO, Kubectl

EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: Path(p).stem)
def test_example_applies_cleanly(ns: Kubectl, example: Path) -> None:
    result = ns.run("apply", "-f", str(example))
    assert "created" in result.stdout
    assert "Warning" not in result.stderr


# (id, manifest, fragments the API server's message must contain: the field, then why)
INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "priority-0",
        mediajob("bad").priority(0).obj(),
        ["spec.priority", "greater than or equal to 1"],
    ),
    (
        "priority-11",
        mediajob("bad").priority(11).obj(),
        ["spec.priority", "less than or equal to 10"],
    ),
    (
        "path-and-url",
        mediajob("bad").spec(input={"path": "a.mp4", "url": "https://cdn.example.com/a.mp4"}).obj(),
        ["spec.input", "exactly one of path or url"],
    ),
    (
        "neither-path-nor-url",
        mediajob("bad").spec(input={}).obj(),
        ["spec.input", "exactly one of path or url"],
    ),
    ("dot-dot", mediajob("bad").path("../etc/passwd").obj(), ["spec.input.path", "no '..'"]),
    ("dot-dot-inside", mediajob("bad").path("a/../../b.mp4").obj(), ["spec.input.path", "no '..'"]),
    ("absolute", mediajob("bad").path("/etc/passwd").obj(), ["spec.input.path", "relative path"]),
    (
        "file-url",
        mediajob("bad").url("file:///etc/passwd").obj(),
        ["spec.input.url", "http:// or https://"],
    ),
    (
        "ftp-url",
        mediajob("bad").url("ftp://example.com/a.mp4").obj(),
        ["spec.input.url", "http:// or https://"],
    ),
    (
        "output-escapes",
        mediajob("bad").spec(output={"prefix": "out/../../etc"}).obj(),
        ["spec.output.prefix", "no '..'"],
    ),
    (
        "unknown-operation",
        mediajob("bad", "transmogrify").obj(),
        ["spec.operation", "Unsupported value"],
    ),
    (
        "param-of-another-operation",
        mediajob("bad", "resize_image").params(width=320, crf=20).obj(),
        ["spec.params", "resize_image does not take param(s): crf"],
    ),
    (
        "unknown-param",
        mediajob("bad", "resize_image").params(width=320, sharpen=True).obj(),
        ['unknown field "spec.params.sharpen"'],
    ),
    (
        "param-out-of-range",
        mediajob("bad", "reencode_streaming").params(crf=60).obj(),
        ["spec.params.crf", "less than or equal to 51"],
    ),
    (
        "missing-required-param",
        mediajob("bad", "convert_image").obj(),
        ["spec.params", "convert_image requires params: format"],
    ),
    (
        "negative-retry-limit",
        mediajob("bad").spec(retry={"limit": -1}).obj(),
        ["spec.retry.limit", "greater than or equal to 0"],
    ),
    (
        "container-without-custom",
        mediajob("bad").spec(container={"image": "busybox"}).obj(),
        ["spec.container", "allowed only with operation custom"],
    ),
    (
        "custom-without-container",
        mediajob("bad", "custom").no_input().obj(),
        ["spec.container", "operation custom requires container"],
    ),
    (
        "quad-with-three-inputs",
        mediajob("bad", "compile_quad").inputs("a.mp4", "b.mp4", "c.mp4").obj(),
        ["spec", "compile_quad: need exactly 4 inputs"],
    ),
    (
        "scrape-with-input",
        mediajob("bad", "scrape_profile").creator("alice", "onlyfans").obj(),
        ["spec", "take no input"],
    ),
    (
        "scrape-without-platform",
        mediajob("bad", "scrape_profile").no_input().creator("alice").obj(),
        ["spec.platform", "platform is required for"],
    ),
    (
        "unknown-category",
        mediajob("bad").spec(category="tpu").obj(),
        ["spec.category", "Unsupported value"],
    ),
    (
        "hitl-unknown-session-type",
        hitlsession("bad", sessionType="captcha"),
        ["spec.sessionType", "Unsupported value"],
    ),
    (
        "hitl-resolved-and-cancelled",
        hitlsession("bad", resolution={"method": "oauth"}, cancel=True),
        ["spec", "either resolved or cancelled"],
    ),
    (
        "hitl-unknown-resolution-method",
        hitlsession("bad", resolution={"method": "carrier_pigeon"}),
        ["spec.resolution.method", "Unsupported value"],
    ),
]


@pytest.mark.parametrize(
    ("manifest", "fragments"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_invalid_manifest_is_rejected_with_the_field_named(
    ns: Kubectl, manifest: dict[str, Any], fragments: list[str]
) -> None:
    result = ns.apply(manifest, check=False)
    assert result.returncode != 0, f"accepted: {json.dumps(manifest)}"
    for fragment in fragments:
        assert fragment in result.stderr
    kind = manifest["kind"].lower()
    assert ns.get_or_none(kind, manifest["metadata"]["name"]) is None


def test_defaults_are_applied_by_the_api_server(ns: Kubectl) -> None:
    ns.apply(mediajob("defaults").obj())
    spec = ns.get("mj", "defaults")["spec"]
    assert spec["priority"] == 5
    assert spec["retry"] == {
        "limit": 3,
        "backoff": {"seconds": 120, "factor": 2, "maxSeconds": 3600},
    }
    assert spec["suspend"] is False and spec["cancel"] is False


def test_operation_and_inputs_are_immutable(ns: Kubectl) -> None:
    ns.apply(mediajob("frozen").obj())
    result = ns.run(
        "patch",
        "mj",
        "frozen",
        "--type=merge",
        "-p",
        '{"spec":{"operation":"scene_detect"}}',
        check=False,
    )
    assert result.returncode != 0 and "operation is immutable" in result.stderr
    result = ns.run(
        "patch",
        "mj",
        "frozen",
        "--type=merge",
        "-p",
        '{"spec":{"input":{"path":"other.mp4"}}}',
        check=False,
    )
    assert result.returncode != 0 and "input is immutable" in result.stderr
    ns.run("patch", "mj", "frozen", "--type=merge", "-p", '{"spec":{"priority":1,"suspend":true}}')
    assert ns.get("mj", "frozen")["spec"]["priority"] == 1


def test_printer_columns(ns: Kubectl) -> None:
    ns.apply(mediajob("shown", "reencode_streaming").priority(2).obj())
    header = ns.run("get", "mj").stdout.splitlines()[0].split()
    assert header == ["NAME", "OPERATION", "PHASE", "PROGRESS", "PRIORITY", "CATEGORY", "AGE"]
    row = ns.run("get", "mj", "shown", "--no-headers").stdout.split()
    assert row[:3] == ["shown", "reencode_streaming", "2"]
    wide = ns.run("get", "mj", "-o", "wide").stdout.splitlines()[0].split()
    assert {"QUEUE-POS", "JOB"} <= set(wide)


def test_status_subresource_is_separate_from_spec(ns: Kubectl) -> None:
    ns.apply(mediajob("status").obj())
    # A write to the main resource cannot set status...
    ns.run("patch", "mj", "status", "--type=merge", "-p", '{"status":{"phase":"Running"}}')
    assert ns.get("mj", "status").get("status", {}).get("phase") is None
    # ...the status subresource can, and the columns show it.
    patch = {"status": {"phase": "Running", "progress": 45, "category": "cpu", "queuePosition": 0}}
    ns.run("patch", "mj", "status", "--subresource=status", "--type=merge", "-p", json.dumps(patch))
    row = ns.run("get", "mj", "status", "--no-headers").stdout.split()
    assert row[1:6] == ["validate", "Running", "45", "5", "cpu"]
    bad = {"status": {"progress": 101}}
    result = ns.run(
        "patch",
        "mj",
        "status",
        "--subresource=status",
        "--type=merge",
        "-p",
        json.dumps(bad),
        check=False,
    )
    assert result.returncode != 0 and "status.progress" in result.stderr


def test_field_selectors(ns: Kubectl) -> None:
    ns.apply(mediajob("teaser", "create_teaser").obj())
    ns.apply(mediajob("probe", "validate").obj())
    names = ns.run(
        "get", "mj", "--field-selector", "spec.operation=create_teaser", "-o", "name"
    ).stdout.split()
    assert names == ["mediajob.mediajobs.dev/teaser"]


def test_category_media_lists_both_kinds(ns: Kubectl) -> None:
    ns.apply(mediajob("one").obj())
    ns.apply(hitlsession("alice-onlyfans"))
    names = set(ns.run("get", "media", "-o", "name").stdout.split())
    assert names == {"mediajob.mediajobs.dev/one", "hitlsession.mediajobs.dev/alice-onlyfans"}
