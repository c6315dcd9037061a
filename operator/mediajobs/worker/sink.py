"""Progress to Redis, best effort: an outage costs progress bars, never the job.

The :class:`Reporter` turns FFmpeg's percentages into throttled
:class:`ProgressEvent`\\ s; a :class:`BackgroundSink` hands them to Redis on its
own thread (latest event first), so neither importing the client nor a slow
or dead Redis ever delays FFmpeg. Only the final event (100 and the result) is
waited for, and only for FINAL_FLUSH_S.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import Task
from mediajobs.progress.wire import ProgressEvent
from mediajobs.throttle import Throttle

log = logging.getLogger(__name__)

FINAL_FLUSH_S = 5.0  # covers one connect timeout plus one write timeout


class Sink(Protocol):
    def publish(self, event: ProgressEvent, *, final: bool = False) -> None: ...


class NullSink:
    """No Redis configured (or unusable): progress goes nowhere."""

    def publish(self, event: ProgressEvent, *, final: bool = False) -> None:
        return None


class BackgroundSink:
    """Publishes through the sink CONNECT makes, on a thread of its own."""

    def __init__(self, connect: Callable[[], Sink]) -> None:
        self._connect = connect
        self._cond = threading.Condition()
        self._pending: tuple[ProgressEvent, bool] | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="progress", daemon=True)
        self._thread.start()

    def publish(self, event: ProgressEvent, *, final: bool = False) -> None:
        """Queue EVENT; an event not yet sent is replaced (progress only moves forward)."""
        with self._cond:
            self._pending = (event, final)
            self._cond.notify()

    def close(self, timeout: float = FINAL_FLUSH_S) -> None:
        """Send what is queued (waiting at most TIMEOUT), then stop."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            sink = self._connect()
        except Exception as err:  # a bad URL or a broken client: no progress, still no failure
            log.warning("progress disabled: %s", err)
            sink = NullSink()
        while True:
            with self._cond:
                while self._pending is None and not self._closing:
                    self._cond.wait()
                if self._pending is None:
                    return
                event, final = self._pending
                self._pending = None
            sink.publish(event, final=final)


def _redis(url: str, stream: str) -> Sink:
    from mediajobs.worker.redis_sink import RedisSink  # noqa: PLC0415 - imported off the main thread

    return RedisSink(url, stream)


class Reporter:
    """One attempt's progress: monotonic, throttled, below 100 until the result is known."""

    def __init__(
        self,
        task: Task,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._task = task
        url = task.progress.redis_url
        self._sink = BackgroundSink(lambda: _redis(url, task.progress.stream)) if url else None
        self._monotonic = monotonic
        self._wall = wall
        self._throttle = Throttle()

    def update(self, percent: int) -> None:
        """Publish PERCENT (held below 100) if the throttle lets it through."""
        value = max(0, min(99, percent))
        if self._throttle.due(value, self._monotonic()):
            self._publish(value, None)

    def finish(self, result: JobResult) -> None:
        """The last event, 100 with the whole result; waits (briefly) for it to go out."""
        self._publish(100, result)
        if self._sink is not None:
            self._sink.close()

    def _publish(self, value: int, result: JobResult | None) -> None:
        if self._sink is None:
            return
        task = self._task
        event = ProgressEvent(
            uid=task.uid,
            namespace=task.namespace,
            name=task.name,
            attempt=task.attempt,
            progress=value,
            at=self._wall(),
            result=result.wire() if result is not None else None,
        )
        self._sink.publish(event, final=result is not None)
