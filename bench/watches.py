"""Watch streams for the bench: (type, object, arrival time) to callbacks.

Why not the product's informer (kube/watch.py): the bench times events to the
chunk they arrived in, asks for PartialObjectMetadata (an Accept header) and field
selectors where the informer's port (kube/port.py) has neither, and a watch that
fails must fail the phase: the informer's relist after "410 Gone" would report
every object ADDED again, at a later time, and the timings would lie. Giving the
port an Accept header and an arrival time just for the bench would widen the
product's API for a measurement; this loop is 60 lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.process import Operator
from mediajobs.jobs.naming import UID_LABEL
from mediajobs.kube.client import Kube

OnEvent = Callable[[str, dict[str, Any], float], None]
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


@dataclass
class Watches:
    """Watch streams feeding callbacks with (type, object, arrival time)."""

    kube: Kube
    session: aiohttp.ClientSession
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def watch(
        self,
        path: str,
        on_event: OnEvent,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        metadata_only: bool = False,
    ) -> None:
        """Start watching PATH from now on; returns once the stream is open."""
        selector = {"labelSelector": label_selector} if label_selector else {}
        if field_selector:
            selector["fieldSelector"] = field_selector
        listing = await self.kube.request("GET", path, params={"limit": "1", **selector})
        if listing.get("items"):
            raise RuntimeError(f"{path} is not empty: the bench expects a fresh namespace")
        opened = asyncio.Event()
        version = str(listing["metadata"]["resourceVersion"])
        headers = {"Accept": METADATA_ONLY} if metadata_only else {}

        async def stream() -> None:
            nonlocal version
            while True:  # the server ends a watch after timeoutSeconds: go on from there
                params = {
                    "watch": "1",
                    "resourceVersion": version,
                    "allowWatchBookmarks": "true",
                    "timeoutSeconds": "1800",
                    **selector,
                }
                async with self.session.get(path, params=params, headers=headers) as resp:
                    if resp.status != 200:
                        raise RuntimeError(f"watch {path}: {resp.status} {await resp.text()}")
                    opened.set()
                    pending = b""
                    async for chunk in resp.content.iter_any():
                        arrived = time.monotonic()
                        *lines, pending = (pending + chunk).split(b"\n")
                        for line in lines:
                            if not line.strip():
                                continue
                            event = json.loads(line)
                            obj = event["object"]
                            if event["type"] == "ERROR":
                                raise RuntimeError(f"watch {path}: {obj.get('message', obj)}")
                            version = obj["metadata"]["resourceVersion"]
                            if event["type"] != "BOOKMARK":
                                on_event(event["type"], obj, arrived)

        task = asyncio.create_task(stream(), name=f"watch {path}")
        self.tasks.append(task)
        waiter = asyncio.create_task(opened.wait())
        await asyncio.wait([waiter, task], timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            task.result()
        if not opened.is_set():
            waiter.cancel()
            raise TimeoutError(f"the watch on {path} did not open")

    async def until(
        self, what: str, event: asyncio.Event, timeout: float, op: Operator | None = None
    ) -> None:
        """Wait for EVENT; fail at once if a watch dies, and after TIMEOUT otherwise."""
        deadline = time.monotonic() + timeout
        while not event.is_set():
            for task in self.tasks:
                if task.done():
                    task.result()
                    raise RuntimeError(f"{task.get_name()} ended")
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


@dataclass
class Added:
    """Objects ADDED on a watch, by their MediaJob's uid (a Job's label, or a MediaJob's
    own uid); EVENT is set at EXPECTED of them."""

    expected: int
    at: dict[str, float] = field(default_factory=dict)
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, kind: str, obj: dict[str, Any], arrived: float) -> None:
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
