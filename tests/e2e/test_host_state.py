"""`up --real-node` then `down` leaves the host exactly as it found it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.realnode import cluster_cli, host_state

pytestmark = pytest.mark.e2e


def test_up_and_down_leave_sysctls_iptables_netns_links_and_mounts(node_state: Path) -> None:
    before = host_state()
    try:
        cluster_cli(node_state, "up", "--real-node")
        during = host_state()
    finally:
        cluster_cli(node_state, "down")
    after = host_state()
    # The node really was there (else an unchanged host would prove nothing).
    assert during["netns"] != before["netns"]
    assert during["links"] != before["links"]
    for key in before:
        assert after[key] == before[key], key
