"""Watches for the bench: the product's informer (kube/watch.py), timed.

Each event goes to a callback with its arrival time: the moment the informer hands
it over, which is when its chunk arrived plus the decoding of the events before it
in that chunk (microseconds). Watches of labels ask for PartialObjectMetadata. A
watch that dies fails the phase, and so does a relist ("410 Gone"): the informer
would report the objects it lists again at a later time, and the timings would lie.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bench.process import Operator
from mediajobs.jobs.naming import UID_LABEL
from mediajobs.kube.client import Kube
from mediajobs.kube.port import EVERYTHING, Selection
from mediajobs.kube.watch import Informer

OnEvent = Callable[[str, Mapping[str, Any], float], None]


@dataclass
class Watches:
    """Informers feeding callbacks with (type, object, arrival time)."""

    kube: Kube
    informers: list[Informer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def watch(
        self,
        path: str,
        on_event: OnEvent,
        selection: Selection = EVERYTHING,
    ) -> None:
        """Start watching PATH, which must hold nothing yet; returns once it is listed."""
        listed: list[str] = []

        def handle(kind: str, obj: Mapping[str, Any]) -> None:
            if not informer.synced.is_set():  # the first list's objects
                listed.append(obj["metadata"]["name"])
            else:
                on_event(kind, obj, time.monotonic())

        informer = Informer(
            self.kube,
            path,
            handle,
            selection,
        )
        task = asyncio.create_task(informer.run(), name=f"watch {path}")
        self.informers.append(informer)
        self.tasks.append(task)
        synced = asyncio.create_task(informer.synced.wait())
        await asyncio.wait([synced, task], timeout=15, return_when=asyncio.FIRST_COMPLETED)
        synced.cancel()
        if task.done():
            task.result()
        if not informer.synced.is_set():
            raise TimeoutError(f"the watch on {path} did not list")
        if listed:
            raise RuntimeError(f"{path} holds {listed[:3]}...: the bench expects a fresh namespace")

    async def until(
        self, what: str, event: asyncio.Event, timeout: float, op: Operator | None = None
    ) -> None:
        """Wait for EVENT; fail at once if a watch dies or lists again, after TIMEOUT
        otherwise."""
        deadline = time.monotonic() + timeout
        while not event.is_set():
            for task, informer in zip(self.tasks, self.informers, strict=True):
                if task.done():
                    task.result()
                    raise RuntimeError(f"{task.get_name()} ended")
                if informer.lists > 1:
                    raise RuntimeError(f"{task.get_name()} listed again: its timings would lie")
            if op is not None:
                op.alive()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(left, 1.0))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        self.informers.clear()


@dataclass
class Added:
    """Objects ADDED on a watch, by their MediaJob's uid (a Job's label, or a MediaJob's
    own uid); EVENT is set at EXPECTED of them."""

    expected: int
    at: dict[str, float] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, kind: str, obj: Mapping[str, Any], arrived: float) -> None:
        if kind != "ADDED":
            return
        meta = obj["metadata"]
        uid = (meta.get("labels") or {}).get(UID_LABEL, meta.get("uid"))
        if uid is not None:
            self.at.setdefault(uid, arrived)
            if len(self.at) >= self.expected:
                self.event.set()

    @property
    def last(self) -> float:
        return max(self.at.values())
