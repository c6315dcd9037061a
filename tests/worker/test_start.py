"""The early ffprobe: started from the raw task before the models load, collected or stopped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mediajobs.worker import probe
from mediajobs.worker.main import run_task
from mediajobs.worker.start import prefetch
from tests.worker.conftest import task_for


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    yield
    probe.discard_early()


def early(media: Path, *inputs: str, **fields: Any) -> tuple[dict[str, str], list[str]]:
    env = {"MEDIAJOB_TASK": json.dumps(task_for(media, "thumbnail_generate", *inputs, **fields))}
    prefetch(env)
    return env, [key[-1] for key in probe._EARLY]


def test_a_local_video_is_probed_early_and_the_worker_collects_that_probe(media: Path) -> None:
    env, started = early(media, "in/clip.mp4")
    assert started == [f"file:{media / 'in' / 'clip.mp4'}"]
    code, message = run_task(env)
    assert (int(code), message.error) == (0, None)
    assert probe._EARLY == {}  # collected, not run twice


def test_the_early_probe_uses_the_tasks_memory_limit(media: Path) -> None:
    _, _ = early(media, "in/clip.mp4", memoryLimitBytes=256 * 1024**2)
    (argv,) = probe._EARLY
    assert argv[argv.index("-max_pixels") + 1] == str((256 - 64) * 1024**2 // 8)


@pytest.mark.parametrize(
    ("inputs", "why"),
    [
        (("in/photo.jpg",), "a still's header is checked before any probe"),
        (("in/notmedia.mp4",), "not media: the worker refuses it with its own message"),
        (("../etc/passwd",), "outside the media root"),
        (("http://127.0.0.1:1/clip.mp4",), "a URL is downloaded first"),
    ],
)
def test_nothing_unusual_is_probed_early(media: Path, inputs: tuple[str, ...], why: str) -> None:
    _, started = early(media, *inputs)
    assert started == [], why


def test_an_unparseable_task_starts_nothing() -> None:
    prefetch({"MEDIAJOB_TASK": "{not json"})
    prefetch({"MEDIAJOB_TASK": json.dumps({"mediaRoot": 5, "inputs": "x"})})
    assert probe._EARLY == {}


def test_uncollected_probes_are_stopped(media: Path) -> None:
    early(media, "in/clip.mp4")
    (proc,) = probe._EARLY.values()
    probe.discard_early()
    assert proc.returncode is not None and probe._EARLY == {}
