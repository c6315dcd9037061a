"""An example ``tag_generation`` step: the worker contract, kept by a custom container.

mediajobs runs no tagging model of its own: ``tag_generation`` is a MediaJob
with ``operation: custom`` and ``category: gpu_ai`` whose container is yours.
This script is that container's entrypoint, built on the ffmpeg-worker image
(so the mediajobs package, FFmpeg and the safe way of opening a user's file
are there). It keeps the whole contract; only :func:`tags_for` is a
placeholder for your model: here it derives honest, model-free tags from the
probe (orientation, resolution, length, sound), and says so in the result.

The contract (README, "Plugging in a model: tag_generation"):

- The task arrives as JSON in ``MEDIAJOB_TASK`` (or a file named by
  ``MEDIAJOB_TASK_FILE``): ``operation`` is ``custom``, ``inputs`` holds the
  one ``{"path": ...}`` relative to ``mediaRoot``, ``gpu`` says whether the pod
  holds a GPU, ``memoryLimitBytes`` the container's limit, ``progress`` the
  Redis stream for progress events. Your own settings come through
  ``spec.container.args``/``env`` (``params`` must stay empty for ``custom``).
- The answer is ``/dev/termination-log`` (``MEDIAJOB_TERMINATION_LOG`` moves it
  for a local run): ``{"result": {"outputs": [...], "data": {...}}}`` on
  success, ``{"error": "one line"}`` on failure, at most 4096 bytes.
- The exit code decides what happens next: 0 done; 2 invalid input, failed at
  once and never retried; 75 (or any other) retried with backoff.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import TERMINATION_LOG, ExitCode, Task, TerminationMessage
from mediajobs.worker.containers import Kind
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, WorkerError, from_unexpected
from mediajobs.worker.inputs import media_file
from mediajobs.worker.limits import memory_limit
from mediajobs.worker.main import TERMINATION_LOG_ENV, read_task, termination_message
from mediajobs.worker.probe import Probe
from mediajobs.worker.sink import Reporter
from mediajobs.worker.sources import open_source

MODEL = "probe-rules-example"  # name your model and its version here: the result carries it
PICTURES = frozenset({Kind.VIDEO, Kind.STILL})


def tags_for(probe: Probe) -> list[str]:
    """The tags for one input. Replace with your model's call on the file."""
    picture = probe.video
    tags = []
    if picture is not None:
        width, height = picture.display_width, picture.display_height
        tags.append("vertical" if height > width else "square" if height == width else "landscape")
        tags.append("4k" if min(width, height) >= 2160 else "hd" if min(width, height) >= 720
                    else "sd")  # fmt: skip
    if probe.is_image:
        tags.append("still")
    elif probe.media_duration is not None:
        tags.append("short" if probe.media_duration < 60 else "long")
        tags.append("with-sound" if probe.audio is not None else "silent")
    return tags


def tag(task: Task) -> JobResult:
    """TASK's one input, opened the guarded way (sniffed, pinned demuxer), tagged."""
    if len(task.inputs) != 1 or task.inputs[0].path is None:
        raise InvalidInput("tag_generation takes one input path on the media volume")
    try:
        root = Path(task.media_root).resolve(strict=True)
    except OSError as err:
        raise TemporaryFailure(f"media volume {task.media_root} is not mounted") from err
    path = media_file(root, task.inputs[0].path)
    source = open_source(path, PICTURES, "tag_generation", memory_limit(task.memory_limit_bytes))
    return JobResult(data={"model": MODEL, "tags": tags_for(source.probe)})


def main() -> int:
    try:
        task = read_task(os.environ)
        reporter = Reporter(task)  # progress to Redis, best effort
        reporter.update(0)
        result = tag(task)
        reporter.finish(result)
        code, message = ExitCode.OK, TerminationMessage(result=result)
    except WorkerError as err:
        code, message = err.exit_code, TerminationMessage(error=str(err))
    except Exception as err:  # anything else is retried, its one line kept
        failure = from_unexpected(err)
        code, message = failure.exit_code, TerminationMessage(error=str(failure))
    path = os.environ.get(TERMINATION_LOG_ENV, TERMINATION_LOG)
    Path(path).write_text(termination_message(message))
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
