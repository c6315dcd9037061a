"""The media library: scan rate, and compile_mega against one bare FFmpeg concat.

Run: .venv/bin/python bench/library.py [--files 500] [--inputs 200]

Makes FILES small clips (160x120, half a second; landscape, portrait, with
and without sound) in a fresh media root, then:

- scan: the worker's ``scan`` of them all (sniff, pinned ffprobe, the index
  written under its lock), in files per second, beside a bare ``ffprobe`` of
  each of 100 of them one after another (a process start costs ~60 ms of CPU,
  so on a busy machine that start sets the rate); then the rescan that finds
  nothing changed (size + mtime only).
- compile_mega of INPUTS of them (320x180, 10 fps, ultrafast), the whole
  worker task in a fresh interpreter (choice, every input opened and probed,
  chunks normalised, the concat demuxer's copy), against the same
  normalisation of the same files as one bare FFmpeg process (the
  ``compile_concat`` filter graph over every input at once): the wall-time
  ratio, and the peak RSS of the largest FFmpeg of each (``RUSAGE_CHILDREN``
  in the interpreter that ran it). Opening every input again through the input
  door (a file replaced since the scan is refused) costs one ffprobe each; the
  bench times that apart and gives the ratio without it too.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mediajobs.catalog.params import CompileConcatParams, Preset
from mediajobs.worker.argv import Source, compile_concat
from mediajobs.worker.gpu import LIBX264, Encoder
from mediajobs.worker.inputs import media_file
from mediajobs.worker.library.scan import PROBES_AT_ONCE
from mediajobs.worker.limits import memory_limit
from mediajobs.worker.operations import VIDEOS
from mediajobs.worker.sources import open_source

KINDS = {
    "sound.mp4": ["testsrc=size=160x120:rate=10:duration=0.5", "sine=duration=0.5"],
    "silent.mp4": ["testsrc=size=160x120:rate=10:duration=0.5"],
    "upright.mp4": ["testsrc=size=120x160:rate=10:duration=0.5", "sine=duration=0.5"],
    "bars.mkv": ["smptebars=size=160x90:rate=10:duration=0.5"],
}
SHAPE = {"width": 320, "height": 180, "fps": 10, "preset": "ultrafast"}
# Runs TASK (argv[1]) in-process, or argv[2:] as one command; prints wall time and peak child RSS.
MEASURE = """
import json, resource, subprocess, sys, time
from mediajobs.worker.main import run_task  # imported first: the figures leave start-up out
began = time.perf_counter()
if sys.argv[1] == "-":
    subprocess.run(sys.argv[2:], check=True)
    result = None
else:
    code, message = run_task({"MEDIAJOB_TASK": sys.argv[1]})
    assert int(code) == 0, message.error
    result = message.wire()["result"]
wall = time.perf_counter() - began
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"wall": wall, "peak_kib": peak, "result": result}))
"""


def make_library(root: Path, files: int) -> None:
    for name, sources in KINDS.items():
        args = [a for s in sources for a in ("-f", "lavfi", "-i", s)]
        codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", *args, *codecs, str(root / name)], check=True
        )
    (root / "lib").mkdir()
    names = list(KINDS)
    for i in range(files):
        name = names[i % len(names)]
        shutil.copyfile(root / name, root / "lib" / f"{i:04d}{Path(name).suffix}")


def task(root: Path, operation: str, params: dict[str, Any]) -> str:
    return json.dumps({
        "uid": str(uuid.uuid4()), "namespace": "bench", "name": f"b-{uuid.uuid4().hex[:8]}",
        "operation": operation, "params": params, "output": {"prefix": "out"},
        "mediaRoot": str(root), "scratchDir": str(root.parent),
    })  # fmt: skip


def measure(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, check=True
    )
    report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return report


def bare_probes(root: Path, count: int) -> float:
    """Seconds for a plain ffprobe of each of COUNT files, one after another."""
    began = time.perf_counter()
    for path in sorted((root / "lib").iterdir())[:count]:
        probe = ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams"]
        subprocess.run([*probe, str(path)], capture_output=True, check=True)
    return time.perf_counter() - began


def open_all(root: Path, chosen: list[str]) -> tuple[list[Source], float]:
    """CHOSEN opened as compile_mega opens them (PROBES_AT_ONCE at a time), and the seconds."""
    limit = memory_limit(None)
    began = time.perf_counter()
    with ThreadPoolExecutor(PROBES_AT_ONCE) as pool:
        sources = list(
            pool.map(lambda p: open_source(media_file(root, p), VIDEOS, "bench", limit), chosen)
        )
    return sources, time.perf_counter() - began


def bare_argv(sources: list[Source], out: Path) -> list[str]:
    """The same normalisation of the same files as one FFmpeg process (no worker, no chunks)."""
    params = CompileConcatParams(width=320, height=180, fps=10, preset=Preset.ULTRAFAST)
    return compile_concat(params, sources, str(out), Encoder(LIBX264), sound=True).argv


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500, help="clips to scan")
    parser.add_argument("--inputs", type=int, default=200, help="clips compile_mega joins")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="library-bench-") as tmp:
        root = Path(tmp, "media")
        root.mkdir()
        make_library(root, args.files)
        scan = measure(task(root, "scan", {"directory": "lib"}))
        rescan = measure(task(root, "scan", {"directory": "lib"}))
        probes = min(100, args.files)
        probing = bare_probes(root, probes)
        if scan["result"]["data"]["new"] != args.files:
            raise SystemExit(f"scan found {scan['result']['data']}, not {args.files} new files")
        params = {"count": args.inputs, "seed": 1, **SHAPE}
        mega = measure(task(root, "compile_mega", params))
        chosen = mega["result"]["data"]["chosen"]
        sources, opening = open_all(root, chosen)
        bare = measure("-", *bare_argv(sources, root / "bare.mp4"))
    rows = [
        ("scan, new files", f"{args.files / scan['wall']:.0f} files/s",
         f"{args.files} files in {scan['wall']:.1f} s"),
        ("bare ffprobe, one at a time", f"{probes / probing:.0f} files/s",
         f"{probes} files in {probing:.1f} s"),
        ("rescan, nothing changed", f"{args.files / rescan['wall']:.0f} files/s",
         f"{rescan['wall']:.2f} s"),
        (f"compile_mega, {args.inputs} inputs", f"{mega['wall']:.1f} s",
         f"peak FFmpeg RSS {mega['peak_kib'] / 1024:.0f} MiB,"
         f" {mega['result']['data']['chunks']} chunks"),
        ("  of which opening the inputs", f"{opening:.1f} s",
         f"sniff + ffprobe each, {PROBES_AT_ONCE} at a time (measured apart)"),
        ("bare FFmpeg concat, same files", f"{bare['wall']:.1f} s",
         f"peak RSS {bare['peak_kib'] / 1024:.0f} MiB, one process"),
        ("compile_mega / bare", f"{mega['wall'] / bare['wall']:.2f}x", ""),
        ("  leaving out the opening", f"{(mega['wall'] - opening) / bare['wall']:.2f}x",
         "chunks + copy against one process"),
    ]  # fmt: skip
    loads = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"library bench ({time.strftime('%Y-%m-%d %H:%M')}, nproc {os.cpu_count()},"
          f" load {loads}): {' '.join(sys.argv)}")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    for what, figure, note in rows:
        print(f"  {what.ljust(width)}  {figure.rjust(12)}  {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
