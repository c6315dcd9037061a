"""The real node's containerd, heard from the host: its task events and its containers.

hack/node.py's containerd listens on a socket in the cluster's state folder, which the
host reaches as it is (the node's mount namespace only adds mounts of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from bench.jobcost_timeline import ContainerdEvent, parse_containerd_event

CRI_NAMESPACE = "k8s.io"
SANDBOX_ANNOTATION = "io.kubernetes.cri.sandbox-id"


@dataclass
class ContainerdEvents:
    """`ctr events` collected while the phase runs (nanosecond timestamps)."""

    socket: Path
    events: list[ContainerdEvent] = field(default_factory=list)
    _proc: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None

    def _ctr(self, *args: str) -> list[str]:
        return ["ctr", f"--address={self.socket}", f"--namespace={CRI_NAMESPACE}", *args]

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            *self._ctr("events"), stdout=asyncio.subprocess.PIPE
        )
        self._reader = asyncio.create_task(self._read(self._proc))

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        if proc.stdout is None:
            raise RuntimeError("`ctr events` has no stdout pipe")
        async for raw in proc.stdout:
            event = parse_containerd_event(raw.decode(errors="replace").rstrip("\n"))
            if event is not None:
                self.events.append(event)

    def alive(self) -> None:
        if self._proc is not None and self._proc.returncode is not None:
            raise RuntimeError(f"`ctr events` exited ({self._proc.returncode})")

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.terminate()
            await self._proc.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def sandbox_of(self, container: str) -> str:
        """The id of the pod sandbox CONTAINER runs in (the CRI's annotation on it)."""
        proc = await asyncio.create_subprocess_exec(
            *self._ctr("containers", "info", container),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"ctr containers info {container}: {err.decode().strip()}")
        annotations = json.loads(out)["Spec"].get("annotations") or {}
        return str(annotations[SANDBOX_ANNOTATION])
