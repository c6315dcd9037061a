"""The worker as its container runs it (a process): SIGTERM, a full disk, the termination log."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.localcluster import wait_for
from tests.worker.conftest import WAIT_S, WORKER, task_for, worker_env


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains TEXT (a leftover FFmpeg would)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(proc.name))
    return found


def test_sigterm_mid_encode_leaves_nothing_and_is_retryable(media: Path, tmp_path: Path) -> None:
    task = task_for(media, "reencode_streaming", "in/long.mp4", params={"preset": "veryslow"})
    out_dir = media / task["output"]["prefix"]
    log = tmp_path / "termination-log"
    worker = subprocess.Popen(WORKER, env=worker_env(task, log), stderr=subprocess.PIPE)
    try:
        wait_for("FFmpeg to start writing", lambda: out_dir.is_dir() and any(out_dir.iterdir()))
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=WAIT_S)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert code == 75
    assert json.loads(log.read_text()) == {"error": "stopped by SIGTERM before finishing"}
    assert list(out_dir.iterdir()) == []  # neither the final name nor the temporary
    assert _processes_mentioning(str(out_dir)) == []  # FFmpeg was stopped too


def test_success_writes_the_result_to_the_termination_log(media: Path, tmp_path: Path) -> None:
    task = task_for(media, "thumbnail_generate", "in/clip.mp4", params={"width": 64})
    log = tmp_path / "termination-log"
    done = subprocess.run(
        WORKER, env=worker_env(task, log), capture_output=True, timeout=WAIT_S, check=False
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(log.read_text())["result"]
    assert result["outputs"][0]["path"] == f"{task['output']['prefix']}/clip.jpg"
    assert (result["outputs"][0]["width"], result["outputs"][0]["height"]) == (64, 48)


def test_invalid_task_exits_2_with_its_reason(tmp_path: Path) -> None:
    log = tmp_path / "termination-log"
    env = worker_env({"uid": "u"}, log)
    done = subprocess.run(WORKER, env=env, capture_output=True, timeout=WAIT_S, check=False)
    assert done.returncode == 2
    assert json.loads(log.read_text())["error"].startswith("invalid task: ")


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--user", "--map-root-user", "--mount", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs user and mount namespaces (unshare)")
def test_a_full_disk_is_temporary(media: Path, tmp_path: Path) -> None:
    """The output directory is a 64 KiB tmpfs (in a private mount namespace): ENOSPC for real."""
    task = task_for(media, "reencode_streaming", "in/long.mp4", params={"preset": "ultrafast"})
    out_dir = media / task["output"]["prefix"]
    out_dir.mkdir(parents=True)
    log = tmp_path / "termination-log"
    script = 'mount -t tmpfs -o size=64k tmpfs "$0" && exec "$@"'
    namespaced = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script]
    done = subprocess.run(
        [*namespaced, str(out_dir), *WORKER],
        env=worker_env(task, log),
        capture_output=True,
        timeout=WAIT_S * 3,
        check=False,
    )
    assert done.returncode == 75, done.stderr
    assert json.loads(log.read_text()) == {"error": "out of disk space"}
    assert list(out_dir.iterdir()) == []
