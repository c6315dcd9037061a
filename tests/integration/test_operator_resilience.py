"""Operator restarts at random points, and the progress channel with Redis up and down."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import redis

from mediajobs.progress.wire import STREAM_MAXLEN, ProgressEvent
from tests.builders import mediajob
from tests.integration.operator_checks import JobSampler, all_finished, jobs_of, status, wait_phase
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess
from tests.redis_server import RedisServer

StartOperator = Callable[..., OperatorProcess]
STREAM = "mediajobs:progress"


def test_killed_and_restarted_at_random_points_nothing_is_lost(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"seed {seed}")
    queue = [f"q{i}-p{p}" for i, p in enumerate(rng.choices(range(1, 10), k=8))]
    for name in queue:
        ns.apply(mediajob(name).priority(int(name.split("-p")[1])).kwok(run_for="1s").obj())
    ns.apply(mediajob("flaky").priority(1).kwok(exit_code=75).retry(1, seconds=2).obj())
    ns.apply(mediajob("paused").spec(suspend=True).obj())
    ns.apply(mediajob("broken").kwok(exit_code=2).obj())
    enc = [f"enc-{i}" for i in range(3)]
    for name in enc:
        ns.apply(mediajob(name, "reencode_streaming").kwok(run_for="2s").obj())
    config = {"limits": {"cpu": {"maxRunning": 1}, "gpu_encode": {"maxRunning": 1}}}
    with JobSampler(ns) as sampler:
        op = start_operator(**config)
        for _ in range(4):
            time.sleep(rng.uniform(0.3, 3.0))
            op.kill()
            op.start()
        ns.run("patch", "mj", "paused", "--type=merge", "-p", '{"spec":{"suspend":false}}')
        final = all_finished(ns, [*queue, *enc, "flaky", "paused", "broken"], timeout=WAIT_LONG * 3)
    assert {n: final[n] for n in [*queue, *enc, "paused"]} == dict.fromkeys(
        [*queue, *enc, "paused"], "Succeeded"
    )
    assert (final["flaky"], final["broken"]) == ("Failed", "Failed")
    # No duplicate Job: one per attempt, attempts numbered 1..n.
    for name in final:
        attempts = sorted(
            int(j["metadata"]["labels"]["mediajobs.dev/attempt"]) for j in jobs_of(ns, name)
        )
        assert attempts == list(range(1, len(attempts) + 1)), name
        assert len(attempts) == (2 if name == "flaky" else 1), name
        assert status(ns, name)["attempts"] == len(attempts)
    assert sampler.peak["cpu"] == 1 and sampler.peak["gpu_encode"] == 1
    # Order kept across restarts: the cpu queue started in (priority, creation, uid) order.
    stored = sorted(
        (m for m in ns.items("mj") if m["metadata"]["name"] in queue),
        key=lambda m: (
            m["spec"]["priority"],
            m["metadata"]["creationTimestamp"],
            m["metadata"]["uid"],
        ),
    )
    started = [n for n in sampler.order if n in queue]
    assert started == [m["metadata"]["name"] for m in stored], f"seed {seed}"
    assert op.starts == 5


def publish(client: redis.Redis, uid: str, name: str, namespace: str, progress: int) -> None:
    event = ProgressEvent(
        uid=uid, namespace=namespace, name=name, attempt=1, progress=progress, at=time.time()
    )
    client.xadd(STREAM, event.fields(), maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]


def test_progress_from_redis_reaches_the_status_coalesced(
    ns: Kubectl, start_operator: StartOperator, redis_server: RedisServer
) -> None:
    op = start_operator(redisUrl=redis_server.url, progressStream=STREAM)
    ns.apply(mediajob("encode").kwok(run_for="600s").obj())
    wait_phase(ns, "encode", "Running")
    uid = ns.get("mj", "encode")["metadata"]["uid"]
    client = redis.Redis.from_url(redis_server.url)
    before = op.metric("mediajobs_api_writes")
    for p in range(1, 41):  # 40 events in about a second
        publish(client, uid, "encode", ns.namespace or "", p)
        time.sleep(0.025)
    wait_for("progress 40 in the status", lambda: status(ns, "encode").get("progress") == 40)
    # At most one status write per second per job: 40 events became a few writes.
    assert op.metric("mediajobs_api_writes") - before <= 4
    publish(client, uid, "encode", ns.namespace or "", 10)  # late, out of order: never goes back
    time.sleep(1.5)
    assert status(ns, "encode")["progress"] == 40
    client.close()


def test_redis_down_mid_run_loses_no_job(
    ns: Kubectl, start_operator: StartOperator, redis_server: RedisServer
) -> None:
    start_operator(redisUrl=redis_server.url, progressStream=STREAM)
    ns.apply(mediajob("during").kwok(run_for="4s").obj())
    wait_phase(ns, "during", "Running")
    redis_server.stop()
    try:
        done = wait_phase(ns, "during", "Succeeded", timeout=WAIT_LONG)
        assert done["result"] == {"outputs": [], "data": {"simulatedBy": "kwok"}}
        ns.apply(mediajob("while-down").obj())
        wait_phase(ns, "while-down", "Succeeded", timeout=WAIT_LONG)
    finally:
        redis_server.start()
    ns.apply(mediajob("after").kwok(run_for="600s").obj())
    wait_phase(ns, "after", "Running")
    client = redis.Redis.from_url(redis_server.url)
    uid = ns.get("mj", "after")["metadata"]["uid"]

    def progressed() -> bool:
        publish(client, uid, "after", ns.namespace or "", 55)  # until the operator reads again
        time.sleep(0.3)
        return bool(status(ns, "after").get("progress") == 55)

    wait_for("progress once Redis is back", progressed, WAIT_LONG)
    client.close()
