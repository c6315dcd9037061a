"""The API server itself enforces the CRDs: examples apply, bad manifests are refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import hitlsession, mediajob
from tests.hostile import HOSTILE_PATHS, HOSTILE_URLS, NO_CONTROL, NO_SPACE
from tests.localcluster import REPO, Kubectl, wait_for

EXAMPLES = sorted((REPO / "manifests" / "examples").glob("*.yaml"))


def step(name: str, **spec: Any) -> dict[str, Any]:
    return {"name": name, "spec": {"operation": "validate", "input": {"path": "a.mp4"}, **spec}}


def schedule_of_steps(*steps: dict[str, Any], **template: Any) -> dict[str, Any]:
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJobSchedule",
        "metadata": {"name": "bad"},
        "spec": {"schedule": "@daily", "jobTemplate": {"steps": list(steps), **template}},
    }


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
        ["spec.input", "exactly one of path, url or fromJob"],
    ),
    (
        "neither-path-nor-url",
        mediajob("bad").spec(input={}).obj(),
        ["spec.input", "exactly one of path, url or fromJob"],
    ),
    (
        "path-and-from-job",
        mediajob("bad").spec(input={"path": "a.mp4", "fromJob": "a"}, dependsOn=["a"]).obj(),
        ["spec.input", "exactly one of path, url or fromJob"],
    ),
    (
        "output-without-from-job",
        mediajob("bad").spec(input={"path": "a.mp4", "output": 1}).obj(),
        ["spec.input.output", "set it only with fromJob"],
    ),
    (
        "from-job-not-depended-on",
        mediajob("bad").spec(input={"fromJob": "a"}).obj(),
        ["spec.dependsOn", "every input's fromJob must be listed in dependsOn"],
    ),
    (
        "from-job-in-inputs-not-depended-on",
        mediajob("bad", "compile_concat")
        .spec(input=None, inputs=[{"path": "x.mp4"}, {"fromJob": "b"}], dependsOn=["a"])
        .obj(),
        ["spec.dependsOn", "every input's fromJob must be listed in dependsOn"],
    ),
    (
        "depends-on-itself",
        mediajob("bad").spec(dependsOn=["a", "bad"]).obj(),
        ["spec.dependsOn", "a MediaJob cannot depend on itself"],
    ),
    (
        "depends-on-twice",
        mediajob("bad").spec(dependsOn=["a", "a"]).obj(),
        ["spec.dependsOn[1]", "Duplicate value"],
    ),
    (
        "unknown-on-dependency-failure",
        mediajob("bad").spec(dependsOn=["a"], onDependencyFailure="Retry").obj(),
        ["spec.onDependencyFailure", "Unsupported value"],
    ),
    (
        "schedule-step-depends-on-no-step",
        schedule_of_steps(step("a", dependsOn=["nope"])),
        ["spec.jobTemplate.steps", "a step's dependsOn must name other steps"],
    ),
    (
        "schedule-step-depends-on-itself",
        schedule_of_steps(step("a"), step("b", dependsOn=["b"])),
        ["spec.jobTemplate.steps", "a step's dependsOn must name other steps"],
    ),
    (
        "schedule-steps-and-spec",
        schedule_of_steps(step("a"), spec={"operation": "validate", "input": {"path": "a"}}),
        ["spec.jobTemplate", "give exactly one of spec and steps"],
    ),
    (
        "schedule-step-names-twice",
        schedule_of_steps(step("a"), step("a")),
        ["spec.jobTemplate.steps[1]", "Duplicate value"],
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
    # Every path field refuses a NUL (test_hostile_paths_and_urls tries more on input.path).
    (
        "nul-in-inputs-path",
        mediajob("bad", "compile_concat").inputs("a.mp4", "b\x00.mp4").obj(),
        ["spec.inputs[1].path", NO_CONTROL],
    ),
    (
        "nul-in-output-path",
        mediajob("bad").spec(output={"path": "out/x\x00.mp4"}).obj(),
        ["spec.output.path", NO_CONTROL],
    ),
    (
        "nul-in-output-prefix",
        mediajob("bad").spec(output={"prefix": "out\x00/"}).obj(),
        ["spec.output.prefix", NO_CONTROL],
    ),
    (
        "nul-in-watermark-image",
        mediajob("bad", "apply_watermark").creator("alice").params(image="logo\x00.png").obj(),
        ["spec.params.image", NO_CONTROL],
    ),
    (
        "watermark-image-escapes",
        mediajob("bad", "apply_watermark").creator("alice").params(image="../secret.png").obj(),
        ["spec.params.image", "no '..'"],
    ),
    # Bounds: lengths and counts a user could otherwise grow without limit.
    ("path-too-long", mediajob("bad").path("x" * 1025).obj(), ["spec.input.path", "1024"]),
    (
        "too-many-inputs",
        mediajob("bad", "compile_concat").inputs(*[f"{i}.mp4" for i in range(65)]).obj(),
        ["spec.inputs", "64"],
    ),
    (
        "container-arg-too-long",
        mediajob("bad", "custom").spec(container={"image": "busybox", "args": ["x" * 4097]}).obj(),
        ["spec.container.args[0]", "4096"],
    ),
    (
        "nul-in-container-env",
        mediajob("bad", "custom")
        .spec(container={"image": "busybox", "env": [{"name": "A", "value": "x\x00"}]})
        .obj(),
        ["spec.container.env[0].value", "must not contain a NUL"],
    ),
    (
        "container-image-with-space",
        mediajob("bad", "custom").spec(container={"image": "busybox latest"}).obj(),
        ["spec.container.image", NO_SPACE],
    ),
    (
        "env-from-a-bad-secret-name",
        mediajob("bad", "custom")
        .spec(
            container={
                "image": "busybox",
                "env": [{"name": "T", "valueFrom": {"secretKeyRef": {"name": "A_B", "key": "k"}}}],
            }
        )
        .obj(),
        ["spec.container.env[0].valueFrom.secretKeyRef.name"],
    ),
    (
        "cpu-not-a-quantity",
        mediajob("bad").spec(resources={"cpu": "lots"}).obj(),
        ["spec.resources.cpu", "must be a Kubernetes quantity"],
    ),
    (
        "memory-too-long",
        mediajob("bad").spec(resources={"memory": "1" * 65}).obj(),
        ["spec.resources.memory", "64"],
    ),
    (
        "ttl-past-int32",
        mediajob("bad").spec(ttlSecondsAfterFinished=2**31).obj(),
        ["spec.ttlSecondsAfterFinished", "less than or equal to 2147483647"],
    ),
    (
        "watermark-text-on-two-lines",
        mediajob("bad", "apply_watermark").creator("alice").params(text="a\nb").obj(),
        ["spec.params.text", NO_CONTROL],
    ),
    (
        "caption-with-an-escape",
        mediajob("bad", "publish_post")
        .creator("alice", "onlyfans")
        .params(caption="\x1b[2J")
        .obj(),
        ["spec.params.caption", "must not contain control characters"],
    ),
    (
        "post-id-with-space",
        mediajob("bad", "scrape_post_performance")
        .no_input()
        .creator("alice", "onlyfans")
        .params(postIds=["1 2"])
        .obj(),
        ["spec.params.postIds[0]", NO_SPACE],
    ),
    (
        "hitl-alert-with-direction-override",
        hitlsession("bad", alertMessage="log in \u202eereh"),
        ["spec.alertMessage", "direction overrides"],
    ),
    (
        "hitl-bad-secret-key",
        hitlsession("bad", credentialsSecretRef={"name": "cookies", "key": "a/b"}),
        ["spec.credentialsSecretRef.key"],
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


def test_hostile_paths_and_urls(ns: Kubectl) -> None:
    """The strings the models refuse (tests/unit/test_api_strings.py), refused at apply."""
    cases = [(mediajob("bad").path(p).obj(), "spec.input.path", why) for p, why in HOSTILE_PATHS]
    cases += [(mediajob("bad").url(u).obj(), "spec.input.url", why) for u, why in HOSTILE_URLS]
    for manifest, field, why in cases:
        result = ns.apply(manifest, check=False)
        value = manifest["spec"]["input"]
        assert result.returncode != 0, f"accepted: {value!r}"
        assert f"{field}: Invalid value" in result.stderr and why in result.stderr, value
    assert ns.get_or_none("mj", "bad") is None


def test_ordinary_paths_and_urls_apply(ns: Kubectl) -> None:
    ns.apply(mediajob("spaces").path("library/alice/a b (1).mp4").obj())
    ns.apply(mediajob("emoji").path("famille/\U0001f468\u200d\U0001f469.jpg").obj())
    ns.apply(mediajob("encoded").url("https://cdn.example.com/a%20b.mp4?sig=x").obj())
    ns.apply(mediajob("cpu").spec(resources={"cpu": "500m", "memory": 1073741824}).obj())
    names = ns.run("get", "mj", "-o", "name").stdout.split()
    assert len(names) == 4


@pytest.mark.parametrize(
    ("field", "fragment"),
    [
        ("mediajob.spec.params", "each operation takes only its own"),
        ("mediajob.spec.params.width", "thumbnail_generate (default 640)"),
        ("mediajob.spec.retry.backoff", "The delay between attempts"),
        ("mediajob.spec.input.path", "relative to the media volume"),
        ("mediajob.status.conditions", "kubectl wait"),
        ("hitlsession.spec.credentialsSecretRef", "renewed cookies"),
    ],
)
def test_kubectl_explain_describes_fields(kube: Kubectl, field: str, fragment: str) -> None:
    """kubectl explain reads the API server's published schema: the models' words are there."""

    def explained() -> str | None:
        # The API server publishes a new CRD's OpenAPI a moment after it is Established.
        result = kube.run("explain", field, check=False)
        return result.stdout if result.returncode == 0 else None

    out = wait_for(f"kubectl explain {field}", explained)
    description = out.split("DESCRIPTION:", 1)[1]
    assert fragment in " ".join(description.split()), out


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
