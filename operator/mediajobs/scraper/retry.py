"""A 429 retried within the attempt, after the wait the platform asked for, a bounded
number of times; a longer wait (or one too many) ends the attempt with exit 75 and the
Retry-After in the termination message, and the operator waits instead of us."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from mediajobs.api.platform import PlatformConfig
from mediajobs.scraper.errors import RateLimited

log = logging.getLogger("mediajobs.scraper")
T = TypeVar("T")


def with_retries(
    call: Callable[[], T], platform: PlatformConfig, sleep: Callable[[float], None] = time.sleep
) -> T:
    """CALL's answer; a RateLimited is retried after its Retry-After while the config allows."""
    retries = 0
    while True:
        try:
            return call()
        except RateLimited as err:
            wait = err.retry_after
            if wait is None or wait > platform.max_retry_wait_seconds:
                raise
            if retries >= platform.max_retries:
                raise
            retries += 1
            log.info("rate limited: waiting %ds as the platform asked (retry %d)", wait, retries)
            sleep(wait)
