"""The same worker image without Kubernetes: `ctr run` on the real node's containerd.

What a container per job costs by itself (snapshot, runc, the interpreter's start in
the image, exit and removal), beside what the Kubernetes path adds to it. The Task is
the pod's, with an output of its own; the container runs the image's user, on the
node's network (Redis on the host end of its veth, as the pods reach it), the media
folder bind-mounted at the pod's /media, in a cgroup under the node's cgroup root.

ctr runs inside the node's mount and network namespaces (hack/node.py `inside`): the
task's FIFOs are made where the node's containerd shim can open them.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.jobcost_baselines import Task
from bench.node_events import CRI_NAMESPACE
from mediajobs.api.contract import TASK_ENV
from mediajobs.worker.contract import TERMINATION_LOG_ENV

TIMEOUT = 900.0  # seconds, one task


@dataclass
class ContainerPath:
    """Tasks run one at a time as containers; the first run is untimed."""

    inside: Sequence[str]  # the argv prefix that enters the node's namespaces
    socket: Path
    cgroup_root: str  # the node's (hack/node.py CGROUP_ROOT)
    seconds: list[float] = field(default_factory=list)

    def argv(self, task: Task, media: Path, name: str, image: str) -> list[str]:
        # /dev (where the pod's termination log is) is root's here: the scratch dir instead.
        termination_log = f"{task['scratchDir']}/termination-log"
        return [
            *self.inside, "ctr", f"--address={self.socket}", f"--namespace={CRI_NAMESPACE}",
            "run", "--rm", "--net-host", f"--cgroup={self.cgroup_root}/{name}",
            f"--mount=type=bind,src={media},dst={task['mediaRoot']},options=rbind:rw",
            f"--env={TASK_ENV}={json.dumps(task)}",
            f"--env={TERMINATION_LOG_ENV}={termination_log}",
            image, name, "mediajobs", "worker",
        ]  # fmt: skip

    def _run(self, task: Task, media: Path, name: str, image: str) -> None:
        done = subprocess.run(
            self.argv(task, media, name, image),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"ctr run {name} failed ({done.returncode}): {done.stderr[-2000:]}")

    def run(self, task: Task, media: Path, name: str, image: str) -> None:
        """TASK (a pod's: its paths are the pod's) as container NAME of IMAGE, MEDIA (the
        host's media folder) mounted where the pod had it."""
        if not self.seconds:
            self._run(task, media, f"{name}-warm-up", image)
        start = time.perf_counter()
        self._run(task, media, name, image)
        self.seconds.append(time.perf_counter() - start)
