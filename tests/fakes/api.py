"""An in-memory Kubernetes behind the operator's port (mediajobs.kube.port.Api).

What the reconciler relies on, and nothing more: resourceVersions from one
counter, a 409 on a repeated create, a 404 on a missing object, the status
subresource apart from the rest (a spec change moves the generation), JSON merge
patches, owner-reference garbage collection, label selectors of the `k=v,...`
kind, and watches that replay the changes after a version. Tests can hold a
resource's watches back (the watch lagging the writes), make calls fail, and
make them take time on the fake clock. Nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mediajobs.kube.port import EVERYTHING, ApiError, Body, Selection
from tests.fakes.clock import FakeClock


@dataclass(frozen=True)
class Ref:
    """A path, taken apart: /apis/batch/v1/namespaces/ns/jobs/name/status."""

    group: str  # "api/v1", "apis/batch/v1"...
    namespace: str | None
    plural: str
    name: str | None = None
    subresource: str | None = None

    @classmethod
    def of(cls, path: str) -> Ref:
        parts = path.strip("/").split("/")
        cut = 2 if parts[0] == "api" else 3
        group, rest = "/".join(parts[:cut]), parts[cut:]
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        return cls(group, namespace, rest[0], *(rest[1:3]))

    @property
    def collection(self) -> tuple[str, str]:
        return self.group, self.plural


@dataclass
class Failure:
    verb: str
    plural: str
    status: int
    times: int


def merge(target: Body, patch: Mapping[str, Any]) -> Body:
    """RFC 7386: objects merge, None removes, anything else replaces."""
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _terms(selector: str | None) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (t.partition("=") for t in (selector or "").split(",") if t)]


def _field(body: Body, path: str) -> str:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def selected(body: Body, selection: Selection) -> bool:
    """Whether BODY is in SELECTION (equality terms, or a label key alone: present)."""
    have = body["metadata"].get("labels") or {}
    labels = [t for t in (selection.labels or "").split(",") if t]
    present = all(t in have for t in labels if "=" not in t)
    return (
        present
        and all(have.get(k) == v for k, v in _terms(",".join(t for t in labels if "=" in t)))
        and all(_field(body, k) == v for k, v in _terms(selection.fields))
    )


def shown(body: Body, selection: Selection) -> Body:
    """BODY as a list or watch returns it: whole, or as PartialObjectMetadata."""
    if not selection.metadata_only:
        return copy.deepcopy(body)
    meta = copy.deepcopy(body["metadata"])
    return {"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata", "metadata": meta}


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeApi:
    clock: FakeClock
    writes: int = 0
    reads: int = 0
    objects: dict[tuple[str, str], dict[tuple[str | None, str], Body]] = field(default_factory=dict)
    events: list[Body] = field(default_factory=list)  # what post_event posted
    calls: list[tuple[str, str]] = field(default_factory=list)  # (verb, path), in order
    patches: list[tuple[str, Body]] = field(default_factory=list)  # (path, patch) that landed
    latency: dict[str, float] = field(default_factory=dict)  # verb -> seconds on the fake clock
    held: set[str] = field(default_factory=set)  # plurals whose watches deliver nothing for now
    _failures: list[Failure] = field(default_factory=list)
    _log: list[tuple[int, Ref, str, Body]] = field(default_factory=list)  # the watch history
    _version: int = 0
    _uids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _user: bool = False

    # ---- what tests do ------------------------------------------------------------------

    def fail(self, verb: str, plural: str, status: int = 500, times: int = 1) -> None:
        """The next TIMES calls of VERB on PLURAL fail with STATUS."""
        self._failures.append(Failure(verb, plural, status, times))

    @contextlib.contextmanager
    def user(self) -> Iterator[None]:
        """Calls made inside are a user's or the cluster's, not the operator's: never
        delayed, never failed, never counted. (They do not wait: the flag cannot leak.)"""
        self._user = True
        try:
            yield
        finally:
            self._user = False

    def heal(self) -> None:
        """No more injected failures."""
        self._failures.clear()

    def hold(self, plural: str) -> None:
        self.held.add(plural)

    def release(self, plural: str) -> None:
        self.held.discard(plural)
        self._notify()

    def items(self, path: str) -> list[Body]:
        ref = Ref.of(path)
        return [
            copy.deepcopy(b)
            for (ns, _), b in self.objects.get(ref.collection, {}).items()
            if ref.namespace in (None, ns)
        ]

    def read(self, path: str) -> Body:
        ref = Ref.of(path)
        return copy.deepcopy(self.objects[ref.collection][(ref.namespace, ref.name or "")])

    def count(self, verb: str, plural: str) -> int:
        return sum(1 for v, p in self.calls if v == verb and Ref.of(p).plural == plural)

    # ---- the port -----------------------------------------------------------------------

    async def create(self, path: str, body: Body) -> tuple[Body | None, bool]:
        ref = await self._call("create", path)
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        key = (ref.namespace, meta["name"])
        store = self.objects.setdefault(ref.collection, {})
        if key in store:
            return None, False
        if ref.namespace is not None:
            meta["namespace"] = ref.namespace
        meta.update(
            uid=f"uid-{next(self._uids):06d}",
            generation=1,
            creationTimestamp=stamp(self.clock.now()),
        )
        store[key] = obj
        return self._changed_to(ref, "ADDED", obj), True

    async def merge_patch(self, path: str, patch: Body) -> Body:
        ref = await self._call("patch", path)
        old = self._stored(ref)
        if ref.subresource == "status":
            new = merge(old, {"status": patch.get("status")})
        else:
            new = merge(old, {k: v for k, v in patch.items() if k != "status"})
            if new.get("spec") != old.get("spec"):
                new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        self.objects[ref.collection][(ref.namespace, old["metadata"]["name"])] = new
        self.patches.append((path, copy.deepcopy(patch)))
        return self._changed_to(ref, "MODIFIED", new)

    async def replace(self, path: str, body: Body) -> Body:
        """PUT, under optimistic concurrency: a 409 when the resourceVersion moved on."""
        ref = await self._call("update", path)
        old = self._stored(ref)
        if body["metadata"].get("resourceVersion") != old["metadata"]["resourceVersion"]:
            raise ApiError(409, f"{ref.plural} {ref.name!r}: the object has been modified")
        new = copy.deepcopy(body)
        for kept in ("uid", "generation", "creationTimestamp", "namespace"):
            if kept in old["metadata"]:
                new["metadata"][kept] = old["metadata"][kept]
        self.objects[ref.collection][(ref.namespace, old["metadata"]["name"])] = new
        return self._changed_to(ref, "MODIFIED", new)

    async def delete(self, path: str, *, propagation: str = "Background") -> bool:
        ref = await self._call("delete", path)
        try:
            self._remove(ref, self._stored(ref))
        except ApiError:
            return False
        return True

    async def get(self, path: str, *, forbidden_stops: bool = True) -> Body | None:
        ref = await self._call("get", path)
        try:
            return copy.deepcopy(self._stored(ref))
        except ApiError:
            return None

    async def list_versioned(
        self, path: str, selection: Selection = EVERYTHING, *, forbidden_stops: bool = True
    ) -> tuple[list[Body], str]:
        await self._call("list", path)
        items = [shown(b, selection) for b in self.items(path) if selected(b, selection)]
        return items, str(self._version)

    async def watch(
        self,
        path: str,
        selection: Selection,
        *,
        version: str,
        timeout_seconds: int,
        read_timeout: float,
    ) -> AsyncGenerator[Body, None]:
        ref = Ref.of(path)
        seen = int(version or 0)
        while True:
            changed = self._changed
            if ref.plural not in self.held:
                inside: set[str] = set()  # the selection's uids, replayed from the start
                for rv, where, kind, obj in self._log:
                    if where.collection != ref.collection or ref.namespace not in (
                        None,
                        where.namespace,
                    ):
                        continue
                    uid = obj["metadata"]["uid"]
                    was = uid in inside
                    now = kind != "DELETED" and selected(obj, selection)
                    if now:
                        inside.add(uid)
                    else:
                        inside.discard(uid)
                    if rv <= seen or not (was or now):
                        continue
                    seen = rv
                    # Into the selection: ADDED; out of it (or deleted): DELETED.
                    told = "DELETED" if not now else kind if was else "ADDED"
                    yield {"type": told, "object": shown(obj, selection)}
            await changed.wait()

    async def post_event(
        self,
        involved: Mapping[str, Any],
        *,
        type_: str,
        reason: str,
        message: str,
        now: datetime,
    ) -> None:
        await self._call("create", f"/api/v1/namespaces/{involved['namespace']}/events")
        self.events.append(
            {"involvedObject": dict(involved), "type": type_, "reason": reason, "message": message}
        )

    # ---- inside -------------------------------------------------------------------------

    async def _call(self, verb: str, path: str) -> Ref:
        ref = Ref.of(path)
        if self._user:
            return ref
        self.calls.append((verb, path))
        if verb in ("get", "list"):
            self.reads += 1
        else:
            self.writes += 1
        if self.latency.get(verb):
            await self.clock.sleep(self.latency[verb])
        for failure in self._failures:
            if failure.verb == verb and failure.plural == ref.plural and failure.times > 0:
                failure.times -= 1
                raise ApiError(failure.status, f"injected: {verb} {path}")
        return ref

    def _stored(self, ref: Ref) -> Body:
        found = self.objects.get(ref.collection, {}).get((ref.namespace, ref.name or ""))
        if found is None:
            raise ApiError(404, f"{ref.plural} {ref.name!r} not found")
        return found

    def _remove(self, ref: Ref, body: Body) -> None:
        meta = body["metadata"]
        del self.objects[ref.collection][(ref.namespace, meta["name"])]
        self._changed_to(ref, "DELETED", body)
        for collection, store in self.objects.items():  # the garbage collector
            for (ns, name), child in list(store.items()):
                owners = child["metadata"].get("ownerReferences") or []
                if any(o.get("uid") == meta["uid"] for o in owners) and (ns, name) in store:
                    self._remove(Ref(collection[0], ns, collection[1], name), child)

    def _changed_to(self, ref: Ref, kind: str, obj: Body) -> Body:
        self._version += 1
        obj["metadata"]["resourceVersion"] = str(self._version)
        self._log.append((self._version, ref, kind, copy.deepcopy(obj)))
        self._notify()
        return copy.deepcopy(obj)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
