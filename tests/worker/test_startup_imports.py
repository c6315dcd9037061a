"""`mediajobs worker` loads what its task's operation needs, nothing more (issue 17 item 6).

A job container starts once per job: a thumbnail's worker must not import the
operator (kopf, the Kubernetes client), OpenCV, numpy, or the handlers of the
smart and library operations. Each check runs the real entrypoint in a
process and reads its sys.modules at exit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.worker.conftest import WAIT_S, task_for, worker_env

HEAVY = [
    "kopf",
    "kubernetes",
    "aiohttp",
    "cv2",
    "numpy",
    "yaml",
    "mediajobs.controller",
    "mediajobs.kube",
    "mediajobs.worker.smart",
    "mediajobs.worker.highlights",
    "mediajobs.worker.reframe",
    "mediajobs.worker.library.handlers",
    "mediajobs.worker.library.compilation",
    "mediajobs.worker.download",
]

# `mediajobs worker` as the image runs it, writing the loaded modules' names at exit.
_RUN = """
import atexit, json, runpy, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["mediajobs", "worker"]
runpy.run_module("mediajobs", run_name="__main__")
"""


def modules_loaded(task: dict[str, Any], tmp_path: Path) -> set[str]:
    """The modules a worker process running TASK had loaded when it exited; it must succeed."""
    log, names = tmp_path / "termination-log", tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(names)],
        env=worker_env(task, log),
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert done.returncode == 0, (done.stderr, log.read_text() if log.exists() else None)
    return set(json.loads(names.read_text()))


def heavy_in(modules: set[str]) -> list[str]:
    return [m for m in HEAVY if m in modules]


def test_a_thumbnail_worker_loads_none_of_the_heavy_modules(media: Path, tmp_path: Path) -> None:
    modules = modules_loaded(task_for(media, "thumbnail_generate", "in/clip.mp4"), tmp_path)
    assert "mediajobs.worker.operations" in modules  # the run really reached its handler
    assert heavy_in(modules) == []


def test_a_smart_task_loads_the_smart_handlers(media: Path, tmp_path: Path) -> None:
    """The check above can fail: a task that needs a heavy module does load it."""
    task = task_for(media, "scene_extract", "in/clip.mp4", params={"preset": "ultrafast"})
    modules = modules_loaded(task, tmp_path)
    smart = ["mediajobs.worker.smart", "mediajobs.worker.highlights", "mediajobs.worker.reframe"]
    assert heavy_in(modules) == smart  # its handler table, not OpenCV: only faces loads that


def test_a_library_task_loads_the_library_handlers(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "lib").mkdir(parents=True)  # an empty library: the scan indexes nothing
    modules = modules_loaded(task_for(root, "scan", params={"directory": "lib"}), tmp_path)
    assert "mediajobs.worker.library.handlers" in heavy_in(modules)
    assert not {"kopf", "kubernetes", "cv2", "mediajobs.worker.highlights"} & modules
