"""The plugin's tables and descriptions from plain API objects (no cluster)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from mediajobs.plugin import render

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def job(name: str, *, age: float = 60, namespace: str = "ns", **status: Any) -> dict[str, Any]:
    created = (NOW - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": created},
        "spec": {"operation": "transcode", "priority": 5, "category": "gpu_encode"},
        "status": status,
    }


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (119, "119s"), (200, "3m20s"), (600, "10m"), (3 * 3600 + 60, "3h1m"),
     (9 * 3600, "9h"), (3 * 86400 + 3600, "3d1h"), (30 * 86400, "30d"), (800 * 86400, "2y"),
     (-5, "0s")],
)  # fmt: skip
def test_ages_read_as_kubectl_shows_them(seconds: float, shown: str) -> None:
    assert render.human_duration(seconds) == shown


def test_the_progress_bar() -> None:
    assert render.bar(None) == "-"
    assert render.bar(0) == "░" * 10 + "   0%"
    assert render.bar(45) == "████" + "░" * 6 + "  45%"
    assert render.bar(100) == "█" * 10 + " 100%"


def test_the_list_table() -> None:
    jobs = [
        job("enc", phase="Running", progress=40, attempts=1),
        job("next", phase="Queued", queuePosition=1, waitingReason="gpu_encode: 2/2 running"),
        job("new", age=5),
    ]
    lines = render.jobs_table(jobs, NOW, wide=False, namespaces=False).splitlines()
    assert lines[0].split() == [
        "NAME", "OPERATION", "PHASE", "PROGRESS", "POSITION", "REASON", "ATTEMPTS", "AGE",
    ]  # fmt: skip
    assert lines[1].split() == [
        "enc", "transcode", "Running", "████░░░░░░", "40%", "-", "-", "1", "60s",
    ]  # fmt: skip
    assert lines[2].split()[:5] == ["next", "transcode", "Queued", "-", "1"]
    assert "gpu_encode: 2/2 running" in lines[2]
    assert lines[3].split() == ["new", "transcode", "Pending", "-", "-", "-", "0", "5s"]
    # columns line up: every PHASE starts where its header does
    column = lines[0].index("PHASE")
    assert {line[column:].split()[0] for line in lines[1:]} == {"Running", "Queued", "Pending"}


def test_wide_and_all_namespaces_add_columns_and_cut_nothing() -> None:
    long = "x" * 100
    row = render.job_row(job("a", message=long, namespace="team"), NOW, wide=True, namespaces=True)
    assert row[0] == "team" and row[6] == long
    assert row[-3:] == ["gpu_encode", "5", "-"]
    short = render.job_row(job("a", message=long), NOW, wide=False, namespaces=False)
    assert len(short[5]) == render.REASON_WIDTH and short[5].endswith("…")


def test_a_message_with_newlines_stays_on_its_row() -> None:
    row = render.job_row(job("a", message="one\ntwo\r\nthree"), NOW, wide=False, namespaces=False)
    assert row[5] == "one two three"


def test_no_jobs() -> None:
    assert render.jobs_table([], NOW, wide=False, namespaces=False) == "No MediaJobs found."


def test_filters() -> None:
    queued = job("q", phase="Queued", category="gpu_encode")
    assert render.matches(queued, phase="queued", operation=None, category=None)
    assert render.matches(queued, phase=None, operation="transcode", category="GPU_ENCODE")
    assert not render.matches(queued, phase="Running", operation=None, category=None)
    assert not render.matches(queued, phase=None, operation="validate", category=None)
    assert render.matches(job("p"), phase="Pending", operation=None, category=None)


def test_newest_is_the_latest_created() -> None:
    found = render.newest([job("old", age=100), job("young", age=1), job("mid", age=50)])
    assert found is not None and found["metadata"]["name"] == "young"
    assert render.newest([]) is None


def test_the_description_shows_status_outputs_and_the_last_events() -> None:
    done = job(
        "enc",
        phase="Succeeded",
        progress=100,
        attempts=2,
        result={
            "outputs": [
                {"path": "out/a.mp4", "bytes": 3 * 1024 * 1024, "sha256": "0" * 64,
                 "duration": 12.5, "width": 1280, "height": 720, "videoCodec": "h264",
                 "audioCodec": "aac"},
            ],
            "data": {"scenes": [1.5]},
        },
    )  # fmt: skip
    events = [
        {"type": "Normal", "reason": f"R{i}", "message": f"m{i}",
         "lastTimestamp": (NOW - timedelta(seconds=100 - i)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        for i in range(15)
    ]  # fmt: skip
    text = render.describe_job(done, events, NOW)
    assert "Phase:          Succeeded" in text and "Attempts:       2" in text
    assert "out/a.mp4   3.0 MiB   12.5s 1280x720 h264/aac" in text
    assert '{"scenes": [1.5]}' in text
    shown = [line.split()[1] for line in text.split("Events:")[1].splitlines()[2:]]
    assert shown == [f"R{i}" for i in range(5, 15)]  # the last ten, oldest first
    assert "Queue position" not in text  # what the status does not say is not shown


def test_hitl_table() -> None:
    session = {
        "metadata": {"name": "login-alice-fans", "namespace": "ns"},
        "spec": {"platform": "fans", "creatorProfile": "alice", "alertMessage": "log in"},
        "status": {"phase": "Pending", "waitingJobs": ["a", "b"],
                   "expiresAt": (NOW + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    }  # fmt: skip
    lines = render.hitl_table([session], NOW, namespaces=False).splitlines()
    assert lines[1].split() == [
        "login-alice-fans", "fans", "alice", "Pending", "2", "in", "5h", "log", "in",
    ]  # fmt: skip
    assert render.hitl_table([], NOW, namespaces=False) == "No HitlSessions found."


def test_json_yaml_and_name_outputs() -> None:
    items = [job("a"), job("b")]
    listing = json.loads(render.printed(items, "json"))
    assert listing["kind"] == "List" and [i["metadata"]["name"] for i in listing["items"]] == [
        "a",
        "b",
    ]
    assert yaml.safe_load(render.printed(items[0], "yaml"))["metadata"]["name"] == "a"
    assert render.names(items, "mediajob.mediajobs.dev") == (
        "mediajob.mediajobs.dev/a\nmediajob.mediajobs.dev/b"
    )
