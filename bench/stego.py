"""Benchmark of the invisible watermark (mediajobs.worker.stego) against DESIGN.md's targets.

Generates 1280x720 FFmpeg lavfi test sources (varied sources, seeds, offsets,
noise and blur), marks them with a per-item fan id, re-encodes them the way a
leak would be (images: JPEG quality 80 with Pillow, 4:2:0; clips: 2 s of
H.264, libx264 CRF 28, preset medium, yuv420p), detects with ``detect_file``
and prints one line per item, then the summary table. Clean (never-marked)
files must come back as None.

    .venv/bin/python bench/stego.py            # full run, ~3 minutes on 2 cores
    .venv/bin/python bench/stego.py --quick    # a sample, under a minute
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

from mediajobs.worker import stego

WIDTH, HEIGHT, RATE, SECONDS = 1280, 720, 25, 2
FRAMES = RATE * SECONDS
JPEG_QUALITY = 80
CRF = 28
TARGET = 0.95

_SIZE = f"size={WIDTH}x{HEIGHT}:rate={RATE}"
# (name, lavfi graph): FFmpeg 5.1's test sources that take a size, some twice with
# other seeds or settings, and noisy / blurred variants.
SOURCES: tuple[tuple[str, str], ...] = (
    ("testsrc", f"testsrc={_SIZE}"),
    ("testsrc2", f"testsrc2={_SIZE}"),
    ("smptebars", f"smptebars={_SIZE}"),
    ("smptehdbars", f"smptehdbars={_SIZE}"),
    ("mandelbrot", f"mandelbrot={_SIZE}"),
    ("mandelbrot-zoom", f"mandelbrot={_SIZE}:start_x=-0.75:start_y=0.1:start_scale=0.2:end_pts=30"),
    ("cellauto-30", f"cellauto={_SIZE}:rule=30:seed=3"),
    ("cellauto-110", f"cellauto={_SIZE}:rule=110:seed=11:ratio=0.3"),
    ("life", f"life={_SIZE}:mold=10:ratio=0.3:seed=5:life_color=#e0e040:death_color=#402010"),
    ("life-sparse", f"life={_SIZE}:ratio=0.05:seed=8:life_color=#ffffff:death_color=#000000"),
    ("rgbtestsrc", f"rgbtestsrc={_SIZE}"),
    ("gradients", f"gradients={_SIZE}:seed=7:speed=0.05"),
    ("gradients-radial", f"gradients={_SIZE}:seed=21:type=radial:nb_colors=5"),
    ("yuvtestsrc", f"yuvtestsrc={_SIZE}"),
    ("pal75bars", f"pal75bars={_SIZE}"),
    ("sierpinski", f"sierpinski={_SIZE}:seed=2"),
    ("colorspectrum", f"colorspectrum={_SIZE}:type=all"),
    ("testsrc2+noise", f"testsrc2={_SIZE},noise=alls=12:allf=t+u"),
    ("mandelbrot+blur", f"mandelbrot={_SIZE},gblur=sigma=2"),
    ("testsrc+noise+blur", f"testsrc={_SIZE},noise=alls=20:allf=t,boxblur=2:1"),
    ("cellauto+blur", f"cellauto={_SIZE}:rule=90:seed=4,gblur=sigma=1.5"),
    ("life+noise", f"life={_SIZE}:mold=25:ratio=0.2:seed=9,noise=alls=8:allf=t"),
    ("gradients+noise", f"gradients={_SIZE}:seed=33:nb_colors=3,noise=alls=10:allf=t+u"),
    ("smptebars+noise", f"smptebars={_SIZE},noise=alls=6:allf=t"),
)


def render(graph: str, start: int, frames: int, pix_fmt: str) -> bytes:
    """FRAMES raw frames of GRAPH from frame START on."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi"]
    argv += ["-i", f"{graph},trim=start_frame={start},setpts=PTS-STARTPTS"]
    argv += ["-frames:v", str(frames), "-pix_fmt", pix_fmt, "-f", "rawvideo", "-"]
    data = subprocess.run(argv, capture_output=True, check=True).stdout
    if len(data) != frames * WIDTH * HEIGHT * (3 if pix_fmt == "rgb24" else 3 / 2):
        raise RuntimeError(f"{graph}: short render")
    return data


def psnr(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255**2 / mse) if mse else float("inf")


@dataclass
class Tally:
    recovered: int = 0
    total: int = 0
    psnr: list[float] = field(default_factory=list)
    embed_ms: list[float] = field(default_factory=list)


def make_image(graph: str, start: int, payload: bytes | None, path: Path, tally: Tally) -> None:
    """One RGB frame as a JPEG; marked (in Pillow's JPEG-native YCbCr luma) when PAYLOAD."""
    rgb = np.frombuffer(render(graph, start, 1, "rgb24"), np.uint8).reshape(HEIGHT, WIDTH, 3)
    y, cb, cr = Image.fromarray(rgb).convert("YCbCr").split()
    if payload is not None:
        luma = np.asarray(y)
        marked = stego.embed_luma(luma, payload)
        tally.psnr.append(psnr(marked, luma))
        y = Image.fromarray(marked)
    Image.merge("YCbCr", (y, cb, cr)).save(path, quality=JPEG_QUALITY)


def make_clip(graph: str, start: int, payload: bytes | None, path: Path, tally: Tally) -> None:
    """A 2 s yuv420p clip as H.264 CRF 28; every frame's luma marked when PAYLOAD."""
    frames = np.frombuffer(render(graph, start, FRAMES, "yuv420p"), np.uint8).reshape(FRAMES, -1)
    frames = frames.copy()
    if payload is not None:
        for frame in frames:
            luma = frame[: WIDTH * HEIGHT].reshape(HEIGHT, WIDTH)
            began = time.perf_counter()
            marked = stego.embed_luma(luma, payload)
            tally.embed_ms.append((time.perf_counter() - began) * 1000)
            tally.psnr.append(psnr(marked, luma))
            luma[...] = marked
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p"]
    argv += ["-s", f"{WIDTH}x{HEIGHT}", "-r", str(RATE), "-i", "-", "-c:v", "libx264"]
    argv += ["-crf", str(CRF), "-preset", "medium", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(argv, input=frames.tobytes(), check=True)


def run(kind: str, items: list[tuple[str, str, int]], marked: bool, workdir: Path) -> Tally:
    tally = Tally()
    make = make_image if kind == "image" else make_clip
    for i, (name, graph, start) in enumerate(items):
        payload = stego.payload_for(f"creator-{i % 3}", f"fan-{kind}-{i}") if marked else None
        path = workdir / f"{kind}-{i}.{'jpg' if kind == 'image' else 'mp4'}"
        began = time.perf_counter()
        make(graph, start, payload, path, tally)
        found = stego.detect_file(path)
        ok = found == payload
        tally.recovered += ok
        tally.total += 1
        verdict = "ok" if ok else ("WRONG ID" if found is not None else "missed")
        label = "marked" if marked else "clean"
        took = time.perf_counter() - began
        print(
            f"  {label:6} {kind:5} {name:20} start={start:<3} {verdict:8} {took:5.1f} s", flush=True
        )
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a sample that runs in under a minute")
    quick = parser.parse_args().quick

    sources = SOURCES[::4] if quick else SOURCES
    # Different frames (start offsets) of each source for marked images, marked
    # clips and clean files. The full run marks two images of every source and
    # clips of every source, every other one twice.
    images = [(n, g, 5 + 7 * i % 40) for i, (n, g) in enumerate(sources)]
    clips = [(n, g, 3 * i % 20) for i, (n, g) in enumerate(sources)]
    clean_images = [(n, g, 47) for n, g in sources]
    clean_clips = [(n, g, 30) for n, g in sources[1::2]]
    if quick:
        clips, clean_images = clips[:3], clean_images[:3]
    else:
        images += [(n, g, 2 + 11 * i % 45) for i, (n, g) in enumerate(sources)]
        clips += [(n, g, 22 + i % 8) for i, (n, g) in enumerate(sources) if i % 2 == 0]

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="stego-bench-") as tmp:
        workdir = Path(tmp)
        img = run("image", images, True, workdir)
        vid = run("clip", clips, True, workdir)
        clean = [
            run(k, items, False, workdir)
            for k, items in (("image", clean_images), ("clip", clean_clips))
        ]
    false_positives = sum(t.total - t.recovered for t in clean)
    clean_total = sum(t.total for t in clean)
    psnrs = img.psnr + vid.psnr
    ms = np.array(vid.embed_ms)

    rows = [
        (
            "images recovered after JPEG q80",
            f"{img.recovered}/{img.total}",
            f"{img.recovered / img.total:.0%}",
            f">= {TARGET:.0%}",
        ),
        (
            "clips recovered after H.264 CRF 28",
            f"{vid.recovered}/{vid.total}",
            f"{vid.recovered / vid.total:.0%}",
            f">= {TARGET:.0%}",
        ),
        ("false positives on clean files", f"{false_positives}/{clean_total}", "", "0"),
        (
            "PSNR marked vs original, dB",
            f"mean {np.mean(psnrs):.1f}",
            f"min {np.min(psnrs):.1f}",
            ">= 38 (aim)",
        ),
        (
            "embed ms/frame at 1280x720",
            f"mean {ms.mean():.1f}",
            f"p95 {np.percentile(ms, 95):.1f}",
            "< 50",
        ),
    ]
    print(f"\nstego bench ({'quick' if quick else 'full'}), {time.perf_counter() - began:.0f} s")
    print(f"{'what':36} {'measured':>12} {'':>10}  target")
    for what, measured, extra, target in rows:
        print(f"{what:36} {measured:>12} {extra:>10}  {target}")
    print("reference, invisible-watermark 0.2.0 (DESIGN.md): 7/18 images, 1/5 clips")
    passed = (
        img.recovered >= TARGET * img.total
        and vid.recovered >= TARGET * vid.total
        and false_positives == 0
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
