"""The Redis stream entry both sides share."""

from __future__ import annotations

import pytest

from mediajobs.progress.wire import ProgressEvent, WireFormatError, decode


def test_round_trip_as_redis_returns_it() -> None:
    event = ProgressEvent("u", "ns", "mj", 2, 45, 1700000000.5, result={"outputs": []})
    raw = {k.encode(): v.encode() for k, v in event.fields().items()}
    assert decode(raw) == event


@pytest.mark.parametrize(
    "fields",
    [
        {"uid": "u"},
        {"uid": "u", "namespace": "n", "name": "m", "attempt": "1", "progress": "101", "at": "1"},
        {"uid": "u", "namespace": "n", "name": "m", "attempt": "x", "progress": "5", "at": "1"},
        {
            "uid": "u",
            "namespace": "n",
            "name": "m",
            "attempt": "1",
            "progress": "5",
            "at": "1",
            "result": "{",
        },
    ],
)
def test_malformed_entries_are_refused(fields: dict[str, str]) -> None:
    with pytest.raises(WireFormatError):
        decode(fields)
