"""The view: what the watches say of MediaJobs, the operator's Jobs, their pods and the quotas.

Informers (kube/watch.py) feed it through the reconciler's observe_* methods,
and so do the API's answers to the operator's own writes (the watch lags them).
An event older than what the view holds is dropped: resourceVersions are etcd
revisions. Pods are kept slim, for the current run of an unfinished Job only:
they say why a Running MediaJob's worker has not started (jobs/outcome.py's
in-flight half). Plain maps, no I/O: the reconciler reads it, nothing else writes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mediajobs.api.common import Category
from mediajobs.jobs.outcome import OutcomeKind, outcome
from mediajobs.lifecycle.plan import NotRunning
from mediajobs.lifecycle.records import (
    JobView,
    Record,
    job_from_body,
    pod_from_body,
    quota_from_body,
    record_from_body,
    resource_version_of,
)
from mediajobs.scheduling.model import JobKey, Quota

log = logging.getLogger("mediajobs.view")


@dataclass(frozen=True)
class Change:
    """What one MediaJob event did to the view."""

    key: JobKey
    gone: bool = False  # deleted, or re-created under its name: forget what was known of it
    updated: bool = False  # a newer record is held: plan it again


@dataclass
class View:
    records: dict[JobKey, Record] = field(default_factory=dict)
    by_uid: dict[str, JobKey] = field(default_factory=dict)
    jobs: dict[str, JobView] = field(default_factory=dict)  # MediaJob uid -> its newest Job
    # MediaJob uid -> (the run, its pods by name), while that run's Job runs
    pods: dict[str, tuple[int, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    quotas: dict[tuple[str, Category], Quota] = field(default_factory=dict)
    quota_version: int = 0  # moves with every quota change (admission reads the quotas)

    def mediajob(self, event_type: str | None, body: Mapping[str, Any]) -> Change:
        meta = body["metadata"]
        key = JobKey(meta["namespace"], meta["name"])
        if event_type == "DELETED":
            self._drop(key)
            return Change(key, gone=True)
        known = self.records.get(key)
        gone = known is not None and known.uid != meta["uid"]
        if gone:
            self._drop(key)  # deleted and re-created under the same name
            known = None
        version = resource_version_of(meta)  # 0: not a number (the API does not promise one)
        if known is not None and version and known.resource_version >= version:
            return Change(key)  # what we hold already (our own write's answer came first), or older
        try:
            record = record_from_body(body, known)
        except (ValueError, KeyError) as err:  # the CRD schema makes this unlikely
            log.warning("ignoring MediaJob %s: %s", key, err)
            return Change(key, gone=gone)
        self.records[key] = record
        self.by_uid[record.uid] = key
        return Change(key, gone=gone, updated=True)

    def _drop(self, key: JobKey) -> None:
        record = self.records.pop(key, None)
        if record is not None:
            self.by_uid.pop(record.uid, None)
            self.jobs.pop(record.uid, None)
            self.pods.pop(record.uid, None)

    def job(self, event_type: str | None, body: Mapping[str, Any]) -> JobKey | None:
        """The MediaJob whose Job changed, if the view holds a newer Job now."""
        view = job_from_body(body)
        if view is None:
            return None
        known = self.jobs.get(view.owner_uid)
        if event_type == "DELETED":
            if known is None or known.name != view.name:
                return None
            self.jobs.pop(view.owner_uid)
        elif known is None or (view.run, view.resource_version) > (
            known.run,
            known.resource_version,
        ):
            self.jobs[view.owner_uid] = view
            if view.finished:
                self.pods.pop(view.owner_uid, None)  # their story is told by the outcome
        else:
            return None
        return self.by_uid.get(view.owner_uid)

    def pod(self, event_type: str | None, body: Mapping[str, Any]) -> JobKey | None:
        """The MediaJob whose worker's pod changed in what the view keeps of it."""
        view = pod_from_body(body)
        if view is None:
            return None
        job = self.jobs.get(view.owner_uid)
        if job is not None and (job.run > view.run or job.finished):
            return None  # an earlier run, or a Job whose outcome is decided
        run, pods = self.pods.get(view.owner_uid, (view.run, {}))
        if view.run < run:
            return None
        if view.run > run:
            pods = {}
        if event_type == "DELETED":
            if pods.pop(view.name, None) is None:
                return None
        elif pods.get(view.name) == view.body:
            return None  # a change of something the view does not keep
        else:
            pods[view.name] = view.body
        if pods:
            self.pods[view.owner_uid] = (view.run, pods)
        else:
            self.pods.pop(view.owner_uid, None)  # nothing left to keep (an orphan's pods too)
        return self.by_uid.get(view.owner_uid)

    def in_flight(self, record: Record) -> tuple[NotRunning | None, bool]:
        """What the pods of RECORD's unfinished Job say, from one outcome: why its worker
        has not started (None once it has, or with no unfinished Job), and whether it
        exited 0 (a second or two before the Job says so)."""
        job = self.jobs.get(record.uid)
        if job is None or job.finished:
            return None, False
        run, pods = self.pods.get(record.uid, (job.run, {}))
        seen = list(pods.values()) if run == job.run else []
        now = outcome(job.body, seen)
        if now.kind is not OutcomeKind.PENDING:
            return None, now.kind is OutcomeKind.SUCCEEDED
        created = (p["metadata"].get("creationTimestamp") for p in seen)
        latest = max((datetime.fromisoformat(c) for c in created if c), default=None)
        return NotRunning(now, latest), False

    def quota(self, event_type: str | None, body: Mapping[str, Any]) -> bool:
        """Whether the event changed a quota admission reads."""
        scoped = quota_from_body(body)
        if scoped is None:
            return False
        scope, quota = scoped
        if event_type == "DELETED":
            self.quotas.pop(scope, None)
        else:
            self.quotas[scope] = quota
        self.quota_version += 1
        return True

    def job_of(self, record: Record) -> JobView | None:
        return self.jobs.get(record.uid)
