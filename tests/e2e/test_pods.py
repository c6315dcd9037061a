"""Real pods on the real node: FFmpeg in the worker image, a Service found by DNS."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.localcluster import WAIT_LONG, Kubectl, wait_for

pytestmark = pytest.mark.e2e

NODE = "mediajobs-node"
VERSION = "0.1.0"
WORKER = f"docker.io/local/mediajobs-ffmpeg-worker:{VERSION}"
REDIS = f"docker.io/local/mediajobs-redis:{VERSION}"
UID = 10001


def restricted() -> dict[str, Any]:
    return {
        "runAsUser": UID,
        "runAsGroup": UID,
        "runAsNonRoot": True,
        "readOnlyRootFilesystem": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod(name: str, image: str, command: list[str] | None, **spec: Any) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "Never",  # imported into the node's containerd; no registry
        "securityContext": restricted(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *spec.pop("mounts", [])],
    }
    if command is not None:  # else the image's own entrypoint and arguments
        container["command"] = command
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "nodeSelector": {"kubernetes.io/hostname": NODE},  # not a KWOK node
            "restartPolicy": "Never",
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {}}, *spec.pop("volumes", [])],
            **spec,
        },
    }


def phase(kube: Kubectl, name: str) -> str:
    return str(kube.get("pod", name).get("status", {}).get("phase", ""))


def finished(kube: Kubectl, name: str) -> str:
    return wait_for(
        f"pod {name} to finish",
        lambda: phase(kube, name) if phase(kube, name) in ("Succeeded", "Failed") else None,
        timeout=WAIT_LONG * 2,
    )


def describe(kube: Kubectl, name: str) -> str:
    logs = kube.run("logs", name, check=False)
    described = kube.run("describe", "pod", name, check=False).stdout[-2000:]
    return f"{described}\nlogs:\n{logs.stdout[-2000:]}{logs.stderr[-500:]}"


def test_worker_image_runs_ffmpeg_onto_the_host_media_dir(e2e_ns: Kubectl, tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    os.chown(media, UID, UID)
    ffmpeg = [
        "ffmpeg", "-hide_banner", "-nostdin", "-f", "lavfi", "-i", "testsrc2=d=1:s=320x240",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "/media/out.mp4",
    ]  # fmt: skip
    e2e_ns.apply(
        pod(
            "ffmpeg",
            WORKER,
            ffmpeg,
            mounts=[{"name": "media", "mountPath": "/media"}],
            volumes=[{"name": "media", "hostPath": {"path": str(media), "type": "Directory"}}],
        )
    )
    assert finished(e2e_ns, "ffmpeg") == "Succeeded", describe(e2e_ns, "ffmpeg")
    out = media / "out.mp4"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height",
         "-of", "json", str(out)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(probe.stdout)["streams"] == [
        {"codec_name": "h264", "width": 320, "height": 240}
    ]
    assert out.stat().st_uid == UID  # written by the pod's user, not root
    logs = e2e_ns.run("logs", "ffmpeg").stdout
    assert "Output #0, mp4, to '/media/out.mp4'" in logs


def test_pod_reaches_a_service_by_dns_name(e2e_ns: Kubectl) -> None:
    server = pod("redis", REDIS, None)  # the image's redis-server, listening on the pod IP
    server["spec"]["restartPolicy"] = "Always"
    e2e_ns.apply(server)
    e2e_ns.apply({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "redis"},
        "spec": {"selector": {"app": "redis"}, "ports": [{"port": 6379, "targetPort": 6379}]},
    })  # fmt: skip
    e2e_ns.run("wait", "--for=condition=Ready", "pod/redis", f"--timeout={WAIT_LONG:.0f}s")
    host = f"redis.{e2e_ns.namespace}.svc.cluster.local"
    # kube-proxy programs the endpoint a moment after the pod is Ready (until then the
    # Service rejects): the client polls, for 30 s at most, until it gets an answer.
    ping = f"redis-cli -h {host} -p 6379 ping"
    poll = f"for i in $(seq 30); do {ping} 2>/dev/null && exit 0; sleep 1; done; {ping}"
    e2e_ns.apply(pod("client", REDIS, ["sh", "-c", poll]))
    assert finished(e2e_ns, "client") == "Succeeded", describe(e2e_ns, "client")
    assert e2e_ns.run("logs", "client").stdout.strip() == "PONG"
