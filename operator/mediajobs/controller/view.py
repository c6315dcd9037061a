"""The view: what the watches say of MediaJobs, the operator's Jobs and the quotas.

Informers (kube/watch.py) feed it through the reconciler's observe_* methods,
and so do the API's answers to the operator's own writes (the watch lags them).
An event older than what the view holds is dropped: resourceVersions are etcd
revisions. Plain maps, no I/O: the reconciler reads it, nothing else writes it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mediajobs.api.common import Category
from mediajobs.lifecycle.records import (
    JobView,
    Record,
    job_from_body,
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
        elif known is None or (view.attempt, view.resource_version) > (
            known.attempt,
            known.resource_version,
        ):
            self.jobs[view.owner_uid] = view
        else:
            return None
        return self.by_uid.get(view.owner_uid)

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
