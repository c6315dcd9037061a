"""Tables and descriptions from plain API objects (dicts as the API server sends them).

Pure functions: the time is passed in, nothing is read or written. The tables are
kubectl's: upper-case headers, columns padded to the widest cell, two spaces apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import yaml

BAR_CELLS = 10
REASON_WIDTH = 60  # a long message is cut in the table (-o wide and get show it whole)
EVENTS_SHOWN = 10

Body = Mapping[str, Any]


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def human_duration(seconds: float) -> str:  # noqa: PLR0911 - one return per range, as kubectl
    """kubectl's AGE: 45s, 3m20s, 12m, 5h30m, 20h, 3d4h, 12d, 2y."""
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    return f"{days // 365}y"


def age(meta: Body, now: datetime) -> str:
    created = parse_time(meta.get("creationTimestamp"))
    return human_duration((now - created).total_seconds()) if created else "<unknown>"


def bar(progress: int | None) -> str:
    """PROGRESS (0-100) as ten cells and a figure; '-' before any progress is known."""
    if progress is None:
        return "-"
    done = max(0, min(100, progress)) * BAR_CELLS // 100
    return "█" * done + "░" * (BAR_CELLS - done) + f" {progress:>3}%"


def one_line(text: str | None, width: int | None) -> str:
    flat = " ".join((text or "").split())
    if width is not None and len(flat) > width:
        return flat[: width - 1] + "…"
    return flat or "-"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """HEADERS over ROWS, each column as wide as its widest cell (the last one unpadded)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = []
    for cells in (headers, *rows):
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        lines.append("   ".join([*padded, cells[-1]]).rstrip())
    return "\n".join(lines)


def _status(job: Body) -> Body:
    return job.get("status") or {}


def job_row(job: Body, now: datetime, *, wide: bool, namespaces: bool) -> list[str]:
    meta, spec, status = job["metadata"], job.get("spec") or {}, _status(job)
    position = status.get("queuePosition")
    reason = status.get("waitingReason") or status.get("message")
    row = [
        meta["name"],
        str(spec.get("operation", "-")),
        str(status.get("phase") or "Pending"),
        bar(status.get("progress")),
        str(position) if position is not None else "-",
        one_line(reason, None if wide else REASON_WIDTH),
        str(status.get("attempts") or 0),
        age(meta, now),
    ]
    if wide:
        category = status.get("category") or spec.get("category") or "-"
        row += [str(category), str(spec.get("priority", 5)), str(status.get("jobName") or "-")]
    return [meta.get("namespace", ""), *row] if namespaces else row


JOB_HEADERS = ["NAME", "OPERATION", "PHASE", "PROGRESS", "POSITION", "REASON", "ATTEMPTS", "AGE"]
WIDE_HEADERS = ["CATEGORY", "PRIORITY", "JOB"]


def jobs_table(jobs: Sequence[Body], now: datetime, *, wide: bool, namespaces: bool) -> str:
    if not jobs:
        return "No MediaJobs found."
    headers = JOB_HEADERS + (WIDE_HEADERS if wide else [])
    headers = ["NAMESPACE", *headers] if namespaces else headers
    rows = [job_row(j, now, wide=wide, namespaces=namespaces) for j in jobs]
    return table(headers, rows)


def matches(job: Body, *, phase: str | None, operation: str | None, category: str | None) -> bool:
    """Whether JOB passes the list filters (a phase or category compared without case)."""
    spec, status = job.get("spec") or {}, _status(job)
    got_phase = str(status.get("phase") or "Pending")
    got_category = str(status.get("category") or spec.get("category") or "")
    return (
        (phase is None or got_phase.lower() == phase.lower())
        and (operation is None or spec.get("operation") == operation)
        and (category is None or got_category.lower() == category.lower())
    )


def newest(items: Sequence[Body]) -> Body | None:
    """The item created last (a name breaks a tie within the same second)."""
    return max(
        items,
        key=lambda i: (i["metadata"].get("creationTimestamp", ""), i["metadata"]["name"]),
        default=None,
    )


def _field(label: str, value: object) -> str:
    return f"{label + ':':<16}{value}"


def describe_job(job: Body, events: Sequence[Body], now: datetime) -> str:
    """`get NAME`: what the job is, where it stands, its outputs and its last Events."""
    meta, spec, status = job["metadata"], job.get("spec") or {}, _status(job)
    lines = [
        _field("Name", meta["name"]),
        _field("Namespace", meta.get("namespace", "")),
        _field("Operation", spec.get("operation", "-")),
        _field("Category", status.get("category") or spec.get("category") or "-"),
        _field("Priority", spec.get("priority", 5)),
        _field("Phase", status.get("phase") or "Pending"),
        _field("Progress", bar(status.get("progress"))),
    ]
    optional = [
        ("Queue position", status.get("queuePosition")),
        ("Waiting reason", status.get("waitingReason")),
        ("Message", status.get("message")),
        ("Attempts", status.get("attempts")),
        ("Failures", status.get("failures")),
        ("Retry after", status.get("retryAfter")),
        ("Job", status.get("jobName")),
        ("HitlSession", status.get("hitlSession")),
        ("Started", status.get("startedAt")),
        ("Completed", status.get("completedAt")),
    ]
    lines += [_field(k, v) for k, v in optional if v is not None]
    flags = [f for f in ("suspend", "cancel") if spec.get(f)]
    if flags:
        lines.append(_field("Requested", ", ".join(flags)))
    lines.append(_field("Age", age(meta, now)))
    result = status.get("result") or {}
    outputs = result.get("outputs") or []
    if outputs:
        lines += ["Outputs:", _indent(outputs_table(outputs))]
    if result.get("data"):
        data = json.dumps(result["data"], sort_keys=True)
        lines.append(_field("Result data", one_line(data, 200)))
    lines += ["Events:", _indent(events_table(events, now))]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def outputs_table(outputs: Sequence[Body]) -> str:
    rows = []
    for o in outputs:
        media = [
            f"{o['duration']:.1f}s" if o.get("duration") is not None else "",
            f"{o['width']}x{o['height']}" if o.get("width") and o.get("height") else "",
            "/".join(c for c in (o.get("videoCodec"), o.get("audioCodec")) if c),
        ]
        rows.append(
            [str(o["path"]), _size(int(o["bytes"])), " ".join(m for m in media if m) or "-"]
        )
    return table(["PATH", "SIZE", "MEDIA"], rows)


def events_table(events: Sequence[Body], now: datetime) -> str:
    """The last EVENTS_SHOWN Events, oldest first (as kubectl describe shows them)."""
    if not events:
        return "<none>"

    def when(e: Body) -> str:
        return str(e.get("lastTimestamp") or e.get("eventTime") or e.get("firstTimestamp") or "")

    last = sorted(events, key=when)[-EVENTS_SHOWN:]
    rows = []
    for e in last:
        at = parse_time(when(e)[:19] + "Z" if when(e) else None)
        ago = human_duration((now - at).total_seconds()) if at else "<unknown>"
        rows.append(
            [
                str(e.get("type", "")),
                str(e.get("reason", "")),
                ago,
                one_line(e.get("message"), None),
            ]
        )
    return table(["TYPE", "REASON", "AGE", "MESSAGE"], rows)


HITL_HEADERS = ["NAME", "PLATFORM", "PROFILE", "PHASE", "WAITING", "EXPIRES", "MESSAGE"]


def hitl_table(sessions: Sequence[Body], now: datetime, *, namespaces: bool) -> str:
    if not sessions:
        return "No HitlSessions found."
    rows = []
    for s in sessions:
        spec, status = s.get("spec") or {}, s.get("status") or {}
        expires = parse_time(status.get("expiresAt"))
        phase = status.get("phase") or "Pending"
        left = "-"
        if expires is not None and phase in ("Pending", "InProgress"):
            left = "in " + human_duration((expires - now).total_seconds())
        row = [
            s["metadata"]["name"],
            str(spec.get("platform", "")),
            str(spec.get("creatorProfile", "")),
            str(phase),
            str(len(status.get("waitingJobs") or [])),
            left,
            one_line(status.get("message") or spec.get("alertMessage"), REASON_WIDTH),
        ]
        rows.append([s["metadata"].get("namespace", ""), *row] if namespaces else row)
    headers = ["NAMESPACE", *HITL_HEADERS] if namespaces else HITL_HEADERS
    return table(headers, rows)


def listing(items: Sequence[Body], output: str | None, table: Callable[[], str], kind: str) -> str:
    """ITEMS as -o OUTPUT shows them: a List, names, or TABLE's text."""
    if output in ("json", "yaml"):
        return printed(items, output)
    if output == "name":
        return names(items, kind)
    return table()


def printed(obj: Body | Sequence[Body], output: str) -> str:
    """OBJ as -o json or -o yaml print it (a list of objects as a v1 List, as kubectl does)."""
    shown: Any = obj
    if isinstance(obj, Sequence):
        shown = {"apiVersion": "v1", "kind": "List", "items": list(obj), "metadata": {}}
    if output == "json":
        return json.dumps(shown, indent=4, ensure_ascii=False)
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True).rstrip("\n")


def names(items: Sequence[Body], resource: str) -> str:
    """-o name: resource/name per line."""
    return "\n".join(f"{resource}/{i['metadata']['name']}" for i in items)
