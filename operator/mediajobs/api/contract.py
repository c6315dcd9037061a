"""The worker contract's plain names: where the task comes from, how the worker ends.

No pydantic here: the job container reads these before its models load
(worker/start.py); :mod:`mediajobs.api.task` holds the models.
"""

from __future__ import annotations

from enum import IntEnum

TASK_ENV = "MEDIAJOB_TASK"
TASK_FILE_ENV = "MEDIAJOB_TASK_FILE"
TERMINATION_LOG = "/dev/termination-log"
# Kubernetes keeps at most 4096 bytes of a termination message.
TERMINATION_MESSAGE_LIMIT = 4096


class ExitCode(IntEnum):
    """How the worker ended; the Job's podFailurePolicy maps these."""

    OK = 0
    INVALID = 2  # bad input or params: permanent, never retried
    LOGIN_REQUIRED = 3  # a person must log in: WaitingForHuman, no retry spent
    TEMPORARY = 75  # EX_TEMPFAIL: retry with backoff (network, disk full, ...)
