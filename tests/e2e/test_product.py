"""The product on the real node, installed by its chart: the demo set and what a user
does to running jobs (delete a pod, delete a MediaJob, lose the leader).

The demo's jobs, files and sampler are hack/demo_jobs.py, hack/demo_library.py and
tests/e2e/product.py; every check here is on real pods that ran FFmpeg, with the
outputs read back from the media folder on the host.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mediajobs.worker.stego import detect_file, payload_for
from tests.e2e.conftest import DemoRun, Product
from tests.e2e.product import (
    MEDIAJOB_LABEL,
    RELEASE_NAMESPACE,
    jobs_mod,
    phase_of,
)
from tests.localcluster import WAIT_LONG, Kubectl, wait_for

# The first test sets the session's cluster, chart and demo up (minutes on 2 cores).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PLUGIN = Path(sys.executable).parent / "kubectl-mediajobs"  # [project.scripts], installed
LONG_INPUT = "vault/alice/full-video.mp4"  # 45 s: time enough to act while it runs


def ffprobe(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def video(probe: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in probe["streams"] if s["codec_type"] == "video")


def codecs(probe: dict[str, Any]) -> list[str]:
    return [s["codec_name"] for s in probe["streams"]]


def duration(probe: dict[str, Any]) -> float:
    return float(probe["format"]["duration"])


def top_level_boxes(path: Path) -> list[str]:
    """The ISO BMFF boxes at the top of an MP4, in file order (faststart: moov before mdat)."""
    boxes, data, at = [], path.read_bytes(), 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        boxes.append(data[at + 4 : at + 8].decode("latin-1"))
        size = int.from_bytes(data[at + 8 : at + 16], "big") if size == 1 else size
        if size < 8:
            break
        at += size
    return boxes


def output(demo: DemoRun, product: Product, job: str, index: int = 0) -> Path:
    return product.media / demo.jobs[job]["status"]["result"]["outputs"][index]["path"]


def long_job(name: str, out: str, preset: str = "medium") -> dict[str, Any]:
    job = copy.deepcopy(jobs_mod.example("reencode_streaming"))
    job["metadata"]["name"] = name
    job["spec"]["input"] = {"path": LONG_INPUT}
    job["spec"]["output"] = {"path": out}
    job["spec"]["params"]["preset"] = preset  # medium: about a minute of work on 2 busy cores
    job["spec"]["resources"] = {"cpu": jobs_mod.CPU}
    return job  # type: ignore[no-any-return]


def status(kube: Kubectl, name: str) -> dict[str, Any]:
    found = kube.get_or_none("mediajob", name)
    return (found or {}).get("status", {})  # type: ignore[no-any-return]


def running_pod(kube: Kubectl, job: str) -> str | None:
    """The name of JOB's worker pod once it runs and has reported progress."""
    if not (status(kube, job).get("progress") or 0) > 0:
        return None
    pods = kube.items("pods", f"--selector={MEDIAJOB_LABEL}={job}")
    live = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
    return str(live[0]["metadata"]["name"]) if live else None


def finished(kube: Kubectl, name: str, timeout: float = 300) -> dict[str, Any]:
    return wait_for(
        f"{name} to finish",
        lambda: (s := status(kube, name)).get("phase") in ("Succeeded", "Failed") and s,
        timeout=timeout,
    )


# ---- the install -------------------------------------------------------------------


def test_the_chart_runs_two_operator_replicas_in_cluster_one_leading(product: Product) -> None:
    system = product.kube.in_namespace(RELEASE_NAMESPACE)
    pods = system.items("pods", "--selector=app.kubernetes.io/component=operator")
    assert len(pods) == 2
    for pod in pods:
        container = pod["spec"]["containers"][0]
        assert container["image"].startswith("docker.io/local/mediajobs-operator:")
        assert container["imagePullPolicy"] == "Never"
        ready = {c["type"]: c["status"] for c in pod["status"]["conditions"]}["Ready"]
        assert ready == "True", pod["metadata"]["name"]
        logs = system.run("logs", pod["metadata"]["name"]).stdout
        # in-cluster login: the pod's ServiceAccount token, the API server through its Service
        assert "as the service account token /var/run/secrets/kubernetes.io" in logs, logs[-2000:]
    leader = system.get("lease", "mediajobs-operator")["spec"]["holderIdentity"]
    assert leader in {p["metadata"]["name"] for p in pods}
    assert "holding lease" in system.run("logs", leader).stdout


# ---- the demo set -------------------------------------------------------------------


def test_every_demo_job_reaches_its_phase(demo: DemoRun) -> None:
    expected = jobs_mod.expected_phases()
    seen = {name: phase_of(demo.jobs[name]) for name in expected}
    assert seen == expected, {n: demo.jobs[n].get("status", {}).get("message") for n in seen}


def test_every_output_is_on_the_media_volume_as_the_status_says(
    demo: DemoRun, product: Product
) -> None:
    count = 0
    for job in demo.jobs.values():
        for out in (job.get("status", {}).get("result") or {}).get("outputs", []):
            data = (product.media / out["path"]).read_bytes()
            assert len(data) == out["bytes"], out
            assert hashlib.sha256(data).hexdigest() == out["sha256"], out
            count += 1
    writers = [j for j in jobs_mod.demo_jobs() if "output" in j["spec"]]  # not scene_detect
    assert count == len(writers) - 1  # all but the corrupt one wrote


def test_outputs_have_the_promised_properties(demo: DemoRun, product: Product) -> None:
    streaming = output(demo, product, "reencode-streaming")
    probe = ffprobe(streaming)
    assert codecs(probe) == ["h264", "aac"]
    assert abs(duration(probe) - 10) < 0.5
    boxes = top_level_boxes(streaming)
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # faststart

    teaser = ffprobe(output(demo, product, "create-teaser"))
    assert video(teaser)["width"] == 720
    assert abs(duration(teaser) - 12) < 0.5

    thumb = ffprobe(output(demo, product, "thumbnail-generate"))
    assert (video(thumb)["codec_name"], video(thumb)["width"]) == ("mjpeg", 640)

    # the phone clip: stored landscape, rotate=90; the watermarked copy plays upright
    marked = output(demo, product, "apply-watermark")
    result = demo.jobs["apply-watermark"]["status"]["result"]["outputs"][0]
    assert (result["width"], result["height"]) == (360, 640)
    assert "h264" in codecs(ffprobe(marked))

    tags = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", str(output(demo, product, "strip-metadata"))],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert not [k for k in json.loads(tags)[0] if k.startswith("GPS") or k.endswith(":Make")]

    delivered = output(demo, product, "apply-steganographic-watermark")
    assert detect_file(delivered) == payload_for("alice", "fan-8841")

    quad = demo.jobs["compile-quad"]["status"]["result"]["outputs"][0]
    probe = ffprobe(output(demo, product, "compile-quad"))
    assert (video(probe)["width"], video(probe)["height"]) == (quad["width"], quad["height"])
    assert video(probe)["codec_name"] == "h264"


def test_progress_between_0_and_100_was_seen_while_running(demo: DemoRun) -> None:
    for job in ("reencode-streaming", "create-teaser"):
        values = demo.seen.progress[job]
        assert any(0 < p < 100 for p in values), (job, sorted(values))


def test_category_caps_held_and_the_queue_ran_by_priority(demo: DemoRun) -> None:
    running = dict(demo.seen.running)
    assert running.get("gpu_ai") == 1, running  # the cap (chart default), and it was used
    assert running.get("gpu_encode", 0) <= 2, running
    assert running.get("cpu", 0) <= 5, running
    started = demo.seen.started
    order = sorted((n for n, _ in jobs_mod.QUEUE), key=lambda n: started[n])
    assert order == ["queue-high", "queue-mid", "queue-low"], started


def test_corrupt_input_fails_once_with_the_workers_reason_and_an_event(
    demo: DemoRun, product: Product
) -> None:
    failed = demo.jobs[jobs_mod.CORRUPT]["status"]
    assert failed["attempts"] == 1
    message = failed["message"]
    assert "input is truncated or corrupt" in message
    assert "\n" not in message
    events = product.kube.items(
        "events", f"--field-selector=involvedObject.name={jobs_mod.CORRUPT}"
    )
    assert any("input is truncated or corrupt" in e.get("message", "") for e in events), [
        e.get("message") for e in events
    ]
    assert not (product.media / "thumbnails" / "broken.jpg").exists()


def test_kubectl_logs_of_a_job_pod(demo: DemoRun, product: Product) -> None:
    pods = product.kube.items("pods", f"--selector={MEDIAJOB_LABEL}=reencode-streaming")
    assert pods
    logs = product.kube.run("logs", pods[0]["metadata"]["name"])
    assert logs.stdout.strip(), logs.stderr
    # The plugin finds the same pod from the MediaJob (its last attempt's Job) and reads
    # the same log through the API server (KWOK pods have no log: only here is one read).
    assert len(pods) == 1
    env = {**os.environ, "KUBECONFIG": str(product.kube.kubeconfig)}
    ns = ["-n", str(product.kube.namespace)]
    read = subprocess.run(
        [str(PLUGIN), "logs", "reencode-streaming", *ns],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert (read.returncode, read.stdout) == (0, logs.stdout), read.stderr
    shown = subprocess.run(
        [str(PLUGIN), "get", "reencode-streaming", *ns],
        capture_output=True, text=True, env=env, timeout=120, check=True,
    )  # fmt: skip
    assert "Succeeded" in shown.stdout, shown.stdout


# ---- a user acting on running jobs -------------------------------------------------


def test_a_job_whose_pod_is_deleted_mid_run_is_retried_and_succeeds(
    demo: DemoRun, product: Product
) -> None:
    kube = product.kube
    kube.apply(long_job("pod-deleted", "playback/pod-deleted.mp4"))
    pod = wait_for("pod-deleted's worker to run", lambda: running_pod(kube, "pod-deleted"),
                   timeout=WAIT_LONG * 3)  # fmt: skip
    kube.run("delete", "pod", pod, "--wait=false")
    done = finished(kube, "pod-deleted", timeout=600)
    assert (done["phase"], done["attempts"]) == ("Succeeded", 2), done
    out = product.media / "playback" / "pod-deleted.mp4"
    assert abs(duration(ffprobe(out)) - 45) < 0.5


def test_deleting_a_running_mediajob_stops_its_pod_and_leaves_no_partial_output(
    demo: DemoRun, product: Product
) -> None:
    kube = product.kube
    kube.apply(long_job("deleted", "playback/deleted.mp4"))
    wait_for("deleted's worker to run", lambda: running_pod(kube, "deleted"),
             timeout=WAIT_LONG * 3)  # fmt: skip
    playback = product.media / "playback"

    def ours() -> list[str]:  # the output and the worker's partial file beside it
        return sorted(
            p.name for p in playback.iterdir() if p.name.startswith(("deleted.", ".deleted."))
        )

    partial = wait_for("the worker's partial file", ours, timeout=WAIT_LONG)
    assert partial[0].startswith(".deleted.partial-"), partial
    kube.run("delete", "mediajob", "deleted", "--wait=true", "--timeout=120s")
    wait_for(
        "deleted's pods to go",
        lambda: not kube.items("pods", f"--selector={MEDIAJOB_LABEL}=deleted"),
        timeout=WAIT_LONG * 2,
    )
    assert ours() == []


def test_the_leader_pod_deleted_mid_run_the_other_replica_finishes_every_job_once(
    demo: DemoRun, product: Product
) -> None:
    kube, system = product.kube, product.kube.in_namespace(RELEASE_NAMESPACE)
    names = [f"failover-{i}" for i in range(3)]
    for name in names:
        kube.apply(long_job(name, f"playback/{name}.mp4"))
    wait_for("a failover job to run", lambda: running_pod(kube, names[0]), timeout=WAIT_LONG * 3)
    lease = system.get("lease", "mediajobs-operator")
    leader = lease["spec"]["holderIdentity"]
    system.run("delete", "pod", leader, "--wait=false")
    wait_for(
        "another replica to hold the Lease",
        lambda: (
            (h := system.get("lease", "mediajobs-operator")["spec"].get("holderIdentity"))
            not in (None, "", leader)
            and h
        ),
        timeout=WAIT_LONG,
    )
    for name in names:
        done = finished(kube, name, timeout=600)
        assert (done["phase"], done["attempts"]) == ("Succeeded", 1), (name, done)
        jobs = kube.items("jobs", f"--selector={MEDIAJOB_LABEL}={name}")
        assert len(jobs) == 1, [j["metadata"]["name"] for j in jobs]
