"""/metrics as the operator renders it: the series the alerts and the dashboard read."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import mediajob
from tests.unit.controller.world import World, world


def scrape(w: World) -> str:
    """/metrics as the operator serves it now."""
    w.rec.metrics.observe(w.rec.snapshot())
    return generate_latest(w.rec.metrics.registry).decode()


def samples(w: World) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, by name and labels, as a scrape reads it."""
    text = scrape(w)
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def one(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


async def busy(w: World) -> None:
    """A failed job, one waiting for a login, one done, and full queues."""
    await w.submit(mediajob("bad").retry(limit=0))
    await w.end_job("bad", failed=True)
    # No session Secret: it waits for a person before it is admitted.
    await w.submit(mediajob("login", "scrape_profile").no_input().creator("alice", "onlyfans"))
    await w.submit(mediajob("done"))
    await w.end_job("done")
    await w.submit(mediajob("run"), mediajob("next"), mediajob("last"))
    await w.submit(mediajob("enc", "reencode_streaming"))
    assert w.phases() == {
        "bad": "Failed", "login": "WaitingForHuman", "done": "Succeeded", "run": "Running",
        "next": "Queued", "last": "Queued", "enc": "Running",
    }  # fmt: skip


async def test_queue_depth_vram_failures_and_waits_for_a_person() -> None:
    async with world(limits={"cpu": {"maxRunning": 1}}) as w:
        await busy(w)
        before = samples(w)
        await w.advance(90)
        after = samples(w)

    assert before[one("media_jobs_waiting", resourceCategory="cpu")] == 2
    assert before[one("media_jobs_waiting", resourceCategory="gpu_encode")] == 0
    assert before[one("media_jobs_running", resourceCategory="gpu_encode")] == 1
    assert before[one("media_vram_used_mb_by_pool", pool="default")] == 4000
    assert before[one("media_vram_available_mb_by_pool", pool="default")] == 12000
    failures = {k: v for k, v in before.items() if k[0] == "media_job_failures_total"}
    assert failures == {
        one("media_job_failures_total", type="validate", reason="BackoffLimitExceeded"): 1
    }
    assert before[one("media_jobs_total", type="validate", status="Failed")] == 1
    assert before[one("media_hitl_oldest_wait_seconds", platform="onlyfans")] == 0
    assert after[one("media_hitl_oldest_wait_seconds", platform="onlyfans")] == 90
