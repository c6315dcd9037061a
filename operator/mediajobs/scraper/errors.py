"""The scraper's own failures, beside the worker's (worker/errors.py).

Exit 3 when the platform shows a login wall (the operator opens a HitlSession and
re-queues the job, no retry spent); exit 75 with the platform's Retry-After when a
429 outlasts the in-attempt retries (the operator starts the next attempt no sooner).
"""

from __future__ import annotations

from mediajobs.api.contract import ExitCode
from mediajobs.worker.errors import TemporaryFailure, WorkerError

MAX_RETRY_AFTER_S = 86400  # TerminationMessage.retry_after_seconds' bound


class LoginRequired(WorkerError):
    """The session is logged out (or its cookies are missing or expired): a person must log in."""

    exit_code = ExitCode.LOGIN_REQUIRED


class RateLimited(TemporaryFailure):
    """HTTP 429; RETRY_AFTER the seconds the platform asked for (None: it did not say)."""

    def __init__(self, message: str, retry_after: int | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
