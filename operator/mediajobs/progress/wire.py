"""The Redis wire format of progress events (worker writes, operator reads).

One Redis stream (default ``mediajobs:progress``) carries every job's events;
each entry names the MediaJob by uid, so the operator needs one XREAD for the
whole cluster and can resume from the last id it saw after a restart. The
worker is the only writer, the operator the only reader, and the operator alone
writes MediaJob status (one writer per field).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Stream entries beyond this are trimmed (approximately) on write.
STREAM_MAXLEN = 100_000


@dataclass(frozen=True)
class ProgressEvent:
    uid: str
    namespace: str
    name: str
    attempt: int
    progress: int  # 0-100
    at: float  # the worker's clock, seconds since the epoch
    result: Mapping[str, Any] | None = None  # the full result, on the final event

    def fields(self) -> dict[str, str]:
        """The stream entry's fields (Redis stores strings)."""
        out = {
            "uid": self.uid,
            "namespace": self.namespace,
            "name": self.name,
            "attempt": str(self.attempt),
            "progress": str(self.progress),
            "at": f"{self.at:.3f}",
        }
        if self.result is not None:
            out["result"] = json.dumps(self.result, separators=(",", ":"))
        return out


class WireFormatError(ValueError):
    """A stream entry that is not a progress event."""


def decode(fields: Mapping[str, str] | Mapping[bytes, bytes]) -> ProgressEvent:
    """A stream entry back into an event; raises WireFormatError on anything malformed."""
    text = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }
    try:
        progress = int(text["progress"])
        if not 0 <= progress <= 100:
            raise WireFormatError(f"progress out of range: {progress}")
        result = json.loads(text["result"]) if "result" in text else None
        return ProgressEvent(
            uid=text["uid"],
            namespace=text["namespace"],
            name=text["name"],
            attempt=int(text["attempt"]),
            progress=progress,
            at=float(text["at"]),
            result=result,
        )
    except (KeyError, ValueError) as err:
        raise WireFormatError(f"malformed progress entry {text!r}: {err}") from err
