"""Worker overhead: `mediajobs worker` (as the pod runs it) vs the same FFmpeg argv bare.

Run: .venv/bin/python bench/worker.py [--runs 3] [--seconds 10]

Generates 1280x720 clips, then alternates: the bare FFmpeg command the worker
builds (same argv, same output muxer), and the whole worker (task JSON in the
environment → a new interpreter → sniff + header checks + probe → FFmpeg with
progress to a real Redis when redis-server is installed → output description +
sha256 → termination message). Two phases:

- reencode_streaming of a 10 s clip: the overhead in % (DESIGN target ≤ 3 %);
- thumbnail_generate of the same clip, the job platforms run by the hundred
  thousand: the worker's fixed cost in ms over bare FFmpeg (target ≤ 150 ms,
  ≤ 1.3x), with a breakdown of where that time goes.

Bytecode is compiled first, as the image's build does (see worker_env).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediajobs.catalog.params import ReencodeStreamingParams, ThumbnailGenerateParams
from mediajobs.worker.argv import Command, reencode_streaming, thumbnail
from mediajobs.worker.gpu import LIBX264, Encoder
from mediajobs.worker.limits import max_pixels, memory_limit
from mediajobs.worker.operations import PICTURES, VIDEOS
from mediajobs.worker.outputs import sha256_of
from mediajobs.worker.sources import open_source, probe_output

TARGET_PERCENT = 3.0
TARGET_FIXED_MS = 150.0
TARGET_RATIO = 1.3
# The pod's command (jobs/build.py WORKER_COMMAND), from this environment's scripts.
WORKER = [str(Path(sys.executable).parent / "mediajobs"), "worker"]
IMPORTS = [sys.executable, "-c", "import mediajobs.cli, mediajobs.worker.main"]


def make_clip(path: Path, seconds: float) -> None:
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds:g}",
            "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds:g}",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
            "-c:a", "aac", str(path),
        ],
        check=True,
    )  # fmt: skip


@contextmanager
def redis_server(workdir: Path, host: str = "127.0.0.1") -> Iterator[str | None]:
    """A throwaway redis-server on a free port of HOST (loopback, or an address of a
    node's veth that pods reach too), or None without one."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as s:
        s.bind((host, 0))
        port = s.getsockname()[1]
    # Off loopback, protected mode refuses every client: HOST is then a veth's address
    # that only this machine and its node's pods reach.
    protected = "yes" if host == "127.0.0.1" else "no"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", host, "--protected-mode", protected,
         "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((host, port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://{host}:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass(frozen=True)
class Run:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and its children (FFmpeg, ffprobe)


def timed(argv: list[str], env: dict[str, str] | None = None) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu)


def in_process(work: Callable[[], object]) -> Run:
    """WORK timed in this process (wall and CPU)."""
    start, cpu = time.perf_counter(), time.process_time()
    work()
    return Run(time.perf_counter() - start, time.process_time() - cpu)


def worker_env(task: dict[str, Any], root: Path) -> dict[str, str]:
    env = os.environ | {
        "MEDIAJOB_TASK": json.dumps(task),
        "MEDIAJOB_TERMINATION_LOG": str(root / "termination-log"),
    }
    # The image compiles the package's bytecode at build time; a checkout run with
    # PYTHONDONTWRITEBYTECODE would recompile every module on every start instead.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    return env


@dataclass
class Row:
    label: str
    bare: list[Run]
    worker: list[Run]

    def median(self, runs: list[Run], what: str) -> float:
        return statistics.median(r.wall if what == "wall" else r.cpu for r in runs)

    def overhead(self, what: str) -> float:
        bare = self.median(self.bare, what)
        return 100 * (self.median(self.worker, what) - bare) / bare


def task_for(
    operation: str, name: str, params: dict[str, Any], *, out: str, root: Path, redis: str | None
) -> dict[str, Any]:
    return {
        "uid": "bench",
        "namespace": "bench",
        "name": operation,
        "operation": operation,
        "params": params,
        "inputs": [{"path": f"in/{name}"}],
        "output": {"path": out},
        "mediaRoot": str(root),
        "scratchDir": str(root),
        "progress": {"redisUrl": redis},
    }


def alternate(label: str, bare: Command, env: dict[str, str], runs: int, root: Path) -> Row:
    """RUNS pairs of (bare FFmpeg, the worker), after one warm-up of each."""
    timed(bare.argv)
    timed(WORKER, env)  # warm-up: bytecode cache, page cache
    bare_s, worker_s = [], []
    for _ in range(runs):
        bare_s.append(timed(bare.argv))
        worker_s.append(timed(WORKER, env))
    termination = json.loads((root / "termination-log").read_text())
    if "result" not in termination:
        raise SystemExit(f"worker failed: {termination}")
    return Row(label, bare_s, worker_s)


def reencode(root: Path, clip: Path, runs: int, redis_url: str | None) -> Row:
    params = ReencodeStreamingParams()
    source = open_source(clip, VIDEOS, "reencode_streaming", memory_limit(None))
    bare = reencode_streaming(params, source, str(root / "bare.mp4"), Encoder(LIBX264))
    task = task_for("reencode_streaming", clip.name, params.wire(), out=f"out/{clip.name}",
                    root=root, redis=redis_url)  # fmt: skip
    return alternate(f"reencode_streaming, {clip.stem}", bare, worker_env(task, root), runs, root)


@dataclass
class Breakdown:
    """Where a thumbnail's fixed cost goes: each step timed alone, medians (wall s)."""

    steps: dict[str, list[Run]]

    def median(self, step: str) -> float:
        return statistics.median(r.wall for r in self.steps[step])


def thumbnail_row(
    root: Path, clip: Path, runs: int, redis_url: str | None
) -> tuple[Row, Breakdown]:
    params = ThumbnailGenerateParams()
    limit = memory_limit(None)
    source = open_source(clip, PICTURES, "thumbnail_generate", limit)
    out = root / "bare.jpg"
    bare = thumbnail(params, source, str(out))
    task = task_for("thumbnail_generate", clip.name, {}, out="out/thumb.jpg", root=root,
                    redis=redis_url)  # fmt: skip
    env = worker_env(task, root)
    row = alternate(f"thumbnail_generate, {clip.stem}", bare, env, runs, root)
    steps: dict[str, list[Run]] = {}
    import_env = env | {"MEDIAJOB_TASK": ""}
    for _ in range(runs):
        steps.setdefault("interpreter + imports", []).append(timed(IMPORTS, import_env))
        steps.setdefault("input sniff + headers + ffprobe", []).append(
            in_process(lambda: open_source(clip, PICTURES, "thumbnail_generate", limit))
        )
        steps.setdefault("output description + sha256", []).append(
            in_process(lambda: (probe_output(out, max_pixels(limit)), sha256_of(out)))
        )
    return row, Breakdown(steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="mediajobs-bench-") as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        clip = root / "in" / f"clip-{args.seconds:g}s-1280x720.mp4"
        make_clip(clip, args.seconds)
        with redis_server(root) as redis_url:
            encode = reencode(root, clip, args.runs, redis_url)
            thumb, breakdown = thumbnail_row(root, clip, args.runs, redis_url)
    redis_used = "yes" if redis_url else "no (no redis-server)"
    print(f"{args.runs} runs each, alternating; progress to Redis: {redis_used}")
    print(f"load average before the runs: {load}")
    print()
    print("| phase | bare median s | worker median s | overhead | target | CPU s bare / worker |")
    print("|---|---|---|---|---|---|")
    wall = encode.overhead("wall")
    verdict = "met" if wall <= TARGET_PERCENT else "missed"
    print(
        f"| {encode.label} | {encode.median(encode.bare, 'wall'):.2f} | "
        f"{encode.median(encode.worker, 'wall'):.2f} | {wall:+.1f} % | "
        f"≤ {TARGET_PERCENT:g} % ({verdict}) | {_cpu(encode)} |"
    )
    bare, worker = thumb.median(thumb.bare, "wall"), thumb.median(thumb.worker, "wall")
    fixed_ms, ratio = 1000 * (worker - bare), worker / bare
    verdict = "met" if fixed_ms <= TARGET_FIXED_MS and ratio <= TARGET_RATIO else "missed"
    print(
        f"| {thumb.label} | {bare:.3f} | {worker:.3f} | +{fixed_ms:.0f} ms, {ratio:.2f}x | "
        f"≤ {TARGET_FIXED_MS:g} ms, ≤ {TARGET_RATIO:g}x ({verdict}) | {_cpu(thumb)} |"
    )
    print()
    print("Where the thumbnail's fixed cost goes (each step alone, median wall ms):")
    accounted = 0.0
    for step in breakdown.steps:
        accounted += breakdown.median(step)
        print(f"- {step}: {1000 * breakdown.median(step):.0f}")
    print(f"- the rest (process start, task parsing, progress, result, exit): "
          f"{fixed_ms - 1000 * accounted:.0f}")  # fmt: skip
    print()
    for row in (encode, thumb):
        print(f"{row.label} wall s: bare {_list(row.bare)}; worker {_list(row.worker)}")
    return 0


def _cpu(row: Row) -> str:
    return f"{row.median(row.bare, 'cpu'):.2f} / {row.median(row.worker, 'cpu'):.2f}"


def _list(runs: list[Run]) -> str:
    return ", ".join(f"{r.wall:.2f}" for r in runs)


if __name__ == "__main__":
    raise SystemExit(main())
