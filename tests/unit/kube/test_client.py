"""kube/client.py's pure parts: an Event's name."""

from __future__ import annotations

from mediajobs.kube.client import event_name

JOB = {"name": "clip", "namespace": "media", "uid": "u-1"}


def test_an_event_sent_twice_has_one_name_and_another_event_another() -> None:
    name = event_name(JOB, "Normal", "Admitted", "attempt 1: Job clip-1 created")
    assert name == event_name(dict(JOB), "Normal", "Admitted", "attempt 1: Job clip-1 created")
    assert name.startswith("clip.")
    others = {
        event_name(JOB, "Normal", "Admitted", "attempt 2: Job clip-2 created"),
        event_name(JOB, "Warning", "Admitted", "attempt 1: Job clip-1 created"),
        event_name(JOB | {"uid": "u-2"}, "Normal", "Admitted", "attempt 1: Job clip-1 created"),
    }
    assert name not in others
    assert len(others) == 3


def test_an_event_name_fits_the_api_limit() -> None:
    name = event_name(JOB | {"name": "a" * 253}, "Normal", "Admitted", "x")
    assert len(name) == 253
