"""The task in, the termination message out (plain data; the real runs are in tests/worker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mediajobs.api.mediajob import JobResult, OutputFile
from mediajobs.api.task import TERMINATION_MESSAGE_LIMIT, TerminationMessage
from mediajobs.worker.contract import read_task, termination_message
from mediajobs.worker.errors import InvalidInput

TASK = {
    "uid": "u",
    "namespace": "ns",
    "name": "n",
    "operation": "validate",
    "inputs": [{"path": "in/a.mp4"}],
    "output": {},
}


def output(i: int) -> OutputFile:
    return OutputFile(path=f"out/{i:04}.jpg", bytes=1, sha256="0" * 64, width=1, height=1)


def test_read_task_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert read_task({"MEDIAJOB_TASK": json.dumps(TASK)}).name == "n"
    task_file = tmp_path / "task.json"
    task_file.write_text(json.dumps(TASK | {"name": "from-file"}))
    assert read_task({"MEDIAJOB_TASK_FILE": str(task_file)}).name == "from-file"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no task: set MEDIAJOB_TASK or MEDIAJOB_TASK_FILE"),
        ({"MEDIAJOB_TASK": "{"}, "invalid task"),
        ({"MEDIAJOB_TASK": json.dumps(TASK | {"operation": "nope"})}, "invalid task: operation"),
        ({"MEDIAJOB_TASK_FILE": "/nonexistent/task.json"}, "cannot read the task file"),
    ],
)
def test_read_task_failures_are_invalid(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_task(environ)


def test_small_messages_are_written_whole() -> None:
    result = JobResult(outputs=[output(1)], data={"encoder": "libx264"})
    text = termination_message(TerminationMessage(result=result))
    assert json.loads(text) == {"result": result.wire()}
    assert json.loads(termination_message(TerminationMessage(error="bad"))) == {"error": "bad"}


def test_a_big_result_keeps_its_outputs_and_marks_its_data_truncated() -> None:
    scenes = [{"time": i / 10, "score": 0.5} for i in range(2000)]
    result = JobResult(outputs=[output(1)], data={"scenes": scenes})
    text = termination_message(TerminationMessage(result=result))
    assert len(text.encode()) <= TERMINATION_MESSAGE_LIMIT
    assert json.loads(text)["result"] == {
        "outputs": [output(1).wire()],
        "data": {"truncated": True},
    }


def test_too_many_outputs_are_cut_from_the_end() -> None:
    result = JobResult(outputs=[output(i) for i in range(64)])
    text = termination_message(TerminationMessage(result=result))
    kept = json.loads(text)["result"]["outputs"]
    assert len(text.encode()) <= TERMINATION_MESSAGE_LIMIT
    assert 0 < len(kept) < 64
    assert kept == [output(i).wire() for i in range(len(kept))]
