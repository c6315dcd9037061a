"""Job names and labels: deterministic, and valid however long the MediaJob's name."""

from __future__ import annotations

import re

import pytest

from mediajobs.api.common import Category
from mediajobs.jobs.naming import job_labels, job_name, label_value
from tests.unit.jobs.builders import UID

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
OTHER_UID = "0d6e0a3c-7c55-4d8b-a3b4-5f0b3c1d2e3f"


@pytest.mark.parametrize(
    "name",
    [
        "intro",
        "a",
        "9lives",
        "with.dots.in-it",
        "x" * 63,
        "x" * 253,
        "a-" * 126 + "b",  # a dash where the cut falls
        ("seg." * 64)[:253].rstrip("."),
        "ends-with-dash-after-cut" + "-" * 60 + "z",
    ],
)
@pytest.mark.parametrize("run", [1, 12, 1000])
def test_job_name_is_a_dns_label(name: str, run: int) -> None:
    out = job_name(name, UID, run)
    assert len(out) <= 63
    assert DNS_LABEL.match(out), out
    assert out.endswith(f"-{run}")


def test_job_name_keeps_a_short_name_readable() -> None:
    assert re.fullmatch(r"intro-[0-9a-f]{6}-2", job_name("intro", UID, 2))


def test_job_name_is_deterministic_per_mediajob_and_run() -> None:
    assert job_name("intro", UID, 1) == job_name("intro", UID, 1)
    assert job_name("intro", UID, 1) != job_name("intro", UID, 2)
    # A MediaJob recreated under the same name must not meet its predecessor's Job.
    assert job_name("intro", UID, 1) != job_name("intro", OTHER_UID, 1)
    # Two long names that share their first 60 characters stay apart through the uid.
    assert job_name("x" * 200 + "a", UID, 1) != job_name("x" * 200 + "b", OTHER_UID, 1)


@pytest.mark.parametrize(
    ("text", "kept"),
    [("intro", True), ("with.dots", True), ("x" * 63, True), ("x" * 64, False), ("", True)],
)
def test_label_value(text: str, kept: bool) -> None:
    out = label_value(text)
    assert (out == text) is kept
    assert len(out) <= 63 and LABEL_VALUE.match(out)


def test_long_names_get_distinct_label_values() -> None:
    assert label_value("x" * 100 + "a") != label_value("x" * 100 + "b")


def test_job_labels() -> None:
    labels = job_labels(name="intro", uid=UID, attempt=3, run=4, category=Category.GPU_ENCODE)
    assert labels == {
        "app.kubernetes.io/managed-by": "mediajobs",
        "mediajobs.dev/mediajob": "intro",
        "mediajobs.dev/uid": UID,
        "mediajobs.dev/attempt": "3",
        "mediajobs.dev/run": "4",
        "mediajobs.dev/category": "gpu_encode",
    }
