"""Events of the rare resources (HitlSessions, MediaJobSchedules): logged, then posted.

The reconciler's MediaJob Events go through their own writer lane (controller/effects.py);
these come one at a time from kopf handlers and the schedule loop.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mediajobs.kube.port import Api
from mediajobs.lifecycle.statuses import Event


def reference(body: Mapping[str, Any]) -> dict[str, str]:
    """The object reference of BODY (any namespaced object), for its Events."""
    meta = body["metadata"]
    return {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "name": meta["name"],
        "namespace": meta["namespace"],
        "uid": meta["uid"],
    }


async def announce(
    api: Api, log: logging.Logger, body: Mapping[str, Any], event: Event, now: datetime
) -> None:
    """EVENT about BODY: one log line, then the Event."""
    meta = body["metadata"]
    log.info("%s/%s: %s: %s", meta["namespace"], meta["name"], event.reason, event.message)
    await api.post_event(
        reference(body), type_=event.type, reason=event.reason, message=event.message, now=now
    )
