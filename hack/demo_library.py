"""The demo's small media library, made with FFmpeg's test sources, Pillow and exiftool.

Every path a demo job (hack/demo.py) reads, under one folder that becomes the
workers' media volume:

    inbox/intro.mov                  landscape 640x360, 10 s, H.264 + AAC (QuickTime)
    inbox/broken.mp4                 the first half of a clip: truncated, no moov
    vault/alice/full-video.mp4       landscape 640x360, 45 s, H.264 + AAC
    vault/alice/{a,b,c}.mp4          3 s clips with sound, d.mp4 the clip with no audio
    vault/alice/set-12/img-001.jpg   a photo to mark invisibly
    uploads/alice/clip.mp4           a phone clip held upright: stored 640x360 with a
                                     rotate=90 tag, displayed 360x640, with sound
    uploads/alice/photo-with-gps.jpg JPEG with EXIF (camera make, model) and GPS
    uploads/alice/photo-with-gps.png the same picture as PNG, the same EXIF and GPS

A file already there is kept (a second `make run` writes nothing). Files belong to the
pods' user, so the workers can write beside them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

POD_UID = 10001
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "96k"]


def _lavfi(source: str) -> list[str]:
    return ["-f", "lavfi", "-i", source]


def _clip(
    seconds: float, size: str = "640x360", kind: str = "testsrc2", sound: bool = True
) -> list[str]:
    picture = _lavfi(f"{kind}=size={size}:rate=25:duration={seconds}")
    if not sound:
        return [*picture, *H264]
    tone = _lavfi(f"sine=frequency=440:sample_rate=48000:duration={seconds}")
    return [*picture, *tone, *H264, *AAC, "-shortest"]


def _ffmpeg(args: list[str], out: Path) -> None:
    partial = out.with_name(out.name + ".part" + out.suffix)  # never a half file under OUT
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args, str(partial)], check=True)
    partial.rename(out)


# A camera's tags, as exiftool writes them: what strip_metadata must remove.
CAMERA_TAGS = (
    "-Make=Canon", "-Model=EOS Demo",
    "-GPSLatitude=52.3671", "-GPSLatitudeRef=N", "-GPSLongitude=4.8833", "-GPSLongitudeRef=E",
)  # fmt: skip


def _photo(out: Path) -> None:
    # Detail, not a flat colour: the invisible watermark needs texture to hide in.
    image = Image.radial_gradient("L").resize((960, 640)).convert("RGB")
    image.paste((200, 40, 40), (80, 80, 400, 320))
    image.paste((40, 160, 220), (520, 300, 880, 560))
    partial = out.with_name(out.name + ".part" + out.suffix)  # exiftool goes by the suffix
    image.save(partial, quality=92)
    subprocess.run(
        ["exiftool", "-q", "-overwrite_original", *CAMERA_TAGS, str(partial)], check=True
    )
    partial.rename(out)


def _truncated(out: Path) -> None:
    whole = out.with_name("whole.mov")  # QuickTime: the moov atom is written last
    _ffmpeg(_clip(4), whole)
    data = whole.read_bytes()
    out.write_bytes(data[: len(data) // 2])  # the moov atom is cut off
    whole.unlink()


def _rotated(out: Path) -> None:
    stored = out.with_name("stored-landscape.mp4")
    _ffmpeg(_clip(8), stored)
    # FFmpeg 5.1 writes the display matrix from the rotate tag when remuxing only.
    _ffmpeg(["-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=90"], out)
    stored.unlink()


def makers() -> dict[str, Callable[[Path], None]]:
    """Each file of the library (relative path) and how to make it."""

    def video(args: list[str]) -> Callable[[Path], None]:
        return lambda out: _ffmpeg(args, out)

    return {
        "inbox/intro.mov": video(_clip(10)),
        "inbox/broken.mp4": _truncated,
        "vault/alice/full-video.mp4": video(_clip(45)),
        "vault/alice/a.mp4": video(_clip(3)),
        "vault/alice/b.mp4": video(_clip(3, kind="smptebars")),
        "vault/alice/c.mp4": video(_clip(3, kind="rgbtestsrc")),
        "vault/alice/d.mp4": video(_clip(3, kind="testsrc", sound=False)),
        "vault/alice/set-12/img-001.jpg": _photo,
        "uploads/alice/clip.mp4": _rotated,
        "uploads/alice/photo-with-gps.jpg": _photo,
        "uploads/alice/photo-with-gps.png": _photo,
    }


def _give_to_pods(root: Path) -> None:
    if os.geteuid() == 0:  # else the files are the caller's, who runs the pods' user
        for path in [root, *root.rglob("*")]:
            os.chown(path, POD_UID, POD_UID)


def make_library(root: Path) -> list[str]:
    """The files missing under ROOT, made (two at a time); returns what was made."""
    todo = {rel: make for rel, make in makers().items() if not (root / rel).exists()}
    for rel in todo:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        for done in [pool.submit(make, root / rel) for rel, make in todo.items()]:
            done.result()
    _give_to_pods(root)
    return sorted(todo)
