"""``mediajobs scrape``: the scraper image's entrypoint, one scrape or publish task.

The worker contract as ``mediajobs worker`` keeps it (worker/contract.py): the Task in
``MEDIAJOB_TASK`` (or the file ``MEDIAJOB_TASK_FILE`` names), the termination message
at ``/dev/termination-log`` (``MEDIAJOB_TERMINATION_LOG`` moves it), progress to Redis,
and the exit code: 0; 2 invalid (bad params, a platform missing from the operator
config, a private address, a page or post that does not exist); 3 login required
(cookies missing or expired, a 401/403, the login page, a logged-out marker); 75
temporary (network, 5xx, a timeout, SIGTERM, or a 429 whose Retry-After outlasts the
in-attempt retries: then ``retryAfterSeconds`` says how long the platform asked for).

The cookies are read once, checked as the operator checks them (lifecycle/hitl.py),
and every value of them is scrubbed from the result, the message and the log line.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mediajobs.api.mediajob import JobResult
from mediajobs.api.platform import AdapterKind, PlatformConfig
from mediajobs.api.task import TERMINATION_LOG, ExitCode, Task, TerminationMessage
from mediajobs.scraper.adapter import Adapter, Context, utc_now
from mediajobs.scraper.cookies import load_cookies, secret_values
from mediajobs.scraper.errors import RateLimited
from mediajobs.scraper.operations import run_operation
from mediajobs.scraper.scrub import Scrubber
from mediajobs.worker.contract import (
    TERMINATION_LOG_ENV,
    read_task,
    stop_signals_raise,
    termination_message,
    write_termination,
)
from mediajobs.worker.errors import (
    InvalidInput,
    Terminated,
    WorkerError,
    from_os_error,
    from_unexpected,
)
from mediajobs.worker.sink import Reporter

log = logging.getLogger("mediajobs.scraper")


def platform_of(task: Task) -> tuple[str, PlatformConfig]:
    """The task's platform and its config; InvalidInput naming what is missing."""
    if task.platform is None:
        raise InvalidInput(f"{task.operation.value} needs spec.platform")
    if task.platform_config is None:
        raise InvalidInput(
            f"platform {task.platform} is not configured: add it to the operator config's platforms"
        )
    return task.platform, task.platform_config


def open_adapter(context: Context) -> Adapter:
    # Each adapter's libraries load only when a task uses it (Playwright's are heavy).
    if context.platform.adapter is AdapterKind.BROWSER:
        from mediajobs.scraper.browser import BrowserAdapter  # noqa: PLC0415

        return BrowserAdapter(context)
    from mediajobs.scraper.http_adapter import HttpAdapter  # noqa: PLC0415

    return HttpAdapter(context)


def _execute(task: Task, scrub: Scrubber) -> JobResult:
    name, platform = platform_of(task)
    cookies = load_cookies(task.cookies_file, utc_now())
    scrub.add(secret_values(cookies))
    context = Context(name, platform, cookies, task.allow_private_urls, Path(task.scratch_dir))
    reporter = Reporter(task)
    adapter = open_adapter(context)
    try:
        data = run_operation(task, platform, adapter, reporter.update)
    finally:
        adapter.close()
    result = JobResult(data=scrub.data(data))
    reporter.finish(result)
    return result


def run_task(environ: Mapping[str, str]) -> tuple[ExitCode, TerminationMessage]:
    """The whole attempt: (exit code, termination message); never raises a WorkerError."""
    scrub = Scrubber([])
    try:
        task = read_task(environ)
        log.info(
            "task %s/%s %s attempt %d on %s",
            task.namespace, task.name, task.operation.value, task.attempt, task.platform,
        )  # fmt: skip
        return ExitCode.OK, TerminationMessage(result=_execute(task, scrub))
    except WorkerError as err:
        failure = err
    except OSError as err:
        failure = from_os_error(err, "running the task")
    except Exception as err:
        log.error("unexpected failure: %s", scrub.message(repr(err)))  # no traceback: it may
        failure = from_unexpected(err)  # quote a local variable holding a cookie
    message = scrub.message(str(failure))
    log.error("failed (exit %d): %s", failure.exit_code, message)
    wait = failure.retry_after if isinstance(failure, RateLimited) else None
    return failure.exit_code, TerminationMessage(error=message, retry_after_seconds=wait)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mediajobs scrape", description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    path = os.environ.get(TERMINATION_LOG_ENV, TERMINATION_LOG)
    with stop_signals_raise():
        try:
            code, message = run_task(os.environ)
        except Terminated as err:  # a signal between the handler's install and run_task's try
            code, message = err.exit_code, TerminationMessage(error=str(err))
    write_termination(path, termination_message(message))
    return int(code)
