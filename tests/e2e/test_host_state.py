"""`up --real-node` then `down` leaves the host exactly as it found it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e.realnode import cluster_cli, host_state

pytestmark = pytest.mark.e2e


# A cluster of its own beside the session's (whichever test brought that up first).
OFFSET = 100


def test_up_and_down_leave_sysctls_iptables_netns_links_and_mounts(tmp_path: Path) -> None:
    before = host_state()
    try:
        cluster_cli(tmp_path, "up", "--real-node", offset=OFFSET)
        during = host_state()
    finally:
        cluster_cli(tmp_path, "down", offset=OFFSET)
        shutil.rmtree(tmp_path / "node-containerd", ignore_errors=True)
    after = host_state()
    # The node really was there (else an unchanged host would prove nothing).
    assert during["netns"] != before["netns"]
    assert during["links"] != before["links"]
    for key in before:
        assert after[key] == before[key], key
