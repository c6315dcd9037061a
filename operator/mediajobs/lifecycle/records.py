"""The operator's in-memory view of MediaJobs, their Jobs and the quotas (plain data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from mediajobs.api.common import API_VERSION, Category
from mediajobs.api.mediajob import KIND, MediaJobSpec, MediaJobStatus, Phase
from mediajobs.api.quantity import whole
from mediajobs.catalog import parse_params
from mediajobs.jobs.naming import ATTEMPT_LABEL, CONTAINER, RUN_LABEL, UID_LABEL
from mediajobs.jobs.placement import Placement, PlacementError, placement_for
from mediajobs.scheduling.model import Demand, JobKey, Quota

Body = Mapping[str, Any]


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def resource_version_of(meta: Mapping[str, Any]) -> int:
    # resourceVersions are etcd revisions; comparing them drops events older than what we hold.
    raw = meta.get("resourceVersion", "0")
    return int(raw) if str(raw).isdigit() else 0


def explain(err: ValidationError, prefix: str) -> str:
    """A pydantic error as one line a person can act on."""
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"] if p != "__root__")
        parts.append(f"{prefix}{'.' + where if where else ''}: {e['msg']}")
    return "; ".join(parts)


@dataclass(slots=True)
class Record:
    """One MediaJob as the operator tracks it."""

    key: JobKey
    uid: str
    generation: int
    resource_version: int
    created: datetime
    spec: MediaJobSpec
    status: MediaJobStatus
    placement: Placement | None
    invalid: str | None  # what only Python could check, and it failed
    labels: dict[str, str]  # copied onto the Job and its pods (cost attribution, selectors)

    @property
    def phase(self) -> Phase | None:
        return self.status.phase

    @property
    def runs(self) -> int:
        """Jobs created for it so far (the next is run ``runs + 1``: jobs/naming.py); a
        status written before runs were counted had one Job per attempt."""
        status = self.status
        return status.runs if status.runs is not None else (status.attempts or 0)

    @property
    def next_attempt(self) -> int:
        """The attempt its next run belongs to: one after those that ended and counted (a
        failure, a rate-limited wait). A run that found itself logged out counts for
        neither, so the run after the login goes on with its attempt (attempts unchanged)."""
        status = self.status
        return 1 + (status.failures or 0) + (status.rate_limited_waits or 0)

    @property
    def reference(self) -> dict[str, str]:
        """The object reference Events point at."""
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": self.key.name,
            "namespace": self.key.namespace,
            "uid": self.uid,
        }

    def demand(self) -> Demand:
        p = self.placement
        if p is None:
            raise ValueError(f"{self.key} has no placement: {self.invalid}")
        return Demand(p.category, gpus=p.gpus, vram_mib=p.vram_mib, memory_bytes=whole(p.memory))


def record_from_body(body: Body, known: Record | None = None) -> Record:
    """BODY as a Record; KNOWN (the same MediaJob, an older version) lends its parsed
    spec when the generation is the same: most events change only the status."""
    meta = body["metadata"]
    status = MediaJobStatus.model_validate(body.get("status") or {})
    generation = int(meta.get("generation", 1))
    if known is not None and known.uid == meta["uid"] and known.generation == generation:
        return replace(
            known,
            resource_version=resource_version_of(meta),
            status=status,
            labels=dict(meta.get("labels") or {}),
        )
    invalid: str | None = None
    placement: Placement | None = None
    spec = MediaJobSpec.model_validate(body["spec"])
    try:
        parse_params(spec.operation, spec.params)
        placement = placement_for(spec)
    except ValidationError as err:
        invalid = explain(err, "spec.params")
    except PlacementError as err:
        invalid = str(err)
    created = _time(meta.get("creationTimestamp"))
    if created is None:
        raise ValueError("a stored object always has a creationTimestamp")
    return Record(
        key=JobKey(meta["namespace"], meta["name"]),
        uid=meta["uid"],
        generation=generation,
        resource_version=resource_version_of(meta),
        created=created,
        spec=spec,
        status=status,
        placement=placement,
        invalid=invalid,
        labels=dict(meta.get("labels") or {}),
    )


@dataclass(slots=True)
class JobView:
    """What the operator keeps of one of its batch/v1 Jobs."""

    namespace: str
    name: str
    owner_uid: str
    attempt: int
    run: int  # its number among the MediaJob's Jobs (its name's; jobs/naming.py)
    resource_version: int
    suspended: bool
    active: int
    finished: bool
    started: datetime | None  # the attempt's start (status.startTime, reset on a resume)
    body: dict[str, Any]  # metadata (trimmed), spec.suspend and status: what outcome() reads


def _run(labels: Mapping[str, str]) -> int:
    # A Job created before runs were counted: one per attempt, named by it.
    return int(labels.get(RUN_LABEL) or labels[ATTEMPT_LABEL])


def job_from_body(body: Body) -> JobView | None:
    """A Job created by the operator, or None for any other Job."""
    meta = body["metadata"]
    labels = meta.get("labels") or {}
    if UID_LABEL not in labels or ATTEMPT_LABEL not in labels:
        return None
    status = body.get("status") or {}
    finished = any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    spec = body.get("spec") or {}
    return JobView(
        namespace=meta["namespace"],
        name=meta["name"],
        owner_uid=labels[UID_LABEL],
        attempt=int(labels[ATTEMPT_LABEL]),
        run=_run(labels),
        resource_version=resource_version_of(meta),
        suspended=bool(spec.get("suspend")),
        active=int(status.get("active") or 0),
        finished=finished,
        started=_time(status.get("startTime") or meta.get("creationTimestamp")),
        body={
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels},
            "spec": {"suspend": spec.get("suspend", False)},
            "status": status,
        },
    )


@dataclass(frozen=True, slots=True)
class PodView:
    """One pod of an operator's Job, slimmed to what the in-flight outcome reads."""

    owner_uid: str
    run: int  # its Job's
    name: str
    body: dict[str, Any]  # metadata.name/creationTimestamp, the status outcome() reads


def _slim_state(state: Mapping[str, Any] | None) -> dict[str, Any]:
    """A container state without what outcome() does not read (the termination message)."""
    out: dict[str, Any] = {}
    for kind, fields in (
        ("waiting", ("reason", "message")),
        ("running", ("startedAt",)),
        ("terminated", ("exitCode", "reason", "startedAt", "finishedAt")),
    ):
        if (state or {}).get(kind) is not None:
            out[kind] = {f: state[kind][f] for f in fields if f in state[kind]}  # type: ignore[index]
    return out


def pod_from_body(body: Body) -> PodView | None:
    """A pod of an operator's Job, or None for any other pod. Kept slim: the view holds
    one per active Job, and its watch is the busiest the operator reads."""
    meta = body["metadata"]
    labels = meta.get("labels") or {}
    if UID_LABEL not in labels or ATTEMPT_LABEL not in labels:
        return None
    status = body.get("status") or {}
    conditions = [
        {k: c[k] for k in ("type", "status", "reason", "message") if k in c}
        for c in status.get("conditions") or []
        if (c.get("type"), c.get("status"))
        in (("PodScheduled", "False"), ("DisruptionTarget", "True"))
    ]
    containers = [
        {
            "name": s["name"],
            "state": _slim_state(s.get("state")),
            "lastState": _slim_state(s.get("lastState")),
        }
        for s in status.get("containerStatuses") or []
        if s.get("name") == CONTAINER
    ]
    slim: dict[str, Any] = {k: status[k] for k in ("phase", "reason", "message") if k in status}
    return PodView(
        owner_uid=labels[UID_LABEL],
        run=_run(labels),
        name=meta["name"],
        body={
            "metadata": {"name": meta["name"], "creationTimestamp": meta.get("creationTimestamp")},
            "status": slim | {"conditions": conditions, "containerStatuses": containers},
        },
    )


PRIORITY_CLASS_CATEGORY = {c.priority_class: c for c in Category}


def quota_from_body(body: Body) -> tuple[tuple[str, Category], Quota] | None:
    """A ResourceQuota scoped to one category's PriorityClass, or None for any other quota."""
    spec = body.get("spec") or {}
    classes = [
        value
        for expr in (spec.get("scopeSelector") or {}).get("matchExpressions") or []
        if expr.get("scopeName") == "PriorityClass" and expr.get("operator") == "In"
        for value in expr.get("values") or []
    ]
    categories = {PRIORITY_CLASS_CATEGORY[c] for c in classes if c in PRIORITY_CLASS_CATEGORY}
    if len(categories) != 1:
        return None
    hard = spec.get("hard") or {}
    used = (body.get("status") or {}).get("used") or {}

    def limit(*names: str) -> int | None:
        return next((whole(hard[n]) for n in names if n in hard), None)

    def usage(*names: str) -> int:
        return next((whole(used[n]) for n in names if n in used), 0)

    gpu = ("requests.nvidia.com/gpu",)
    memory = ("requests.memory", "memory")
    quota = Quota(
        name=body["metadata"]["name"],
        pods=limit("pods", "count/pods"),
        gpus=limit(*gpu),
        memory_bytes=limit(*memory),
        used_pods=usage("pods", "count/pods"),
        used_gpus=usage(*gpu),
        used_memory_bytes=usage(*memory),
    )
    return (body["metadata"]["namespace"], categories.pop()), quota
