#!/usr/bin/env python3
"""Installs the whole product with its own Helm chart (charts/mediajobs): one installer
for `make run` (hack/demo.py) and the e2e tests (tests/e2e/conftest.py).

    python3 hack/release.py install --kubeconfig K [--media DIR] [--namespace NS]... [--values F]
    python3 hack/release.py uninstall --kubeconfig K

On the local cluster's real node (`--local-images`, the default with `--media`), the
values say what `make images` gave the node: images under their fully qualified
names (the chart's defaults, docker.io/local/...) with `imagePullPolicy: Never`, and
the media library as a hostPath on DIR (the node's mount namespace sees the host's
folders), owned by the pods' user. Elsewhere (`make run CLUSTER=external`), the
chart's image and volume values come from the user's `--values` files.

`install` is `helm upgrade --install --wait`: a second run changes nothing that is
already so and returns once both operator replicas and Redis are Ready. The
namespaces where MediaJobs run are made first (the chart does not make them).

Standard library only, like hack/cluster.py: it runs with the system Python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster import bin_dirs, log

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "charts" / "mediajobs"
RELEASE = "mediajobs"
RELEASE_NAMESPACE = "mediajobs-system"
POD_UID = 10001  # the chart's pods and the worker run as this user (images/base)


@dataclass(frozen=True)
class Release:
    kubeconfig: Path
    namespaces: tuple[str, ...] = ()  # where MediaJobs run: quotas, worker account
    media: Path | None = None  # the media library's folder on the node (a hostPath)
    local_images: bool = True  # imported into the node: never pulled
    values: tuple[Path, ...] = ()  # more values files, applied after this module's
    overrides: dict[str, Any] = field(default_factory=dict)  # applied last
    name: str = RELEASE
    namespace: str = RELEASE_NAMESPACE


def tool(name: str) -> str:
    folder = bin_dirs()["helm" if name == "helm" else "kubernetes"]
    return str(folder / name)


def base_values(release: Release) -> dict[str, Any]:
    """The values this installer sets: local images, the media hostPath, the namespaces."""
    values: dict[str, Any] = {"namespaces": [{"name": n} for n in release.namespaces]}
    if release.local_images:
        values["images"] = {"pullPolicy": "Never"}
    if release.media is not None:
        values["mediaVolume"] = {
            "type": "hostPath",
            "hostPath": {"path": str(release.media), "type": "Directory"},
        }
    return values


def kubectl(release: Release, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [tool("kubectl"), f"--kubeconfig={release.kubeconfig}", *args],
        input=stdin, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def helm(release: Release, *args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        [tool("helm"), f"--kubeconfig={release.kubeconfig}", *args],
        capture_output=True, text=True, check=False, timeout=timeout,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"helm {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def make_namespaces(release: Release) -> None:
    for name in release.namespaces:
        manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        kubectl(release, "apply", "-f", "-", stdin=json.dumps(manifest))


def prepare_media(folder: Path) -> None:
    """The library folder, writable by the pods' user (root makes it; the pods write)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(folder, POD_UID, POD_UID)


def install(release: Release, wait_timeout: str = "5m") -> None:
    t0 = time.monotonic()
    if release.media is not None:
        prepare_media(release.media)
    make_namespaces(release)
    with tempfile.TemporaryDirectory() as tmp:
        ours = Path(tmp) / "values.json"  # JSON is YAML: helm reads it as values
        ours.write_text(json.dumps(base_values(release)))
        last = Path(tmp) / "overrides.json"
        last.write_text(json.dumps(release.overrides))
        files = [ours, *release.values, last]
        helm(
            release,
            "upgrade", "--install", release.name, str(CHART),
            f"--namespace={release.namespace}", "--create-namespace",
            *(f"--values={f}" for f in files),
            # CRDs applied by kubectl before (or kept by an uninstall) are taken over.
            "--take-ownership",
            "--wait", f"--timeout={wait_timeout}",
        )  # fmt: skip
    log(
        f"chart {release.name} installed in {release.namespace} "
        f"({time.monotonic() - t0:.1f} s; MediaJobs in: {', '.join(release.namespaces) or '-'})"
    )


def uninstall(release: Release) -> None:
    """`helm uninstall --wait`: the chart's objects go; its CRDs stay (resource-policy keep)."""
    helm(release, "uninstall", release.name, f"--namespace={release.namespace}", "--wait")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("command", choices=["install", "uninstall"])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--namespace", action="append", default=[], dest="namespaces")
    parser.add_argument("--media", type=Path, help="the media library's folder (a hostPath)")
    parser.add_argument("--values", action="append", type=Path, default=[])
    parser.add_argument(
        "--pull", action="store_true", help="let the nodes pull the images (not --local-images)"
    )
    args = parser.parse_args()
    release = Release(
        kubeconfig=args.kubeconfig,
        namespaces=tuple(args.namespaces),
        media=args.media.resolve() if args.media else None,
        local_images=not args.pull,
        values=tuple(args.values),
    )
    if args.command == "install":
        install(release)
    else:
        uninstall(release)
    return 0


if __name__ == "__main__":
    sys.exit(main())
