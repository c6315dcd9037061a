"""The worker contract's I/O, shared by ``mediajobs worker`` and ``mediajobs scrape``.

Read the :class:`~mediajobs.api.task.Task`, write the termination message within
Kubernetes' 4096 bytes, and turn SIGTERM/SIGINT into :class:`Terminated`. Nothing
here loads FFmpeg's modules: the scraper image has none.
"""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import (
    TASK_ENV,
    TASK_FILE_ENV,
    TERMINATION_MESSAGE_LIMIT,
    Task,
    TerminationMessage,
)
from mediajobs.worker.errors import InvalidInput, Terminated

log = logging.getLogger("mediajobs.worker")

TERMINATION_LOG_ENV = "MEDIAJOB_TERMINATION_LOG"
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def validation_summary(err: ValidationError) -> str:
    """pydantic's errors as ``field: message; ...``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or 'value'}: {e['msg']}" for e in err.errors()
    )


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
def stop_signals_raise() -> Iterator[None]:
    previous = {sig: signal.signal(sig, _terminate) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write_termination(path: str, text: str) -> None:
    try:
        Path(path).write_text(text)
    except OSError as err:  # outside Kubernetes the file may not be writable; the exit code says
        log.warning("termination message not written to %s: %s", path, err.strerror)
