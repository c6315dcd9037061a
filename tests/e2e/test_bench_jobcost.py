"""`make bench`'s job-cost phase (bench/jobcost.py), small, on the session's real node:
two thumbnails and one re-encode, so the phase cannot rot. Timings are not asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.realnode import cluster_env
from tests.localcluster import REPO, Kubectl

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(900)
def test_jobcost_phase_times_every_segment_of_every_path(
    real_cluster: Kubectl, node_state: Path, tmp_path: Path
) -> None:
    argv = [
        sys.executable, "-m", "bench.jobcost", "--thumbnails", "2", "--reencodes", "1",
        "--seconds", "2", "--cluster-dir", str(node_state), "--workdir", str(tmp_path),
    ]  # fmt: skip
    env = cluster_env(node_state)
    done = subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=840, check=False
    )
    report = done.stdout
    assert done.returncode == 0, f"{report[-3000:]}\n{done.stderr[-4000:]}"
    for row in (
        "| thumbnail_generate x2 | Kubernetes: MediaJob create -> Succeeded |",
        "| reencode_streaming x1 | Kubernetes: MediaJob create -> Succeeded |",
        "|  | same image, no Kubernetes (ctr run) |",
        "|  | warm worker (run_task), back to back |",
        "|  | bare FFmpeg, back to back |",
        "|  | **overhead per job over the warm worker** |",
        "Where thumbnail_generate x2's overhead goes (2 complete timelines)",
        "Where reencode_streaming x1's overhead goes (1 complete timelines)",
        "| sandbox: bound -> sandbox ready (volumes, CNI, pause) |",
        "| worker start-up: container started -> first log line |",
    ):
        assert row in report, row
    media = tmp_path / "media"
    for path in ("k8s", "ctr", "warm", "bare"):
        outputs = sorted(p.name for p in (media / path).iterdir() if p.stat().st_size > 0)
        assert outputs == ["reencode-000.mp4", "thumb-000.jpg", "thumb-001.jpg"], path
