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
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from mediajobs.api.task import (
    TERMINATION_LOG,
    ExitCode,
    Footprint,
    TerminationMessage,
)
from mediajobs.worker.contract import (
    TERMINATION_LOG_ENV,
    read_task,
    stop_signals_raise,
    termination_message,
    write_termination,
)
from mediajobs.worker.errors import (
    Terminated,
    WorkerError,
    from_os_error,
    from_unexpected,
)
from mediajobs.worker.execute import NoteFootprint, execute
from mediajobs.worker.sink import Reporter

log = logging.getLogger("mediajobs.worker")


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediajobs worker", description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    path = os.environ.get(TERMINATION_LOG_ENV, TERMINATION_LOG)

    def provisional(footprint: Footprint) -> None:
        write_termination(path, termination_message(TerminationMessage(footprint=footprint)))

    with stop_signals_raise():
        try:
            code, message = run_task(os.environ, provisional)
        except Terminated as err:  # a signal between the handler's install and run_task's try
            code, message = err.exit_code, TerminationMessage(error=str(err))
    write_termination(path, termination_message(message))
    return int(code)
