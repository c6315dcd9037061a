"""The web view's model (controller/board.py), built from plain records and a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from mediajobs.api.common import Category
from mediajobs.controller.board import RECENT_FAILURES, Rows, banners, board, diff, failures
from mediajobs.controller.snapshot import CategoryQueue, PoolUsage, QueueSnapshot, Waiting
from mediajobs.lifecycle.hitl import Session, session_from_body
from mediajobs.lifecycle.records import Record, record_from_body
from mediajobs.scheduling.model import JobKey
from tests.builders import MediaJobBuilder, hitlsession, mediajob

T0 = datetime(2026, 12, 1, tzinfo=UTC)


def record(builder: MediaJobBuilder, ns: str = "team-a", version: int = 1, **status: Any) -> Record:
    body = builder.obj()
    name = body["metadata"]["name"]
    body["metadata"] |= {
        "namespace": ns,
        "uid": f"uid-{ns}-{name}",
        "resourceVersion": str(version),
        "creationTimestamp": T0.isoformat(),
    }
    body["status"] = status
    return record_from_body(body)


def session(name: str, ns: str = "team-a", phase: str | None = None, **spec: Any) -> Session:
    body = hitlsession(name, **spec)
    body["metadata"] |= {"namespace": ns, "creationTimestamp": T0.isoformat()}
    body["status"] = {"phase": phase} if phase else {}
    return session_from_body(body)


def snapshot(
    running: tuple[JobKey, ...] = (), waiting: tuple[Waiting, ...] = (), *, used: int = 0
) -> QueueSnapshot:
    def queue(c: Category) -> CategoryQueue:
        mine = c == Category.CPU
        return CategoryQueue(
            c, 5, running if mine else (), waiting if mine else (), 0, 0, 0, (), {}
        )

    pools = (PoolUsage("default", 16000, used),)
    return QueueSnapshot(T0, True, {c: queue(c) for c in Category}, pools, 0, 0, {})


def key(name: str, ns: str = "team-a") -> JobKey:
    return JobKey(ns, name)


def test_rows_say_where_each_job_stands() -> None:
    records = {
        r.key: r
        for r in (
            record(mediajob("run"), phase="Running", progress=40, attempts=1),
            record(mediajob("next"), phase="Queued", queuePosition=9),
            record(mediajob("new")),
            record(
                mediajob("later").retry(limit=2, seconds=60),
                phase="BackingOff",
                waitingReason="attempt 1 failed",
            ),
            record(mediajob("done"), phase="Succeeded"),
            record(mediajob("after"), phase="Pending", waitingReason="WaitingForDependency"),
        )
    }
    snap = snapshot(
        (key("run"),),
        (Waiting(key("next"), 1, "cpu: 5/5 running"), Waiting(key("new"), None, None)),
    )
    jobs = board(snap, records, [])["jobs"]
    assert set(jobs) == {"team-a/run", "team-a/next", "team-a/new", "team-a/later", "team-a/after"}
    assert jobs["team-a/run"] == {
        "id": "team-a/run", "ns": "team-a", "name": "run", "op": "validate", "cat": "cpu",
        "group": "running", "phase": "Running", "progress": 40, "pos": None, "reason": None,
        "msg": None, "attempts": 1,
    }  # fmt: skip
    # The snapshot's position is newer than the status's (written coalesced).
    assert (jobs["team-a/next"]["pos"], jobs["team-a/next"]["reason"]) == (1, "cpu: 5/5 running")
    assert (jobs["team-a/new"]["phase"], jobs["team-a/new"]["pos"]) == ("Pending", None)
    later = jobs["team-a/later"]
    assert (later["group"], later["reason"]) == ("delayed", "attempt 1 failed")
    after = jobs["team-a/after"]  # a pipeline's step waiting for an earlier one
    assert (after["group"], after["reason"]) == ("delayed", "WaitingForDependency")


def test_the_scope_hides_other_namespaces_everywhere() -> None:
    mine = record(mediajob("mine"), phase="Running")
    theirs = record(mediajob("theirs"), ns="team-b", phase="Running")
    failed = record(mediajob("broke"), ns="team-b", phase="Failed", message="x")
    records = {r.key: r for r in (mine, theirs, failed)}
    sessions = [session("s", ns="team-b")]
    snap = snapshot((mine.key, theirs.key))
    scoped = board(snap, records, sessions, scope={"team-a"})
    assert list(scoped["jobs"]) == ["team-a/mine"]
    assert (scoped["failures"], scoped["banners"]) == ([], [])
    everything = board(snap, records, sessions)
    assert len(everything["jobs"]) == 2 and len(everything["failures"]) == 1


def test_failures_are_the_latest_first_with_their_messages() -> None:
    records = [
        record(
            mediajob(f"f{i}"),
            phase="Failed",
            message=f"<b>boom {i}</b>",
            completedAt=(T0 + timedelta(minutes=i)).isoformat(),
        )
        for i in range(RECENT_FAILURES + 5)
    ]
    shown = failures(records, ())
    assert len(shown) == RECENT_FAILURES
    last = RECENT_FAILURES + 4
    assert shown[0] == {
        "id": f"team-a/f{last}", "ns": "team-a", "name": f"f{last}", "op": "validate",
        "msg": f"<b>boom {last}</b>",  # carried as text; the page sets it with textContent
        "at": (T0 + timedelta(minutes=last)).isoformat(),
    }  # fmt: skip


def test_one_banner_per_platform_for_open_sessions() -> None:
    sessions = [
        session("of-alice", creatorProfile="alice", platform="onlyfans"),
        session(
            "of-bob", ns="team-b", creatorProfile="bob", platform="onlyfans", phase="InProgress"
        ),
        session("fansly-alice", creatorProfile="alice", platform="fansly", phase="Resolved"),
        session("ig-carol", creatorProfile="carol", platform="instagram", phase="Pending"),
    ]
    shown = banners(sessions, ())
    assert [b["platform"] for b in shown] == ["instagram", "onlyfans"]
    assert shown[0]["text"] == (
        "Login required for instagram (carol). Resolve with: kubectl mediajobs hitl resolve "
        "ig-carol -n team-a --cookies-file FILE --method manual_cookies"
    )
    assert shown[1]["sessions"] == ["team-a/of-alice", "team-b/of-bob"]
    assert shown[1]["text"].startswith("Login required for onlyfans (alice, bob). Resolve with:")
    assert "hitl resolve of-bob -n team-b" in shown[1]["text"]


def test_a_diff_carries_only_what_moved() -> None:
    run = record(mediajob("run"), phase="Running", progress=10)
    ahead = record(mediajob("ahead"), phase="Queued")
    behind = record(mediajob("behind"), phase="Queued")
    records = {r.key: r for r in (run, ahead, behind)}
    waits = (Waiting(ahead.key, 1, "full"), Waiting(behind.key, 2, "full"))
    old = board(snapshot((run.key,), waits), records, [])
    assert diff(old, board(snapshot((run.key,), waits), records, [])) is None

    records[run.key] = record(mediajob("run"), version=2, phase="Running", progress=55)
    del records[ahead.key]
    new = board(snapshot((run.key,), (Waiting(behind.key, 1, "full"),), used=500), records, [])
    change = diff(old, new)
    assert change is not None
    assert set(change) == {"upsert", "remove", "pools"}
    assert [(r["name"], r["progress"], r["pos"]) for r in change["upsert"]] == [
        ("run", 55, None),
        ("behind", None, 1),
    ]
    assert change["remove"] == ["team-a/ahead"]
    assert change["pools"] == [{"name": "default", "totalMiB": 16000, "usedMiB": 500}]


def test_rows_are_reused_while_their_inputs_are_the_same() -> None:
    run = record(mediajob("run"), phase="Running", progress=10)
    ahead = record(mediajob("ahead"), phase="Queued")
    records = {r.key: r for r in (run, ahead)}
    made = Rows()
    snap = snapshot((run.key,), (Waiting(ahead.key, 1, "full"),))
    first = board(snap, records, [], made=made)["jobs"]
    again = board(snap, records, [], made=made)["jobs"]
    assert all(again[k] is first[k] for k in first)  # compared by identity in a diff

    records[run.key] = record(mediajob("run"), version=2, phase="Running", progress=20)
    moved = board(snapshot((run.key,), (Waiting(ahead.key, 2, "full"),)), records, [], made=made)
    assert moved["jobs"]["team-a/run"]["progress"] == 20
    assert moved["jobs"]["team-a/ahead"]["pos"] == 2
    assert moved["jobs"] == board(snapshot((run.key,), (Waiting(ahead.key, 2, "full"),)),
                                  records, [])["jobs"]  # fmt: skip

    shown = moved["jobs"]["team-a/ahead"]
    board(snapshot((run.key,)), records, [], made=made)  # ahead left the queue: forgotten
    back = board(snapshot((run.key,), (Waiting(ahead.key, 2, "full"),)), records, [], made=made)
    assert back["jobs"]["team-a/ahead"] == shown and back["jobs"]["team-a/ahead"] is not shown
