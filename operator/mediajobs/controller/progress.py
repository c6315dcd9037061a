"""The operator's end of the progress channel: read the Redis stream, feed the reconciler.

Progress is best effort: with Redis down, jobs still run and finish (their
result comes from the termination message); this loop retries quietly.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import redis.asyncio as redis
from redis.exceptions import RedisError

from mediajobs.controller.reconciler import Reconciler
from mediajobs.progress.wire import WireFormatError, decode

log = logging.getLogger("mediajobs.progress")
BLOCK_MS = 2000
MAX_BACKOFF = 10.0
# XREAD's answer: [(stream, [(entry id, {field: value})])], as bytes.
Batches = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]] | None


async def consume(rec: Reconciler, url: str, stream: str) -> None:
    client = redis.from_url(url, socket_connect_timeout=2, socket_timeout=BLOCK_MS / 1000 + 5)
    last_id: str | bytes = "$"  # only what comes from now on: a restarted operator needs no history
    backoff = 0.5
    down = False
    try:
        while True:
            try:
                batches = cast(
                    Batches, await client.xread({stream: last_id}, block=BLOCK_MS, count=1000)
                )
            except (RedisError, OSError) as err:
                if not down:
                    log.warning("progress channel unavailable (%s); jobs run on without it", err)
                    down = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if down:
                log.info("progress channel back")
                down, backoff = False, 0.5
            for _, entries in batches or []:
                for entry_id, fields in entries:
                    last_id = entry_id
                    try:
                        event = decode(fields)
                    except WireFormatError as err:
                        log.warning("skipping a malformed progress entry: %s", err)
                        continue
                    rec.observe_progress(event.uid, event.attempt, event.progress)
    finally:
        await client.aclose()
