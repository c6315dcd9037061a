"""The example tag_generation container keeps the worker contract (run as its entrypoint)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mediajobs.api.task import TerminationMessage
from mediajobs.jobs.outcome import parse_termination_message
from tests.worker.conftest import WAIT_S, task_for, worker_env

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "tag-generation" / "tag_generation.py"


def run_example(media: Path, tmp_path: Path, source: str) -> tuple[int, TerminationMessage]:
    task = task_for(media, "custom", source)
    log = tmp_path / "termination-log"
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=worker_env(task, log),
        capture_output=True,
        timeout=WAIT_S,
        check=False,
    )
    text = log.read_text()
    assert TerminationMessage.model_validate_json(text)  # the operator's model reads it
    return done.returncode, parse_termination_message(text)


@pytest.mark.parametrize(
    ("source", "tags"),
    [
        ("in/clip.mp4", ["landscape", "sd", "short", "with-sound"]),
        ("in/rotated.mp4", ["vertical", "sd", "short", "silent"]),
        ("in/photo.png", ["landscape", "sd", "still"]),
    ],
)
def test_the_example_tags_an_input(
    media: Path, tmp_path: Path, source: str, tags: list[str]
) -> None:
    code, message = run_example(media, tmp_path, source)
    assert code == 0, message.error
    assert message.result is not None
    assert message.result.data == {"model": "probe-rules-example", "tags": tags}


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("in/notmedia.mp4", "not a"),
        ("in/missing.mp4", "input not found"),
        ("../outside.mp4", "relative path inside the media volume"),
    ],
)
def test_the_example_refuses_bad_input_with_exit_2(
    media: Path, tmp_path: Path, source: str, reason: str
) -> None:
    code, message = run_example(media, tmp_path, source)
    assert code == 2
    assert message.error is not None and reason in message.error
