"""Worker overhead: reencode_streaming through `mediajobs worker` vs the same FFmpeg argv bare.

Run: .venv/bin/python bench/worker.py [--runs 3] [--seconds 10]

Generates 1280x720 clips, then alternates: the bare FFmpeg command the worker
builds (same argv, same output muxer), and the whole worker (task JSON in the
environment → a new interpreter → probe → FFmpeg with progress to a real Redis
when redis-server is installed → output probe + sha256 → termination message).
Prints the medians and the overhead; the DESIGN target is ≤ 3 %.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediajobs.catalog.params import ReencodeStreamingParams
from mediajobs.worker.argv import reencode_streaming
from mediajobs.worker.budget import memory_limit
from mediajobs.worker.gpu import LIBX264, Encoder
from mediajobs.worker.operations import VIDEOS
from mediajobs.worker.sources import open_source

TARGET_PERCENT = 3.0
WORKER = [sys.executable, "-m", "mediajobs.worker"]


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
def redis_server(workdir: Path) -> Iterator[str | None]:
    """A throwaway redis-server on a free loopback port, or None without one."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
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


def measure(root: Path, seconds: float, runs: int, redis_url: str | None) -> Row:
    """Alternate bare FFmpeg and the worker on a generated clip of SECONDS."""
    name = f"clip-{seconds:g}s.mp4"
    clip = root / "in" / name
    make_clip(clip, seconds)
    params = ReencodeStreamingParams()
    source = open_source(clip, VIDEOS, "reencode_streaming", memory_limit(None))
    bare = reencode_streaming(params, source, str(root / "bare.mp4"), Encoder(LIBX264))
    task = {
        "uid": "bench",
        "namespace": "bench",
        "name": "reencode",
        "operation": "reencode_streaming",
        "params": params.wire(),
        "inputs": [{"path": f"in/{name}"}],
        "output": {"path": f"out/{name}"},
        "mediaRoot": str(root),
        "scratchDir": str(root),
        "progress": {"redisUrl": redis_url},
    }
    env = worker_env(task, root)
    timed(WORKER, env)  # warm-up: bytecode cache, page cache
    bare_s, worker_s = [], []
    for _ in range(runs):
        bare_s.append(timed(bare.argv))
        worker_s.append(timed(WORKER, env))
    termination = json.loads((root / "termination-log").read_text())
    if "result" not in termination:
        raise SystemExit(f"worker failed: {termination}")
    return Row(f"{seconds:g} s 1280x720", bare_s, worker_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="mediajobs-bench-") as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        with redis_server(root) as redis_url:
            # the short clip shows the worker's fixed cost (start-up, probes, hashing)
            rows = [measure(root, s, args.runs, redis_url) for s in (args.seconds, 0.5)]
    redis_used = "yes" if redis_url else "no (no redis-server)"
    print(
        f"reencode_streaming, {args.runs} runs each, alternating; progress to Redis: {redis_used}"
    )
    print(f"load average before the runs: {load}")
    print()
    print(
        "| clip | bare median s | worker median s | overhead % | target "
        "| CPU s bare / worker | CPU overhead % |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        wall = row.overhead("wall")
        verdict = "met" if wall <= TARGET_PERCENT else "missed"
        target = f"≤ {TARGET_PERCENT:g} % ({verdict})" if row is rows[0] else "(fixed cost)"
        print(
            f"| {row.label} | {row.median(row.bare, 'wall'):.2f} | "
            f"{row.median(row.worker, 'wall'):.2f} | {wall:+.1f} | {target} | "
            f"{row.median(row.bare, 'cpu'):.2f} / {row.median(row.worker, 'cpu'):.2f} | "
            f"{row.overhead('cpu'):+.1f} |"
        )
    print()
    for row in rows:
        print(f"{row.label} wall s: bare {_list(row.bare)}; worker {_list(row.worker)}")
    return 0


def _list(runs: list[Run]) -> str:
    return ", ".join(f"{r.wall:.2f}" for r in runs)


if __name__ == "__main__":
    raise SystemExit(main())
