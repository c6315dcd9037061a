"""The worker tier: real FFmpeg on media generated here, a real redis-server, a real HTTP server.

Media are tiny (320x240, 1-2 s) so the whole tier stays fast on 2 cores; the
session fixture generates them once. Each worker run writes under its own
output prefix, so tests never see each other's files.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

import mediajobs
from mediajobs.api.mediajob import JobResult
from mediajobs.api.task import TerminationMessage
from mediajobs.worker.main import run_task
from tests.redis_server import RedisServer

WAIT_S = 20.0  # bound of every wait for a condition in this tier
REPO_OPERATOR = Path(mediajobs.__file__).resolve().parents[1]

# ---------------------------------------------------------------- generated media

SRC = ["-f", "lavfi", "-i"]
TAGS = [
    "-metadata", "title=Secret title",
    "-metadata", "comment=shot at home",
    "-metadata", "location=+52.3700+004.8900/",
    "-metadata", "creation_time=2020-01-01T00:00:00Z",
    "-metadata:s:v", "title=camera track",
    "-metadata:s:a", "language=eng",
]  # fmt: skip
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac"]


def picture(
    size: str = "320x240", seconds: float = 2, rate: int = 25, kind: str = "testsrc"
) -> list[str]:
    return [*SRC, f"{kind}=size={size}:rate={rate}:duration={seconds}"]


def tone(seconds: float = 2) -> list[str]:
    return [*SRC, f"sine=frequency=440:sample_rate=48000:duration={seconds}"]


VIDEOS: dict[str, list[str]] = {
    "clip.mp4": [*picture(), *tone(), *H264, *AAC, *TAGS, "-movflags", "+use_metadata_tags"],
    "clip.mov": [*picture(), *tone(), *H264, *AAC, *TAGS],
    "clip.webm": [*picture(), *tone(), "-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8",
                  "-b:v", "300k", "-c:a", "libopus"],
    "clip.mkv": [*picture(), *tone(), "-c:v", "mpeg4", "-q:v", "5", "-c:a", "libmp3lame", *TAGS],
    "vertical.mp4": [*picture("240x320"), *tone(), *H264, *AAC],
    "silent.mp4": [*picture(seconds=1), *H264],
    "vfr.mp4": [*picture(rate=30), *tone(), "-vf", r"select=lt(n\,30)+not(mod(n\,3))",
                "-fps_mode", "vfr", *H264, *AAC],
    "tenbit.mp4": [*picture(), *tone(), "-c:v", "libx264", "-preset", "ultrafast",
                   "-pix_fmt", "yuv420p10le", *AAC],
    "long.mp4": [*picture(seconds=20), *tone(20), *H264, *AAC],
    "cut.mp4": [*picture(seconds=1), *picture(seconds=1, kind="smptebars"),
                "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", *H264],
    "audio.m4a": [*tone(), *AAC],
}  # fmt: skip


def ffmpeg_write(out: Path, args: list[str]) -> None:
    """OUT made by FFmpeg from ARGS (generated media: lavfi sources, encoders)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args, str(out)], check=True)


def _gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS Secret"  # Model
    exif[0x8825] = {1: "N", 2: (52.0, 22.0, 1.5), 3: "E", 4: (4.0, 53.0, 0.0)}  # GPS IFD
    return exif


def _photo(path: Path) -> None:
    # a gradient with detail, not a flat colour: encoders and the watermark see real content
    image = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
    image.paste((200, 40, 40), (40, 40, 140, 120))
    image.save(path, exif=_gps_exif().tobytes(), quality=90)  # PNG ignores the quality


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The media root: every input under in/."""
    root = tmp_path_factory.mktemp("media").resolve()
    inbox = root / "in"
    inbox.mkdir()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for done in [pool.submit(ffmpeg_write, inbox / n, a) for n, a in VIDEOS.items()]:
            done.result()
    # a phone held upright: stored landscape, displayed portrait (FFmpeg 5.1 sets the display
    # matrix from the rotate tag only when remuxing)
    rotate = [
        "-i",
        str(inbox / "clip.mp4"),
        "-map",
        "0:v",
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
    ]
    ffmpeg_write(inbox / "rotated.mp4", rotate)
    for name in ("photo.jpg", "photo.png", "photo.webp"):
        _photo(inbox / name)
    Image.new("RGBA", (64, 32), (255, 255, 255, 200)).save(inbox / "logo.png")
    whole = (inbox / "clip.mov").read_bytes()  # moov at the end: half of it has none
    (inbox / "truncated.mov").write_bytes(whole[: len(whole) // 2])
    (inbox / "empty.mp4").write_bytes(b"")
    (inbox / "notmedia.mp4").write_text("this is not a video\n" * 100)
    # an H.264 track whose codec tag nobody knows: FFmpeg has no decoder for it
    (inbox / "unsupported.mp4").write_bytes(
        (inbox / "silent.mp4").read_bytes().replace(b"avc1", b"zzzz")
    )
    return root


# ---------------------------------------------------------------- running the worker


@dataclass
class Outcome:
    code: int
    message: TerminationMessage
    task: dict[str, Any]
    root: Path

    @property
    def result(self) -> JobResult:
        assert self.code == 0, self.message.error
        assert self.message.result is not None
        return self.message.result

    @property
    def error(self) -> str:
        assert self.code != 0, "the worker succeeded"
        assert self.message.error is not None
        return self.message.error

    def output(self, index: int = 0) -> Path:
        return self.root / self.result.outputs[index].path


def task_for(
    media: Path, operation: str, *inputs: str, params: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    """A task as the operator writes it; inputs are media paths or http(s) URLs."""
    name = f"t-{uuid.uuid4().hex[:8]}"
    refs = [
        {"url": i} if i.startswith(("http:", "https:", "file:")) else {"path": i} for i in inputs
    ]
    return {
        "uid": str(uuid.uuid4()),
        "namespace": "worker-tests",
        "name": name,
        "operation": operation,
        "params": params or {},
        "inputs": refs,
        "output": {"prefix": f"out/{name}"},
        "mediaRoot": str(media),
        "scratchDir": str(media.parent),
    } | fields


Work = Callable[..., Outcome]


@pytest.fixture
def work(media: Path) -> Work:
    """Run one task in-process (the real worker minus the signal handlers and the file write)."""

    def run(
        operation: str, *inputs: str, params: dict[str, Any] | None = None, **fields: Any
    ) -> Outcome:
        task = task_for(media, operation, *inputs, params=params, **fields)
        code, message = run_task({"MEDIAJOB_TASK": json.dumps(task)})
        return Outcome(int(code), message, task, media)

    return run


def worker_env(task: dict[str, Any], termination_log: Path) -> dict[str, str]:
    """The environment of a worker subprocess (`python -m mediajobs.worker`)."""
    path = os.pathsep.join(filter(None, [str(REPO_OPERATOR), os.environ.get("PYTHONPATH")]))
    return os.environ | {
        "MEDIAJOB_TASK": json.dumps(task),
        "MEDIAJOB_TERMINATION_LOG": str(termination_log),
        "PYTHONPATH": path,
    }


WORKER = [sys.executable, "-m", "mediajobs.worker"]


# ---------------------------------------------------------------- probing outputs


def ffprobe(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def streams(path: Path, kind: str) -> list[dict[str, Any]]:
    return [s for s in ffprobe(path)["streams"] if s["codec_type"] == kind]


def top_level_boxes(path: Path) -> list[str]:
    """The ISO BMFF boxes at the top of an MP4/MOV, in file order."""
    boxes, data, at = [], path.read_bytes(), 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        boxes.append(data[at + 4 : at + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        if size < 8:
            break
        at += size
    return boxes


def exif_tags(path: Path) -> dict[str, Any]:
    """exiftool's view of a file, keys prefixed by their group (GPS:, IFD0:, QuickTime:...)."""
    done = subprocess.run(
        ["exiftool", "-j", "-a", "-G1", str(path)], capture_output=True, text=True, check=True
    )
    tags: dict[str, Any] = json.loads(done.stdout)[0]
    return tags


# ---------------------------------------------------------------- Redis


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """The session's redis-server (tests/conftest.py), as the worker's task names it."""
    return redis_server.url


# ---------------------------------------------------------------- HTTP


class _Handler(http.server.BaseHTTPRequestHandler):
    """/media/<path>: the media root; /redirect?to=URL, /loop, /status/N, /unsized/N bytes.

    Every path asked for is kept in ``requested`` (tests check what was never fetched).
    """

    root: Path
    requested: list[str]

    def do_GET(self) -> None:
        self.requested.append(self.path)
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/", 1)
        if parts[0] == "media" and len(parts) == 2:
            body = (self.root / parts[1]).read_bytes()
            self._reply(200, body)
        elif parts[0] == "loop":
            self.send_response(302)
            self.send_header("Location", "/loop")
            self.end_headers()
        elif parts[0] == "redirect":
            self.send_response(302)
            self.send_header("Location", parse_qs(url.query)["to"][0])
            self.end_headers()
        elif parts[0] == "status":
            self._reply(int(parts[1]), b"nope")
        elif parts[0] == "unsized":
            self.send_response(200)  # no Content-Length: the body ends when the connection does
            self.end_headers()
            self.wfile.write(b"\0" * int(parts[1]))
        else:
            self._reply(404, b"")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture(scope="session")
def http_requests() -> list[str]:
    """The paths the session's HTTP server was asked for, in order."""
    return []


@pytest.fixture(scope="session")
def http_base(media: Path, http_requests: list[str]) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 (a thread), serving the media root."""
    handler = type("Handler", (_Handler,), {"root": media, "requested": http_requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
