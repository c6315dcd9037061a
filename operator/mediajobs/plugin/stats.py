"""`stats`: per category waiting, active, completed, failed, delayed and the limit; VRAM
per GPU pool. The operator's /stats document when it can be reached (through the API
server's service proxy), else the same figures computed from the MediaJobs, the
operator's configuration and the GPU pools their Jobs were placed in. Pure functions.

Computed, completed and failed count the finished MediaJobs still kept (the retention),
where the operator's /stats counts those that finished since it started.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mediajobs.api.common import Category
from mediajobs.api.mediajob import Phase
from mediajobs.config import OperatorConfig
from mediajobs.lifecycle.records import record_from_body
from mediajobs.plugin.render import bar, table

Body = Mapping[str, Any]
_WAITING = (Phase.PENDING, Phase.QUEUED)
_COUNTED = {
    Phase.RUNNING: "active",
    Phase.SUCCEEDED: "completed",
    Phase.FAILED: "failed",
    **dict.fromkeys(_WAITING, "waiting"),
    **dict.fromkeys((p for p in Phase if p.delayed), "delayed"),
}


def computed(
    jobs: Sequence[Body], config: OperatorConfig, pool_of_job: Mapping[str, str]
) -> dict[str, Any]:
    """The /stats figures from JOBS (MediaJob bodies); POOL_OF_JOB maps a batch Job's name
    (status.jobName) to the GPU pool it was placed in."""
    counts: dict[Category, Counter[str]] = {c: Counter() for c in Category}
    used: Counter[str] = Counter()
    for body in jobs:
        record = record_from_body(body)
        if record.placement is None:
            continue  # an invalid spec: it never reaches a queue
        phase = record.phase or Phase.PENDING
        if phase in _COUNTED:
            counts[record.placement.category][_COUNTED[phase]] += 1
        pool = pool_of_job.get(record.status.job_name or "")
        if phase == Phase.RUNNING and pool is not None:
            used[pool] += record.placement.vram_mib
    return {
        "queues": {
            c.value: {
                key: counts[c][key]
                for key in ("waiting", "active", "completed", "failed", "delayed")
            }
            | {"limit": config.limit(c).max_running}
            for c in Category
        },
        "vram": {
            p.name: {
                "usedMiB": used[p.name],
                "totalMiB": p.vram_mib,
                "availableMiB": p.vram_mib - used[p.name],
            }
            for p in config.gpu_pools
        },
    }


def stats_text(stats: Body, source: str) -> str:
    """The two tables of STATS (the /stats shape) and where the figures come from."""
    queues = stats.get("queues") or {}
    columns = ("waiting", "active", "completed", "failed", "delayed", "limit")
    rows = [[name, *(str(q.get(k, 0)) for k in columns)] for name, q in queues.items()]
    parts = [table(["CATEGORY", *(c.upper() for c in columns)], rows)]
    pools = stats.get("vram") or {}
    if pools:
        pool_rows = []
        for name, p in pools.items():
            total, used = int(p.get("totalMiB", 0)), int(p.get("usedMiB", 0))
            share = round(100 * used / total) if total else 0
            row = [name, str(used), str(p.get("availableMiB", total - used)), str(total)]
            pool_rows.append([*row, bar(share)])
        parts.append(
            table(["POOL", "VRAM USED MiB", "AVAILABLE MiB", "TOTAL MiB", "USE"], pool_rows)
        )
    parts.append(f"Source: {source}")
    return "\n\n".join(parts)
