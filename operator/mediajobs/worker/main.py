"""``mediajobs worker``: the job container's entrypoint.

Reads the :class:`~mediajobs.api.task.Task` (env ``MEDIAJOB_TASK`` or the file
named by ``MEDIAJOB_TASK_FILE``), runs it, publishes progress and the result
to Redis (best effort), writes the termination message (``{"result": ...}`` or
``{"error": "one line"}``; the path can be moved with
``MEDIAJOB_TERMINATION_LOG``) and exits with the contract's code: 0, 2
(invalid, permanent) or 75 (temporary, retried). SIGTERM stops FFmpeg,
removes temporaries and exits 75.

Before FFmpeg decodes anything, the termination message already holds the
inputs' memory footprint (``{"footprint": ...}``): if the kernel kills the
worker for memory, that is what the pod's status says, and the operator does
not retry an input that cannot fit (jobs/outcome.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import (
    TASK_ENV,
    TASK_FILE_ENV,
    TERMINATION_LOG,
    TERMINATION_MESSAGE_LIMIT,
    ExitCode,
    Footprint,
    Task,
    TerminationMessage,
)
from mediajobs.worker.errors import (
    InvalidInput,
    Terminated,
    WorkerError,
    from_os_error,
    from_unexpected,
)
from mediajobs.worker.execute import NoteFootprint, execute, validation_summary
from mediajobs.worker.sink import Reporter

log = logging.getLogger("mediajobs.worker")

TERMINATION_LOG_ENV = "MEDIAJOB_TERMINATION_LOG"
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def read_task(environ: Mapping[str, str]) -> Task:
    raw = environ.get(TASK_ENV)
    if raw is None and environ.get(TASK_FILE_ENV):
        try:
            raw = Path(environ[TASK_FILE_ENV]).read_text()
        except OSError as err:
            raise InvalidInput(f"cannot read the task file: {err.strerror}") from err
    if raw is None:
        raise InvalidInput(f"no task: set {TASK_ENV} or {TASK_FILE_ENV}")
    try:
        return Task.model_validate_json(raw)
    except ValidationError as err:
        raise InvalidInput(f"invalid task: {validation_summary(err)}") from err


def termination_message(message: TerminationMessage) -> str:
    """MESSAGE as JSON within Kubernetes' 4096 bytes.

    A result too big to fit keeps its outputs and says ``data: {"truncated": true}``
    (the whole result is in the progress stream); then outputs are dropped from the end.
    """
    text = json.dumps(message.wire(), separators=(",", ":"))
    result = message.result
    if len(text.encode()) <= TERMINATION_MESSAGE_LIMIT or result is None:
        return text
    outputs = list(result.outputs)
    while True:
        trimmed = JobResult(outputs=outputs, data={"truncated": True})
        text = json.dumps(TerminationMessage(result=trimmed).wire(), separators=(",", ":"))
        if len(text.encode()) <= TERMINATION_MESSAGE_LIMIT or not outputs:
            return text
        outputs.pop()


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Once is enough: further signals must not interrupt the cleanup this one starts.
    for sig in _STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(f"stopped by {signal.Signals(signum).name} before finishing")


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _terminate) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_task(
    environ: Mapping[str, str], note: NoteFootprint = lambda _: None
) -> tuple[ExitCode, TerminationMessage]:
    """The whole attempt: (exit code, termination message); never raises a WorkerError.

    NOTE hears the inputs' footprint before anything decodes them.
    """
    try:
        task = read_task(environ)
        log.info(
            "task %s/%s %s attempt %d", task.namespace, task.name, task.operation, task.attempt
        )
        reporter = Reporter(task)
        result = execute(task, reporter.update, note)
        reporter.finish(result)
        return ExitCode.OK, TerminationMessage(result=result)
    except WorkerError as err:
        failure = err
    except OSError as err:
        failure = from_os_error(err, "running the task")
    except Exception as err:
        log.exception("unexpected failure")
        failure = from_unexpected(err)
    log.error("failed (exit %d): %s", failure.exit_code, failure)
    return failure.exit_code, TerminationMessage(error=str(failure))


def _write_termination(path: str, text: str) -> None:
    try:
        Path(path).write_text(text)
    except OSError as err:  # outside Kubernetes the file may not be writable; the exit code says
        log.warning("termination message not written to %s: %s", path, err.strerror)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediajobs worker", description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    path = os.environ.get(TERMINATION_LOG_ENV, TERMINATION_LOG)

    def provisional(footprint: Footprint) -> None:
        _write_termination(path, termination_message(TerminationMessage(footprint=footprint)))

    with _stop_signals_raise():
        try:
            code, message = run_task(os.environ, provisional)
        except Terminated as err:  # a signal between the handler's install and run_task's try
            code, message = err.exit_code, TerminationMessage(error=str(err))
    _write_termination(path, termination_message(message))
    return int(code)
