"""Media for the smart operations: a quiet clip with one loud, busy burst; scenes; a face.

The face is drawn, not photographed: a light oval with dark brows, eyes and
mouth, which OpenCV's frontal-face cascade finds at every size tried here
(checked on the still frames before any video is made: see test_smart).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.worker.conftest import AAC, H264, SRC, ffmpeg_write

BURST = (12.0, 14.0)  # seconds: busy picture and loud noise in a 20 s grey, quiet clip
BURST_LENGTH = 20
SCENE_CUTS = (2.0, 4.0)  # three 2 s scenes
FACE_SIZE = (640, 360)
FACE_SECONDS = 4
FACE_FPS = 25
FACE_WIDTH = 90


def burst_clip(out: Path) -> None:
    start, end = BURST
    busy = f"between(t,{start:g},{end:g})"
    graph = (
        f"[0:v][1:v]overlay=enable='{busy}'[v];[2:a]volume=0.01[quiet];"
        f"[3:a]volume=enable='not({busy})':volume=0[loud];"
        "[quiet][loud]amix=inputs=2:normalize=0[a]"
    )
    seconds = BURST_LENGTH
    ffmpeg_write(
        out,
        [
            *SRC, f"color=c=0x404040:s=320x240:r=25:d={seconds}",
            *SRC, f"testsrc2=s=320x240:r=25:d={seconds}",
            *SRC, f"sine=f=440:r=48000:d={seconds}",
            *SRC, f"anoisesrc=r=48000:a=0.8:d={seconds}",
            "-filter_complex", graph, "-map", "[v]", "-map", "[a]", *H264, *AAC,
        ],
    )  # fmt: skip


def scenes_clip(out: Path) -> None:
    kinds = ["testsrc", "smptebars", "rgbtestsrc"]
    inputs = [a for k in kinds for a in (*SRC, f"{k}=size=320x240:rate=25:duration=2")]
    ffmpeg_write(
        out,
        [*inputs, "-filter_complex", "[0:v][1:v][2:v]concat=n=3:v=1[v]", "-map", "[v]", *H264],
    )


def face(width: int) -> Image.Image:
    """A face the frontal cascade sees: light oval, dark brows, eyes and mouth."""
    height = round(width * 1.25)
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)

    def box(left: float, top: float, right: float, bottom: float) -> tuple[int, ...]:
        return (int(left * width), int(top * height), int(right * width), int(bottom * height))

    draw.ellipse((0, 0, width - 1, height - 1), fill=200)
    draw.rectangle(box(0.15, 0.30, 0.42, 0.34), fill=40)
    draw.rectangle(box(0.58, 0.30, 0.85, 0.34), fill=40)
    draw.ellipse(box(0.18, 0.38, 0.40, 0.46), fill=20)
    draw.ellipse(box(0.60, 0.38, 0.82, 0.46), fill=20)
    nose = [(0.5, 0.45), (0.42, 0.62), (0.58, 0.62)]
    draw.polygon([(int(x * width), int(y * height)) for x, y in nose], fill=150)
    draw.ellipse(box(0.32, 0.72, 0.68, 0.80), fill=40)
    return image


def face_left(t: float) -> int:
    """Where the face's left edge is at T seconds: left to right across the frame."""
    travel = FACE_SIZE[0] - FACE_WIDTH - 80
    return 40 + round(travel * t / FACE_SECONDS)


def face_frame(t: float) -> np.ndarray:
    """One grey frame at T seconds: the face on a dim background."""
    width, height = FACE_SIZE
    frame = np.full((height, width), 70, np.uint8)
    drawn = np.array(face(FACE_WIDTH))
    top, left = (height - drawn.shape[0]) // 2, face_left(t)
    area = frame[top : top + drawn.shape[0], left : left + drawn.shape[1]]
    area[drawn > 0] = drawn[drawn > 0]
    return frame


def moving_face_clip(out: Path) -> None:
    """FACE_SECONDS of the face crossing a landscape frame, H.264."""
    width, height = FACE_SIZE
    raw = ["-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{width}x{height}"]
    argv = ["ffmpeg", "-v", "error", "-y", *raw, "-r", str(FACE_FPS), "-i", "pipe:0", *H264]
    frames = b"".join(face_frame(n / FACE_FPS).tobytes() for n in range(FACE_SECONDS * FACE_FPS))
    subprocess.run([*argv, str(out)], input=frames, check=True)
