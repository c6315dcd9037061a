"""The web view's model: the board one page shows, built from plain data, and its diffs.

The board is JSON-ready: per job of the queues (running, waiting, delayed) one row
keyed ``namespace/name``; per category its limit; the VRAM of each GPU pool; the
latest failures with their messages; one banner per platform that waits for a
person to log in (its open HitlSessions). A page is sent the whole board once, then
only what changed (``diff``): a job's row when any of its cells moved, the other
parts whole when they moved (they are small). Everything a user wrote (names,
labels, messages) is carried as data: the page sets it as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from mediajobs.api.mediajob import Phase
from mediajobs.controller.snapshot import QueueSnapshot
from mediajobs.lifecycle import dependencies
from mediajobs.lifecycle.hitl import Session
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.model import JobKey

Board = dict[str, Any]
Row = dict[str, Any]

RECENT_FAILURES = 20
_PARTS = ("ready", "categories", "pools", "failures", "banners")  # sent whole when changed


def in_scope(namespace: str, scope: Collection[str]) -> bool:
    """Whether the view shows NAMESPACE (an empty SCOPE: every namespace)."""
    return not scope or namespace in scope


def job_row(
    record: Record, group: str, position: int | None = None, reason: str | None = None
) -> Row:
    """One job as the page shows it. GROUP: running, waiting or delayed."""
    status = record.status
    category = record.placement.category.value if record.placement else None
    return {
        "id": f"{record.key.namespace}/{record.key.name}",
        "ns": record.key.namespace,
        "name": record.key.name,
        "op": record.spec.operation.value,
        "cat": category,
        "group": group,
        "phase": (record.phase or Phase.PENDING).value,
        "progress": status.progress,
        "pos": position,
        "reason": reason,
        "msg": status.message,
        "attempts": status.attempts or 0,
    }


class Rows:
    """The rows built last time, reused while built from the same inputs: a record is
    replaced (never edited) when its MediaJob changes, so a board of 2,000 jobs costs
    a row per job that changed, and a diff compares the others by identity."""

    def __init__(self) -> None:
        self._held: dict[JobKey, tuple[Record, str, int | None, str | None, Row]] = {}
        self._seen: set[JobKey] = set()

    def row(self, record: Record, group: str, position: int | None, reason: str | None) -> Row:
        self._seen.add(record.key)
        held = self._held.get(record.key)
        if held is not None and held[0] is record and held[1:4] == (group, position, reason):
            return held[4]
        row = job_row(record, group, position, reason)
        self._held[record.key] = (record, group, position, reason, row)
        return row

    def forget_unseen(self) -> None:
        """Drop what was not asked for since the last call (jobs gone from the queues)."""
        for key in self._held.keys() - self._seen:
            del self._held[key]
        self._seen = set()


def _failure(record: Record) -> Row:
    at = record.status.completed_at
    return {
        "id": f"{record.key.namespace}/{record.key.name}",
        "ns": record.key.namespace,
        "name": record.key.name,
        "op": record.spec.operation.value,
        "msg": record.status.message,
        "at": at.isoformat() if at else None,
    }


def failures(records: Iterable[Record], scope: Collection[str]) -> list[Row]:
    """The latest RECENT_FAILURES failed jobs in SCOPE, newest first."""
    failed = [r for r in records if r.phase == Phase.FAILED and in_scope(r.key.namespace, scope)]
    failed.sort(key=lambda r: (r.status.completed_at or r.created, str(r.key)), reverse=True)
    return [_failure(r) for r in failed[:RECENT_FAILURES]]


def resolve_command(session: Session) -> str:
    return (
        f"kubectl mediajobs hitl resolve {session.name} -n {session.namespace}"
        " --cookies-file FILE --method manual_cookies"
    )


def banners(sessions: Iterable[Session], scope: Collection[str]) -> list[Row]:
    """One banner per platform with an open HitlSession in SCOPE, platforms in order."""
    open_by_platform: dict[str, list[Session]] = {}
    for session in sessions:
        if session.open and in_scope(session.namespace, scope):
            open_by_platform.setdefault(session.spec.platform, []).append(session)
    out = []
    for platform, group in sorted(open_by_platform.items()):
        group.sort(key=lambda s: (s.namespace, s.name))
        profiles = ", ".join(sorted({s.spec.creator_profile for s in group}))
        commands = "; ".join(resolve_command(s) for s in group)
        out.append(
            {
                "platform": platform,
                "sessions": [f"{s.namespace}/{s.name}" for s in group],
                "text": f"Login required for {platform} ({profiles}). Resolve with: {commands}",
            }
        )
    return out


def jobs(
    snapshot: QueueSnapshot,
    records: Mapping[JobKey, Record],
    scope: Collection[str],
    made: Rows | None = None,
) -> dict[str, Row]:
    """The rows of every job in the queues (running, waiting, delayed) in SCOPE (those of
    MADE reused where their inputs are the same)."""
    rows: dict[str, Row] = {}
    build = made.row if made is not None else job_row

    def add(
        key: JobKey, group: str, position: int | None = None, reason: str | None = None
    ) -> None:
        record = records.get(key)
        if record is not None and in_scope(key.namespace, scope):
            row = build(record, group, position, reason)
            rows[row["id"]] = row

    for queue in snapshot.categories.values():
        for key in queue.running:
            add(key, "running")
        for wait in queue.waiting:
            add(wait.key, "waiting", wait.position, wait.reason)
    for key, record in records.items():
        waits_for_dependency = record.status.waiting_reason == dependencies.WAITING_REASON
        delayed = record.phase is not None and record.phase.delayed
        if (delayed or waits_for_dependency) and record.placement is not None:
            add(key, "delayed", reason=record.status.waiting_reason)
    if made is not None:
        made.forget_unseen()
    return rows


def board(
    snapshot: QueueSnapshot,
    records: Mapping[JobKey, Record],
    sessions: Iterable[Session],
    scope: Collection[str] = (),
    made: Rows | None = None,
) -> Board:
    """The whole board as of SNAPSHOT (the records and sessions the operator holds);
    MADE: the rows of the last board, to reuse."""
    return {
        "ready": snapshot.ready,
        "categories": [
            {"name": q.category.value, "limit": q.limit} for q in snapshot.categories.values()
        ],
        "pools": [
            {"name": p.name, "totalMiB": p.total_mib, "usedMiB": p.used_mib} for p in snapshot.pools
        ],
        "jobs": jobs(snapshot, records, scope, made),
        "failures": failures(records.values(), scope),
        "banners": banners(sessions, scope),
    }


def _moved(before: Row | None, row: Row) -> bool:
    return before is not row and before != row  # the same object: a row Rows reused


def diff(old: Board, new: Board) -> dict[str, Any] | None:
    """What a page holding OLD needs to hold NEW (None: nothing moved): the rows that
    changed (``upsert``), the ids gone (``remove``), and each other part that changed."""
    out: dict[str, Any] = {k: new[k] for k in _PARTS if old[k] != new[k]}
    before, after = old["jobs"], new["jobs"]
    upsert = [row for key, row in after.items() if _moved(before.get(key), row)]
    remove = [key for key in before if key not in after]
    if upsert:
        out["upsert"] = upsert
    if remove:
        out["remove"] = remove
    return out or None
