"""The Job manifest: one golden file, and the properties that matter checked one by one.

``UPDATE_GOLDEN=1 pytest tests/unit/jobs`` rewrites the golden file; review its diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.api.task import Task
from mediajobs.config import GpuPool
from mediajobs.jobs.build import build_job, suspend_patch
from mediajobs.jobs.naming import CookiesRef, credentials_ref, platform_secret_name
from mediajobs.jobs.placement import placement_for
from tests.builders import MediaJobBuilder, mediajob
from tests.unit.jobs.builders import NAMESPACE, UID, operator_config, spec_of

GOLDEN = Path(__file__).parent / "golden" / "job_reencode_streaming.yaml"
POOL = GpuPool(
    name="l4",
    node_selector={"nvidia.com/gpu.product": "NVIDIA-L4"},
    tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
)


def built(
    builder: MediaJobBuilder,
    attempt: int = 1,
    pool: GpuPool | None = None,
    *,
    run: int | None = None,
    cookies: CookiesRef | None = None,
    **config: Any,
) -> dict[str, Any]:
    spec = spec_of(builder)
    placement = placement_for(spec)
    return build_job(
        name=builder.obj()["metadata"]["name"],
        namespace=NAMESPACE,
        uid=UID,
        spec=spec,
        attempt=attempt,
        run=attempt if run is None else run,
        placement=placement,
        config=operator_config(**config),
        pool=pool if pool is not None or placement.gpus == 0 else POOL,
        cookies=cookies,
    )


def pod_spec(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def worker(job: dict[str, Any]) -> dict[str, Any]:
    [container] = pod_spec(job)["containers"]
    return container  # type: ignore[no-any-return]


def task_in(job: dict[str, Any]) -> Task:
    [env] = [e for e in worker(job)["env"] if e["name"] == "MEDIAJOB_TASK"]
    return Task.model_validate_json(env["value"])


def test_golden_job() -> None:
    builder = (
        mediajob("reencode-intro", "reencode_streaming")
        .params(preset="medium", crf=23)
        .creator("alice")
        .spec(output={"path": "playback/intro.mp4"}, priority=3, deadlineSeconds=3600)
    )
    text = yaml.safe_dump(built(builder, attempt=2), sort_keys=False, width=100)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "the built Job changed: UPDATE_GOLDEN=1 and review the diff"


def test_owner_reference_makes_the_mediajob_collect_its_job() -> None:
    meta = built(mediajob("intro"))["metadata"]
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "mediajobs.dev/v1alpha1",
            "kind": "MediaJob",
            "name": "intro",
            "uid": UID,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["namespace"] == NAMESPACE


def test_name_and_labels_on_job_and_pods() -> None:
    job = built(mediajob("intro", "reencode_streaming"), attempt=4)
    assert job["metadata"]["name"].startswith("intro-") and job["metadata"]["name"].endswith("-4")
    labels = job["metadata"]["labels"]
    assert labels["mediajobs.dev/attempt"] == "4"
    assert labels["mediajobs.dev/category"] == "gpu_encode"
    assert job["spec"]["template"]["metadata"]["labels"] == labels


@pytest.mark.parametrize(
    ("builder", "priority_class"),
    [
        (mediajob("a", "validate"), "mediajobs-cpu"),
        (mediajob("a", "reencode_streaming"), "mediajobs-gpu-encode"),
        (mediajob("a", "scene_detect"), "mediajobs-gpu-ai"),
        (mediajob("a", "reencode_streaming").spec(category="cpu"), "mediajobs-cpu"),
    ],
)
def test_priority_class_follows_the_effective_category(
    builder: MediaJobBuilder, priority_class: str
) -> None:
    assert pod_spec(built(builder))["priorityClassName"] == priority_class


def test_gpu_placement_gets_limits_and_the_pools_node_selection() -> None:
    job = built(mediajob("a", "scene_detect").spec(resources={"gpu": 2}), pool=POOL)
    assert worker(job)["resources"] == {
        "requests": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "2"},
        "limits": {"memory": "2Gi", "nvidia.com/gpu": "2"},
    }
    assert pod_spec(job)["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    assert pod_spec(job)["tolerations"] == POOL.tolerations
    assert task_in(job).gpu


def test_cpu_placement_has_no_gpu_and_no_pool() -> None:
    job = built(mediajob("a", "validate"))
    assert worker(job)["resources"] == {
        "requests": {"cpu": "500m", "memory": "256Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert "nodeSelector" not in pod_spec(job) and "tolerations" not in pod_spec(job)
    assert not task_in(job).gpu


@pytest.mark.parametrize(
    ("builder", "pool"),
    [(mediajob("a", "validate"), POOL), (mediajob("a", "reencode_streaming"), None)],
)
def test_a_pool_goes_with_gpu_placements_only(
    builder: MediaJobBuilder, pool: GpuPool | None
) -> None:
    spec = spec_of(builder)
    with pytest.raises(ValueError, match="GPU pool"):
        build_job(
            name="a",
            namespace=NAMESPACE,
            uid=UID,
            spec=spec,
            attempt=1,
            run=1,
            placement=placement_for(spec),
            config=operator_config(),
            pool=pool,
        )


def test_security_context() -> None:
    job = built(mediajob("a"))
    pod = pod_spec(job)
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False
    assert worker(job)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # The read-only root leaves exactly two writable places: the media volume and /tmp.
    assert {m["mountPath"] for m in worker(job)["volumeMounts"]} == {"/media", "/tmp"}
    assert {v["name"]: v for v in pod["volumes"]}["scratch"] == {"name": "scratch", "emptyDir": {}}


def test_retries_belong_to_the_operator() -> None:
    spec = built(mediajob("a"))["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["suspend"] is False
    assert pod_spec(built(mediajob("a")))["restartPolicy"] == "Never"
    rules = spec["podFailurePolicy"]["rules"]
    assert rules[0] == {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    }
    assert [(r["action"], r["onExitCodes"]["values"]) for r in rules[1:]] == [
        ("FailJob", [2]),
        ("FailJob", [3]),
        ("FailJob", [75]),
    ]
    assert all(r["onExitCodes"]["containerName"] == "worker" for r in rules[1:])


@pytest.mark.parametrize(("deadline", "expected"), [(None, None), (900, 900)])
def test_deadline(deadline: int | None, expected: int | None) -> None:
    spec = built(mediajob("a").spec(deadlineSeconds=deadline))["spec"]
    assert spec.get("activeDeadlineSeconds") == expected


@pytest.mark.parametrize(
    ("operation", "image", "command"),
    [
        (
            "reencode_streaming",
            "docker.io/local/mediajobs-ffmpeg-worker:0.1.0",
            ["mediajobs", "worker"],
        ),
        ("validate", "docker.io/local/mediajobs-ffmpeg-worker:0.1.0", ["mediajobs", "worker"]),
        ("scrape_profile", "docker.io/local/mediajobs-scraper:0.1.0", ["mediajobs", "scrape"]),
        ("publish_post", "docker.io/local/mediajobs-scraper:0.1.0", ["mediajobs", "scrape"]),
    ],
)
def test_image_and_command_by_runner(operation: str, image: str, command: list[str]) -> None:
    container = worker(built(mediajob("a", operation).creator("alice", "fansly")))
    assert (container["image"], container["command"]) == (image, command)
    assert container["imagePullPolicy"] == "IfNotPresent"


def test_custom_container_env_mapping() -> None:
    builder = mediajob("onboard", "custom").spec(
        container={
            "image": "registry.example/onboard:1.2",
            "command": ["python", "-m", "onboard"],
            "args": ["--phase", "bio"],
            "env": [
                {"name": "MODEL", "value": "large"},
                {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm", "key": "key"}}},
                {"name": "MEDIAJOB_TASK", "value": "spoofed"},
            ],
        }
    )
    container = worker(built(builder, images={"pullPolicy": "Never"}))
    assert container["image"] == "registry.example/onboard:1.2"
    assert container["command"] == ["python", "-m", "onboard"]
    assert container["args"] == ["--phase", "bio"]
    assert container["imagePullPolicy"] == "Never"
    assert container["env"][:2] == [
        {"name": "MODEL", "value": "large"},
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "llm", "key": "key"}}},
    ]
    # The task always goes in, and the user's env cannot replace it.
    [task_env] = [e for e in container["env"] if e["name"] == "MEDIAJOB_TASK"]
    assert Task.model_validate_json(task_env["value"]).name == "onboard"


def test_custom_container_keeps_the_images_entrypoint() -> None:
    container = worker(built(mediajob("a", "custom").spec(container={"image": "x:1"})))
    assert "command" not in container and "args" not in container
    assert [e["name"] for e in container["env"]] == ["MEDIAJOB_TASK"]


def test_custom_without_a_container_is_refused() -> None:
    # The CRD's CEL rule requires it; the Python model alone does not.
    with pytest.raises(ValueError, match=r"requires spec\.container"):
        built(mediajob("a", "custom"))


def test_task_env_is_compact_json() -> None:
    value = worker(built(mediajob("a")))["env"][0]["value"]
    assert value == json.dumps(json.loads(value), separators=(",", ":"))
    assert task_in(built(mediajob("a"))).uid == UID


def test_config_reaches_the_pod() -> None:
    job = built(
        mediajob("a"),
        jobServiceAccount="mediajobs-worker",
        terminationGraceSeconds=90,
        media={"source": {"hostPath": {"path": "/srv/media"}}, "mountPath": "/library"},
    )
    pod = pod_spec(job)
    assert pod["serviceAccountName"] == "mediajobs-worker"
    assert pod["terminationGracePeriodSeconds"] == 90
    assert pod["volumes"][0] == {"name": "media", "hostPath": {"path": "/srv/media"}}
    assert worker(job)["volumeMounts"][0] == {"name": "media", "mountPath": "/library"}
    assert task_in(job).media_root == "/library"


def test_no_service_account_by_default() -> None:
    assert "serviceAccountName" not in pod_spec(built(mediajob("a")))


def test_termination_message() -> None:
    container = worker(built(mediajob("a")))
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"


@pytest.mark.parametrize("suspend", [True, False])
def test_suspend_patch(suspend: bool) -> None:
    assert suspend_patch(suspend) == {"spec": {"suspend": suspend}}


def test_scraper_pods_mount_their_platform_session_secret_read_only() -> None:
    builder = mediajob("a", "scrape_profile").no_input().creator("alice", "fansly")
    job = built(builder, cookies=credentials_ref("alice", "fansly", None))
    pod = pod_spec(job)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["session"] == {
        "name": "session",
        "secret": {
            "secretName": platform_secret_name("alice", "fansly"),
            "items": [{"key": "cookies.json", "path": "cookies.json"}],
            "defaultMode": 0o440,
            "optional": True,
        },
    }
    mounts = {m["name"]: m for m in worker(job)["volumeMounts"]}
    assert mounts["session"] == {
        "name": "session",
        "mountPath": "/var/run/mediajobs/session",
        "readOnly": True,
    }
    assert task_in(job).cookies_file == "/var/run/mediajobs/session/cookies.json"
    assert pod["automountServiceAccountToken"] is False
    # Only the cookies travel: never the Secret's other keys, never in the env.
    assert all("valueFrom" not in e for e in worker(job)["env"])


def test_a_scraper_pod_mounts_the_secret_and_key_it_is_given() -> None:
    """The Secret a session's credentialsSecretRef names (the one the operator checked
    before admission: lifecycle/logins.py login_ref), its key seen as cookies.json."""
    builder = mediajob("a", "scrape_profile").no_input().creator("alice", "fansly")
    job = built(builder, cookies=CookiesRef("alice-browser-login", "state.json"))
    [volume] = [v for v in pod_spec(job)["volumes"] if v["name"] == "session"]
    assert volume["secret"]["secretName"] == "alice-browser-login"
    assert volume["secret"]["items"] == [{"key": "state.json", "path": "cookies.json"}]
    assert task_in(job).cookies_file == "/var/run/mediajobs/session/cookies.json"


def test_a_run_names_the_job_and_both_numbers_label_it() -> None:
    """A run after a logout is a new Job of the same attempt (jobs/naming.py)."""
    job = built(mediajob("a", "scrape_profile").no_input().creator("alice", "fansly"), 1, run=2)
    assert job["metadata"]["name"].endswith("-2")
    for labels in (job["metadata"]["labels"], job["spec"]["template"]["metadata"]["labels"]):
        assert (labels["mediajobs.dev/attempt"], labels["mediajobs.dev/run"]) == ("1", "2")
    assert task_in(job).attempt == 1


@pytest.mark.parametrize(
    "builder",
    [
        mediajob("a", "reencode_streaming").creator("alice", "fansly"),
        mediajob("a", "custom").spec(container={"image": "x:1"}).creator("alice", "fansly"),
    ],
)
def test_no_other_pod_gets_a_session_secret(builder: MediaJobBuilder) -> None:
    job = built(builder)
    assert [v["name"] for v in pod_spec(job)["volumes"]] == ["media", "scratch"]
    assert "session" not in [m["name"] for m in worker(job)["volumeMounts"]]
    assert task_in(job).cookies_file is None
    with pytest.raises(ValueError, match="only a scraper pod"):
        built(builder, cookies=credentials_ref("alice", "fansly", None))


def test_the_task_carries_the_jobs_platform_config_only() -> None:
    platforms = {
        "fansly": {"adapter": "browser", "baseUrl": "https://fansly.example"},
        "other": {"baseUrl": "https://other.example"},
    }
    builder = mediajob("a", "scrape_profile").no_input().creator("bob", "fansly")
    task = task_in(built(builder, platforms=platforms))
    assert task.platform_config is not None
    assert task.platform_config.wire() == {
        **task.platform_config.wire(),
        "adapter": "browser",
        "baseUrl": "https://fansly.example",
    }
    unconfigured = task_in(built(mediajob("a", "scrape_profile").no_input().creator("b", "x")))
    assert unconfigured.platform_config is None
