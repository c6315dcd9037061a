"""A task from start to result: params, inputs fetched and checked, the budget, the handler.

:mod:`operations` holds what each operation does with its inputs; this module
turns a :class:`~mediajobs.api.task.Task` into those inputs (resolved or
downloaded, sniffed, probed, within the memory budget) and runs the handler.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from mediajobs.api.common import Operation
from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import Footprint, Task
from mediajobs.catalog import Runner, entry, parse_params
from mediajobs.catalog import params as p
from mediajobs.worker import budget, limits
from mediajobs.worker.containers import Kind
from mediajobs.worker.contract import validation_summary
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, WorkerError, from_os_error
from mediajobs.worker.inputs import media_file
from mediajobs.worker.operations import PICTURES, Handler, HandlerTable, Job
from mediajobs.worker.run import Report
from mediajobs.worker.sources import open_source

# The module whose HANDLERS holds each operation that is not a plain one (those
# are in operations). Imported for its task only: a job container runs one
# task, and a thumbnail's start should not pay for the highlights, reframe and
# library modules (tests/unit/worker/test_dispatch.py checks both directions).
_SMART = "mediajobs.worker.smart"
_LIBRARY = "mediajobs.worker.library.handlers"
HANDLER_MODULES: dict[Operation, str] = {
    Operation.SCENE_EXTRACT: _SMART,
    Operation.HIGHLIGHT_GENERATE: _SMART,
    Operation.CLIP_GENERATE: _SMART,
    Operation.DIGEST_GENERATE: _SMART,
    Operation.AUTO_REFRAME: _SMART,
    Operation.SCAN: _LIBRARY,
    Operation.PUBLIC_SCAN: _LIBRARY,
    Operation.MOVE_TO_LIBRARY: _LIBRARY,
    Operation.COMPILE_RANDOM: _LIBRARY,
    Operation.COMPILE_MEGA: _LIBRARY,
}
PLAIN = "mediajobs.worker.operations"


def handler_for(operation: Operation) -> tuple[Handler, frozenset[Kind]]:
    """OPERATION's handler and the kinds of input it opens, its module loaded now."""
    module = importlib.import_module(HANDLER_MODULES.get(operation, PLAIN))
    table: HandlerTable = module.HANDLERS
    return table[operation]


# Told what the inputs will take before anything decodes them (the provisional
# termination message), so a kill for memory still says what was being done.
NoteFootprint = Callable[[Footprint], None]


def _params(task: Task) -> p.Params:
    try:
        return parse_params(task.operation, task.params)
    except ValidationError as err:
        raise InvalidInput(f"invalid params: {validation_summary(err)}") from err


def _media_root(task: Task) -> Path:
    try:
        return Path(task.media_root).resolve(strict=True)
    except OSError as err:
        raise TemporaryFailure(f"media volume {task.media_root} is not mounted") from err


def _download(job: Job, url: str, number: int) -> tuple[Path, str]:
    """URL saved in the scratch dir, and the name it had."""
    # The HTTP and TLS modules load only when a task has a URL.
    from mediajobs.worker.download import download, url_name  # noqa: PLC0415

    name = url_name(url) or f"input-{number}"
    dest = job.scratch / f"input-{number}"  # no suffix needed: the demuxer comes from the sniff
    task = job.task
    download(url, dest, max_bytes=task.max_download_bytes, allow_private=task.allow_private_urls)
    return dest, name


def _fetch(job: Job, kinds: frozenset[Kind]) -> None:
    """Resolve or download every input, check it is not empty, sniff and probe it."""
    task = job.task
    operation = task.operation.value
    for number, ref in enumerate(task.inputs, start=1):
        try:
            if ref.path is not None:
                local, name = media_file(job.root, ref.path), ref.path
            else:
                local, name = _download(job, ref.url or "", number)
            if local.stat().st_size == 0:
                raise InvalidInput("input is empty (0 bytes)")
            if any(Path(s.path) == local for s in job.sources):
                # ffmpeg-python merges inputs with equal paths: give the repeat its own name.
                link = job.scratch / f"repeat-{number}{local.suffix}"
                link.symlink_to(local)
                local = link
            job.sources.append(open_source(local, kinds, operation, job.limit))
            job.names.append(name)
        except WorkerError as err:
            if len(task.inputs) == 1:
                raise
            raise type(err)(f"input {number}: {err}") from err


def execute(task: Task, report: Report, note: NoteFootprint = lambda _: None) -> JobResult:
    """Run TASK to its result; every failure is a classified WorkerError.

    NOTE hears the inputs' footprint once they are probed, before any decode.
    """
    catalog_entry = entry(task.operation)
    if catalog_entry.runner is not Runner.FFMPEG:
        raise InvalidInput(f"operation {task.operation.value} is not run by the FFmpeg worker")
    params = _params(task)
    count, wanted = len(task.inputs), catalog_entry.inputs
    if not wanted.min <= count <= wanted.max:
        raise InvalidInput(
            f"{task.operation.value} takes {wanted.min}-{wanted.max} inputs, got {count}"
        )
    root = _media_root(task)
    try:
        scratch = tempfile.TemporaryDirectory(prefix="mediajob-", dir=task.scratch_dir)
    except OSError as err:
        raise from_os_error(err, "creating the scratch directory") from err
    handler, kinds = handler_for(task.operation)
    limit = limits.memory_limit(task.memory_limit_bytes)
    with scratch:
        job = Job(task, root, Path(scratch.name), report, limit)
        _fetch(job, kinds)
        if isinstance(params, p.ApplyWatermarkParams) and params.image is not None:
            mark = media_file(root, params.image)
            job.overlay = open_source(mark, PICTURES, "the watermark image", limit)
        note(_footprint(job, params, limit))
        report(0)
        return handler(job, params)


def _footprint(job: Job, params: p.Params, limit: int) -> Footprint:
    """The inputs' memory footprint; InvalidInput when it cannot fit LIMIT."""
    probes = [s.probe for s in job.sources]
    if job.overlay is not None:
        probes.append(job.overlay.probe)
    gif = None
    if isinstance(params, p.CompileGifParams):
        gif = budget.Gif(seconds=params.duration, fps=params.fps, width=params.width)
    return budget.footprint(job.task.operation, probes, limit, gif)
