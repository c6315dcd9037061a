"""compile_mega over 200 short inputs: FFmpeg's memory stays bounded by the chunk, not the count.

The compilation runs in a fresh interpreter whose only children are the
worker's ffprobe and FFmpeg processes, so ``RUSAGE_CHILDREN``'s ``ru_maxrss``
there is the peak resident set of the largest of them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mediajobs.worker.library.index import read_rows
from mediajobs.worker.main import run_task
from tests.worker.conftest import (
    AAC,
    H264,
    WAIT_S,
    ffmpeg_write,
    ffprobe,
    picture,
    task_for,
    tone,
    worker_env,
)

INPUTS = 200
# The stated bound: no FFmpeg child of a 200-input compile_mega at 320x180 peaks above this
# (one chunk of 16 decoders and one encoder: measured 154 MiB with FFmpeg 5.1, the same as
# a 16-input compilation's 152 MiB).
BOUND_MIB = 200
MEASURE = """
import json, resource, sys
from mediajobs.worker.main import run_task
code, message = run_task({"MEDIAJOB_TASK": sys.argv[1]})
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"code": int(code), "message": message.wire(), "peak_kib": peak}))
"""
SMALL = {"width": 320, "height": 180, "fps": 10, "preset": "ultrafast"}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A media root with 200 half-second clips (landscape and portrait, sound and silent)."""
    root = tmp_path_factory.mktemp("mega").resolve()
    kinds = {
        "sound.mp4": [*picture("160x120", 0.5, 10), *tone(0.5), *H264, *AAC],
        "silent.mp4": [*picture("160x120", 0.5, 10), *H264],
        "upright.mp4": [*picture("120x160", 0.5, 10), *tone(0.5), *H264, *AAC],
        "bars.mkv": [*picture("160x90", 0.5, 10, kind="smptebars"), *H264],
    }
    for name, args in kinds.items():
        ffmpeg_write(root / name, args)
    names = list(kinds)
    (root / "lib").mkdir()
    for i in range(INPUTS):
        name = names[i % len(names)]
        shutil.copyfile(root / name, root / "lib" / f"{i:03d}{Path(name).suffix}")
    task = task_for(root, "scan", params={"directory": "lib"})
    code, message = run_task({"MEDIAJOB_TASK": json.dumps(task)})
    assert int(code) == 0, message.error
    return root


def _compile(root: Path, tmp_path: Path, count: int) -> dict[str, Any]:
    task = task_for(root, "compile_mega", params={"count": count, "seed": 1, **SMALL})
    env = worker_env(task, tmp_path / "unused")
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(task)],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S * 15,
        check=True,
    )
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert report["code"] == 0, report["message"]
    return report


def test_compile_mega_of_200_inputs_stays_within_the_memory_bound(
    library: Path, tmp_path: Path
) -> None:
    assert len(read_rows(library)) == INPUTS
    many = _compile(library, tmp_path, INPUTS)
    one_chunk = _compile(library, tmp_path, 16)
    data = many["message"]["result"]["data"]
    assert (data["chunks"], len(set(data["chosen"]))) == (13, INPUTS)
    out = library / many["message"]["result"]["outputs"][0]["path"]
    assert abs(float(ffprobe(out)["format"]["duration"]) - INPUTS * 0.5) < 2
    peak_mib, chunk_mib = many["peak_kib"] / 1024, one_chunk["peak_kib"] / 1024
    print(f"peak FFmpeg RSS: {INPUTS} inputs {peak_mib:.0f} MiB, 16 inputs {chunk_mib:.0f} MiB")
    assert peak_mib < BOUND_MIB
    assert peak_mib < 1.25 * chunk_mib  # bounded by the chunk: 12x the inputs, same peak
