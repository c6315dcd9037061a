"""The job container's first steps: ffprobe is started before the heavy modules load.

A thumbnail takes FFmpeg a fifth of a second; the worker's own start (the
interpreter, pydantic and the models, then an ffprobe process) used to cost
more than that. The probe does not need the models: from the raw task, each
local video input is confined to the media volume, sniffed, and its ffprobe
started with exactly the arguments the worker will ask for, so it runs while
the models load. Anything unusual (a URL, a still, whose header is checked
first, a task that does not parse) simply starts nothing here: the worker
then does everything itself, with the same checks, and validates the task
as always. Probes the worker does not collect are stopped at exit.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from mediajobs.api.contract import TASK_ENV, TASK_FILE_ENV
from mediajobs.worker import containers, limits, probe
from mediajobs.worker.errors import WorkerError
from mediajobs.worker.inputs import media_file


def prefetch(environ: Mapping[str, str]) -> None:
    """Start ffprobe for each local video input the task names, if it reads plainly."""
    try:
        raw = environ.get(TASK_ENV)
        if raw is None and environ.get(TASK_FILE_ENV):
            raw = Path(environ[TASK_FILE_ENV]).read_text()
        task = json.loads(raw or "{}")
        root = Path(task["mediaRoot"]).resolve(strict=True)
        ceiling = limits.max_pixels(limits.memory_limit(task.get("memoryLimitBytes")))
        for ref in task.get("inputs", []):
            if "path" not in ref:
                continue
            path = media_file(root, ref["path"])
            with path.open("rb") as f:
                container = containers.sniff(f.read(containers.HEAD_BYTES))
            if container.kind is containers.Kind.VIDEO:
                probe.start_probe(str(path), container, ceiling)
    except (WorkerError, OSError, ValueError, KeyError, TypeError, AttributeError):
        return  # the worker sees the same problem, with its full checks and its message


def main(argv: Sequence[str] | None = None) -> int:
    prefetch(os.environ)
    from mediajobs.worker.main import main as worker_main  # noqa: PLC0415 - after the probes

    try:
        return worker_main(argv)
    finally:
        probe.discard_early()
