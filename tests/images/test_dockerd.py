"""The private dockerd: a session killed hard (no chance to stop it) is cleaned up by the next."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.localcluster import REPO, load_hack

pytestmark = [pytest.mark.images, pytest.mark.timeout(300)]

# Starts a daemon, says its pid and containerd's, then waits to be killed.
SESSION = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from dockerd import Dockerd
d = Dockerd(Path(sys.argv[2]))
d.start()
containerd = d.exec_root / "containerd/containerd.pid"
print("pids", d.pidfile.read_text().strip(), containerd.read_text().strip(), flush=True)
time.sleep(600)
"""


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short path: containerd's sockets live in it (108-byte limit)."""
    path = Path(tempfile.mkdtemp(prefix="mjd-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_session_killed_hard_is_cleaned_up_by_the_next(short_dir: Path) -> None:
    dockerd = load_hack("dockerd")
    root = short_dir / "docker"  # a folder of its own: the image cache is not touched
    session = subprocess.Popen(
        [sys.executable, "-c", SESSION, str(REPO / "hack"), str(root)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    d = dockerd.Dockerd(root)
    try:
        assert session.stdout is not None
        said = next(line for line in session.stdout if line.startswith("pids "))
        pids = [int(p) for p in said.split()[1:]]
        session.kill()
        session.wait()
        assert all(dockerd.alive(pid) for pid in pids)  # a SIGKILL leaves them running
        with d:
            assert d.docker("info", "--format", "{{.Containers}}").stdout.strip() == "0"
        assert [pid for pid in pids if dockerd.alive(pid)] == []
        assert dockerd.mounts_under(d.data, d.exec_root) == []
        assert not d.exec_root.exists()
        assert not d.made_on_host.exists()
    finally:
        session.kill()
        session.wait()
        d.start()  # whatever happened above, nothing of this test's stays running
        d.stop()
