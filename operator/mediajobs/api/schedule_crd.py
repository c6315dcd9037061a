"""The MediaJobSchedule CRD: api/crd.py's generator applied to api/schedule.py.

The run template's spec (and each pipeline step's) is a MediaJob's spec with the
catalog's params and CEL rules, so a template that no MediaJob could have is
refused at apply time, less the rules that compare with ``oldSelf``: a MediaJob's
operation and inputs are immutable, a schedule's template is not (a change applies
to the next run). A step's spec also goes without the rules that refuse another
operation's params, most of a spec's size: the operator refuses those (the
schedule's Ready condition says InvalidSpec), and the CRD stays small enough for
``kubectl apply``'s last-applied annotation (256 KiB).
"""

from __future__ import annotations

from collections.abc import Sequence

from mediajobs.api.crd import (
    OperationContract,
    Schema,
    _col,
    _crd,
    mediajob_spec,
    structural,
)
from mediajobs.api.schedule import KIND, PLURAL, MediaJobScheduleSpec, MediaJobScheduleStatus

_RULES = "x-kubernetes-validations"


def _mutable(node: object) -> object:
    """NODE without its transition rules (those that read oldSelf)."""
    if isinstance(node, list):
        return [_mutable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _mutable(v) for k, v in node.items() if k != _RULES}
    kept = [r for r in node.get(_RULES, []) if "oldSelf" not in r["rule"]]
    if kept:
        out[_RULES] = kept
    return out


def schedule_crd(contracts: Sequence[OperationContract]) -> Schema:
    spec = structural(MediaJobScheduleSpec)
    template = spec["properties"]["jobTemplate"]
    job_spec = _mutable(mediajob_spec(contracts))
    template["properties"]["spec"] = job_spec
    step = template["properties"]["steps"]["items"]
    # A step's params of another operation are the operator's to refuse (InvalidSpec).
    step["properties"]["spec"] = _mutable(mediajob_spec(contracts, foreign_params_rules=False))
    columns = [
        _col("Schedule", ".status.schedule"),
        _col("Suspend", ".spec.suspend", "boolean"),
        _col("Active", ".status.activeCount", "integer"),
        _col("Last", ".status.lastScheduleTime", "date"),
        _col("Next", ".status.nextScheduleTime", "date"),
        _col("Age", ".metadata.creationTimestamp", "date"),
        _col("Operation", ".spec.jobTemplate.spec.operation", priority=1),
        _col("TimeZone", ".spec.timeZone", priority=1),
        _col("Succeeded", ".status.succeeded", "integer", priority=1),
        _col("Failed", ".status.failed", "integer", priority=1),
        _col("Skipped", ".status.skipped", "integer", priority=1),
        _col("Message", ".status.message", priority=1),
    ]
    return _crd(
        kind=KIND,
        description="A MediaJobSchedule runs a MediaJob template on a cron schedule, in a "
        "time zone, with CronJob's concurrency policy and history limits: each run is one "
        "MediaJob named after the schedule and its scheduled time.",
        plural=PLURAL,
        short_names=["mjs"],
        spec=spec,
        status=structural(MediaJobScheduleStatus),
        columns=columns,
        selectable=[".spec.suspend"],
    )
