"""Peak memory of a highlight join (mediajobs.worker.highlights.render) by window count.

Makes a 1920x1080 testsrc2 clip with a tone (40 s), renders the crossfade
between each pair of N evenly spaced windows (render.crossfade), then the join
(render.join) with libx264 preset medium, each under ``/usr/bin/time -f %M``,
and prints the peak RSS of the largest crossfade and of the join. The decode
budget's WINDOW_FRAMES (worker/budget.py) comes from these figures.

    .venv/bin/python bench/highlights.py              # 2, 10 and 30 windows (~4 min on 2 cores)
    .venv/bin/python bench/highlights.py --windows 5
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import tempfile
from pathlib import Path

from mediajobs.catalog.params import Preset
from mediajobs.worker.argv import Command
from mediajobs.worker.containers import Kind
from mediajobs.worker.gpu import LIBX264, Encoder
from mediajobs.worker.highlights import render
from mediajobs.worker.highlights.windows import Window
from mediajobs.worker.sources import open_source

SECONDS = 40
WINDOW_S = 1.3
FADE_S = 0.3
LIMIT = 8 * 1024**3  # the pixel ceiling's budget: large enough for any test clip
VIDEOS = frozenset({Kind.VIDEO})


def peak_mib(cmd: Command) -> int:
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd.argv], capture_output=True, text=True, check=True
    )
    return int(done.stderr.strip().splitlines()[-1]) // 1024


def measure(clip: Path, scratch: Path, count: int) -> tuple[int, int]:
    source = open_source(clip, VIDEOS, "bench", LIMIT)
    step = SECONDS / count
    windows = [Window(i * step, i * step + WINDOW_S) for i in range(count)]
    fades, fade_peak = [], 0
    for k, (before, after) in enumerate(itertools.pairwise(windows)):
        path = scratch / f"fade-{k}.mkv"
        fade_peak = max(
            fade_peak, peak_mib(render.crossfade(source, before, after, FADE_S, str(path)))
        )
        fades.append(open_source(path, VIDEOS, "bench", LIMIT))
    out = str(scratch / "joined.mp4")
    settings = (Preset.MEDIUM, 23)
    join = render.join(
        source, windows, fades, out, Encoder(LIBX264), fade=FADE_S, settings=settings
    )
    return fade_peak, peak_mib(join)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--windows", type=int, nargs="*", default=[2, 10, 30])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-highlights-") as tmp:
        scratch = Path(tmp)
        clip = scratch / "clip.mp4"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"testsrc2=s=1920x1080:r=25:d={SECONDS}", "-f", "lavfi", "-i", f"sine=d={SECONDS}",
             "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(clip)],
            check=True,
        )  # fmt: skip
        print("windows  crossfade peak MiB  join peak MiB")
        for count in args.windows:
            fade_peak, join_peak = measure(clip, scratch, count)
            print(f"{count:7d}  {fade_peak:18d}  {join_peak:13d}")


if __name__ == "__main__":
    main()
