"""What the reconciler knows of pipelines: who depends on whom, in memory.

Every MediaJob the view holds that waits at its dependency gate is indexed by the
names its ``spec.dependsOn`` lists (one past it, or finished, is forgotten),
so that when one changes phase (or appears, or is deleted) its dependents are
planned again at once, without a read of the API server. A dependency deleted
while something depends on it is remembered as it was last seen (a tombstone):
one that had succeeded still lends its outputs, any other fails its dependents
(lifecycle/dependencies.py decides). Tombstones live as long as a dependent names
them; after a restart a deleted dependency reads as missing (InvalidSpec).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from mediajobs.lifecycle.dependencies import Dependency, find_cycle, gate_passed
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.model import JobKey


def _dependency(record: Record) -> Dependency:
    result = record.status.result
    outputs = tuple(o.path for o in result.outputs) if result is not None else ()
    return Dependency(record.key.name, record.phase, outputs)


def _finished(record: Record) -> bool:
    return record.phase is not None and record.phase.finished


class Dependents:
    def __init__(self) -> None:
        self.dependents: dict[JobKey, set[JobKey]] = {}  # a dependency -> who names it
        self.graph: dict[str, dict[str, tuple[str, ...]]] = {}  # ns -> name -> dependsOn
        self.seen: dict[JobKey, Dependency] = {}  # each MediaJob someone names, as last seen
        self.tombstones: dict[JobKey, Dependency] = {}

    def observe(self, key: JobKey, record: Record | None) -> set[JobKey]:
        """KEY now reads RECORD (None: deleted): the dependents to plan again."""
        self._index(key, record)
        named = self.dependents.get(key)
        if not named:
            return set()
        if record is None:
            last = self.seen.pop(key, None)
            if last is not None:  # its dependents learn it is gone, and what it was
                self.tombstones[key] = replace(last, deleted=True)
            return set(named)
        self.tombstones.pop(key, None)
        now, before = _dependency(record), self.seen.get(key)
        self.seen[key] = now
        if before is not None and before.phase == now.phase:
            return set()  # progress, a position: nothing a dependent reads
        return set(named)

    def _index(self, key: JobKey, record: Record | None) -> None:
        spaced = self.graph.setdefault(key.namespace, {})
        before = spaced.get(key.name, ())
        waits = record is not None and not gate_passed(record) and not _finished(record)
        after = tuple(record.spec.depends_on or ()) if waits and record is not None else ()
        if before == after:
            return
        for name in set(before) - set(after):
            dependency = JobKey(key.namespace, name)
            left = self.dependents.get(dependency, set())
            left.discard(key)
            if not left:  # nobody names it any more
                self.dependents.pop(dependency, None)
                self.tombstones.pop(dependency, None)
                self.seen.pop(dependency, None)
        for name in set(after) - set(before):
            self.dependents.setdefault(JobKey(key.namespace, name), set()).add(key)
        if after:
            spaced[key.name] = after
        else:
            spaced.pop(key.name, None)

    def of(
        self, record: Record, records: Mapping[JobKey, Record]
    ) -> tuple[dict[str, Dependency], list[str] | None]:
        """What RECORD's dependencies are, and a cycle through it (None: none); nothing
        for a job past its gate or with no dependsOn (no cycle goes through it)."""
        if not record.spec.depends_on or gate_passed(record):
            return {}, None
        ns = record.key.namespace
        known: dict[str, Dependency] = {}
        for name in record.spec.depends_on or ():
            key = JobKey(ns, name)
            found = records.get(key)
            if found is not None:
                known[name] = self.seen[key] = _dependency(found)
            elif key in self.tombstones:
                known[name] = self.tombstones[key]
        return known, find_cycle(record.key.name, self.graph.get(ns, {}))
