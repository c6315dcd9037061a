"""The Kubernetes path's two baselines, fed the very Tasks the operator gave the pods.

- the warm worker: one process, its modules loaded, running each Task with `run_task`
  (what a Redis-queue worker does per message, minus the queue), publishing progress
  to the same Redis as the pods;
- bare FFmpeg: the argv the worker builds for the Task.

Both run each task right after its pod did (the same background load: no drift
between the paths), each after one untimed warm-up run on its first task (bytecode,
page cache), like a worker that has served before. A Task from a pod names the pod's
paths (/media, /tmp): `local_task` points it at the host's media folder and a scratch
folder, and at an output of its own.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mediajobs.api.contract import TASK_ENV, ExitCode
from mediajobs.catalog.params import ReencodeStreamingParams, ThumbnailGenerateParams
from mediajobs.worker.argv import Command, reencode_streaming, thumbnail
from mediajobs.worker.gpu import LIBX264, Encoder
from mediajobs.worker.limits import memory_limit
from mediajobs.worker.main import run_task
from mediajobs.worker.operations import PICTURES, VIDEOS
from mediajobs.worker.sources import open_source

Task = dict[str, Any]
T = TypeVar("T")


def local_task(task: Mapping[str, Any], media: Path, scratch: Path, output: str) -> Task:
    """TASK (as a pod got it) run on this host: the media folder, scratch, OUTPUT (a path
    on the media volume, so the pods' outputs are not overwritten)."""
    return dict(task) | {
        "mediaRoot": str(media),
        "scratchDir": str(scratch),
        "output": {"path": output},
    }


def _timed(run: Callable[[T], None], item: T) -> float:
    start = time.perf_counter()
    run(item)
    return time.perf_counter() - start


def _warm_run(task: Task) -> None:
    code, message = run_task({TASK_ENV: json.dumps(task)})
    if code != ExitCode.OK:
        raise RuntimeError(f"the warm worker failed {task['name']}: {message.error}")


def bare_command(task: Mapping[str, Any]) -> Command:
    """The FFmpeg command the worker builds for TASK (a local one); its output's folder made."""
    media = Path(task["mediaRoot"])
    source_path = media / task["inputs"][0]["path"]
    out = media / task["output"]["path"]
    out.parent.mkdir(parents=True, exist_ok=True)
    limit = memory_limit(task.get("memoryLimitBytes"))
    operation = task["operation"]
    if operation == "thumbnail_generate":
        source = open_source(source_path, PICTURES, operation, limit)
        return thumbnail(ThumbnailGenerateParams.model_validate(task["params"]), source, str(out))
    if operation == "reencode_streaming":
        source = open_source(source_path, VIDEOS, operation, limit)
        params = ReencodeStreamingParams.model_validate(task["params"])
        return reencode_streaming(params, source, str(out), Encoder(LIBX264))
    raise ValueError(f"no bare command for {operation}")


def _bare_run(command: Command) -> None:
    subprocess.run(command.argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@dataclass
class Baselines:
    """Both baselines, task by task: each path warmed up (one untimed run) on its first."""

    warm: list[float] = field(default_factory=list)  # seconds per task, in order
    bare: list[float] = field(default_factory=list)

    def run(self, warm_task: Task, bare_task: Task) -> None:
        """The same task on both paths (WARM_TASK and BARE_TASK differ in their outputs)."""
        if not self.warm:
            _warm_run(warm_task)
        self.warm.append(_timed(_warm_run, warm_task))
        command = bare_command(bare_task)  # probing the input is not timed
        if not self.bare:
            _bare_run(command)
        self.bare.append(_timed(_bare_run, command))
