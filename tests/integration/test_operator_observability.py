"""/metrics with the reference systems' names, /stats with their shape, health endpoints."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable

from tests.builders import mediajob
from tests.integration.operator_checks import status, wait_phase
from tests.localcluster import Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]


def test_metrics_stats_and_health(ns: Kubectl, start_operator: StartOperator) -> None:
    op = start_operator(limits={"cpu": {"maxRunning": 1}})
    ns.apply(mediajob("done").obj())
    wait_phase(ns, "done", "Succeeded")
    ns.apply(mediajob("busy").kwok(run_for="600s").obj())
    wait_phase(ns, "busy", "Running")
    ns.apply(mediajob("waiting").obj())
    wait_phase(ns, "waiting", "Queued")
    ns.apply(mediajob("encode", "reencode_streaming").kwok(run_for="600s").obj())
    wait_phase(ns, "encode", "Running")

    stats = wait_for("stats to settle", lambda: (s := op.stats())["running"] == 2 and s)
    assert stats["queues"]["cpu"] == {
        "waiting": 1, "active": 1, "completed": 1, "failed": 0, "delayed": 0, "limit": 1,
    }  # fmt: skip
    assert stats["totalVramUsed"] == 4000 and stats["totalVramAvailable"] == 12000
    assert stats["waiting"] == [
        {
            "namespace": ns.namespace,
            "name": "waiting",
            "queuePosition": 1,
            "waitingReason": "cpu: 1/1 running",
        }
    ]
    text = op.metrics()
    for line in (
        'media_jobs_total{status="Succeeded",type="validate"} 1.0',
        "media_jobs_pending 1.0",
        'media_jobs_running{resourceCategory="cpu"} 1.0',
        'media_jobs_running{resourceCategory="gpu_encode"} 1.0',
        "media_vram_used_mb 4000.0",
    ):
        assert line in text
    assert "media_job_admission_wait_seconds_bucket" in text
    assert 'media_job_duration_seconds_count{type="validate"} 1.0' in text
    for path, body in (("/healthz", b"ok\n"), ("/readyz", b"ready\n")):
        with urllib.request.urlopen(f"http://127.0.0.1:{op.port}{path}", timeout=5) as r:
            assert (r.status, r.read()) == (200, body)


def test_positions_that_moved_while_the_operator_was_down_are_rewritten(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    op = start_operator(limits={"cpu": {"maxRunning": 1}})
    ns.apply(mediajob("busy").kwok(run_for="600s").obj())
    wait_phase(ns, "busy", "Running")
    for name, priority in (("ahead", 5), ("behind", 6)):  # the same second: priority orders
        ns.apply(mediajob(name).priority(priority).obj())
        wait_phase(ns, name, "Queued")
    assert status(ns, "behind")["queuePosition"] == 2

    op.stop()
    ns.run("delete", "mediajob", "ahead")
    op.start()
    wait_for(
        "the moved position to be written",
        lambda: status(ns, "behind").get("queuePosition") == 1,
    )
