"""The Redis side of the progress sink: one XADD per event, never an exception.

Short socket timeouts and no client-side retries keep a dead Redis cheap;
after a failure the sink stays quiet for a while instead of paying a timeout
on every update. The final event (100, with the full result) is always tried.
Imported on the publisher's thread (see :mod:`sink`): the client library
takes longer to import than a short encode runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.typing import EncodableT

from mediajobs.progress.wire import STREAM_MAXLEN, ProgressEvent
from mediajobs.worker.errors import redact_url

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 1.0
SOCKET_TIMEOUT_S = 2.0
QUIET_AFTER_FAILURE_S = 10.0


class RedisSink:
    def __init__(self, url: str, stream: str, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=SOCKET_TIMEOUT_S,
            retry=Retry(NoBackoff(), 0),
        )
        self._shown = redact_url(url)
        self._stream = stream
        self._clock = clock
        self._quiet_until = float("-inf")

    def publish(self, event: ProgressEvent, *, final: bool = False) -> None:
        if not final and self._clock() < self._quiet_until:
            return
        fields: dict[EncodableT, EncodableT] = {k: v for k, v in event.fields().items()}
        try:
            self._client.xadd(self._stream, fields, maxlen=STREAM_MAXLEN, approximate=True)
        except (redis.RedisError, OSError) as err:
            if self._quiet_until == float("-inf"):
                log.warning("progress not published to %s: %s", self._shown, err)
            self._quiet_until = self._clock() + QUIET_AFTER_FAILURE_S
