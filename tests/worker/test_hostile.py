"""Hostile media, tried as an attacker with upload rights would: real FFmpeg, real files.

Files outside the media root are watched with inotify: a run passes only if
neither the worker nor any FFmpeg it started opened them. A control test
shows the watch sees the attack when FFmpeg is run unguarded.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.worker.conftest import (
    AAC,
    H264,
    SRC,
    WORKER,
    Work,
    ffmpeg_write,
    picture,
    task_for,
    tone,
    worker_env,
)
from tests.worker.inotify import watching

INVALID = 2
HLS_REFUSAL = "input is an HLS/M3U playlist, not a media file"
# Every suffix an input may carry: the containers and stills the catalog's operations take.
MEDIA_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".ts", ".gif", ".jpg",
                  ".png", ".webp", ".bmp", ".tif")  # fmt: skip


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Path:
    """A real clip outside the media root: what a playlist would smuggle in."""
    path = tmp_path_factory.mktemp("outside") / "secret.mp4"
    shutil.copy(media / "in" / "clip.mp4", path)
    return path


def hls(*entries: str) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2"]
    for entry in entries:
        lines += ["#EXTINF:2.0,", entry]
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


@dataclass(frozen=True)
class Attack:
    folder: Path  # in the media root: the attacker's uploads
    outside: Path  # what they want to read
    http_base: str
    requested: list[str]  # what the HTTP server was asked for

    def upload(self, name: str, text: str) -> str:
        """A file of TEXT under NAME in the media root; its path as a task names it."""
        (self.folder / name).write_text(text)
        return f"hostile/{name}"


@pytest.fixture
def attack(
    media: Path, outside: Path, http_base: str, http_requests: list[str]
) -> Iterator[Attack]:
    folder = media / "hostile"
    folder.mkdir(exist_ok=True)
    yield Attack(folder, outside, http_base, http_requests)
    shutil.rmtree(folder)


def test_control_unguarded_ffprobe_follows_the_playlist(attack: Attack, media: Path) -> None:
    """The watch is able to fail: plain ffprobe on a disguised playlist opens the outside file."""
    path = attack.upload("control.mp4", hls(str(attack.outside)))
    with watching(attack.outside) as watch:
        subprocess.run(["ffprobe", "-v", "quiet", str(media / path)], check=False)
        assert watch.touched() == {attack.outside}


@pytest.mark.parametrize("suffix", MEDIA_SUFFIXES)
def test_a_playlist_behind_any_media_name_is_refused(
    work: Work, attack: Attack, suffix: str
) -> None:
    remote = f"/media/in/clip.mp4?via-playlist{suffix}"
    path = attack.upload(f"evil{suffix}", hls(str(attack.outside), f"{attack.http_base}{remote}"))
    with watching(attack.outside) as watch:
        outcome = work("validate", path)
        assert watch.touched() == set()
    assert (outcome.code, outcome.error) == (INVALID, HLS_REFUSAL)
    assert remote not in attack.requested


@pytest.mark.parametrize(
    "operation", ["reencode_streaming", "strip_metadata", "thumbnail_generate", "create_teaser"]
)
def test_every_operation_refuses_a_playlist(work: Work, attack: Attack, operation: str) -> None:
    path = attack.upload("evil.mp4", hls(str(attack.outside)))
    with watching(attack.outside) as watch:
        outcome = work(operation, path)
        assert watch.touched() == set()
    assert (outcome.code, outcome.error) == (INVALID, HLS_REFUSAL)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("ffconcat version 1.0\nfile '{outside}'\n", "an FFmpeg concat list"),
        ("file '{outside}'\n", "an FFmpeg concat list"),
        (
            '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011">'
            "<BaseURL>file://{outside}</BaseURL></MPD>\n",
            "a DASH manifest",
        ),
        ("\ufeff  #EXTM3U\n{outside}\n", "an HLS/M3U playlist"),
        ("[playlist]\nFile1={outside}\n", "a PLS playlist"),
    ],
)
def test_other_indirect_formats_are_named_and_refused(
    work: Work, attack: Attack, text: str, what: str
) -> None:
    path = attack.upload("list.mkv", text.format(outside=attack.outside))
    with watching(attack.outside) as watch:
        outcome = work("reencode_streaming", path)
        assert watch.touched() == set()
    assert (outcome.code, outcome.error) == (INVALID, f"input is {what}, not a media file")


def test_a_downloaded_playlist_is_refused(work: Work, attack: Attack) -> None:
    remote = "/media/in/clip.mp4?from-a-downloaded-playlist"
    path = attack.upload("remote.mp4", hls(str(attack.outside), f"{attack.http_base}{remote}"))
    with watching(attack.outside) as watch:
        outcome = work("reencode_streaming", f"{attack.http_base}/media/{path}",
                       allowPrivateUrls=True)  # fmt: skip
        assert watch.touched() == set()
    assert (outcome.code, outcome.error) == (INVALID, HLS_REFUSAL)
    assert remote not in attack.requested


def test_a_watermark_image_that_is_a_playlist_is_refused(work: Work, attack: Attack) -> None:
    image = attack.upload("logo.png", hls(str(attack.outside)))
    with watching(attack.outside) as watch:
        outcome = work("apply_watermark", "in/photo.jpg", params={"image": image})
        assert watch.touched() == set()
    assert (outcome.code, outcome.error) == (INVALID, HLS_REFUSAL)


def test_a_compilation_names_the_input_that_is_a_playlist(work: Work, attack: Attack) -> None:
    path = attack.upload("part2.mp4", hls(str(attack.outside)))
    with watching(attack.outside) as watch:
        outcome = work("compile_concat", "in/clip.mp4", path)
        assert watch.touched() == set()
    assert (outcome.code, outcome.error) == (INVALID, f"input 2: {HLS_REFUSAL}")


def test_an_image_path_with_a_pattern_is_read_literally(
    work: Work, media: Path, tmp_path: Path
) -> None:
    """frame%03d.png is that one file: FFmpeg never expands it to frame001.png (a link out)."""
    folder = media / "seq"
    folder.mkdir()
    secret = tmp_path / "secret.png"
    Image.new("RGB", (64, 48), (0, 0, 255)).save(secret)
    Image.new("RGB", (16, 16), (255, 0, 0)).save(folder / "frame%03d.png")
    (folder / "frame001.png").symlink_to(secret)
    try:
        with watching(secret) as watch:
            outcome = work("convert_image", "seq/frame%03d.png", params={"format": "png"})
            assert watch.touched() == set()
        assert (outcome.result.outputs[0].width, outcome.result.outputs[0].height) == (16, 16)
        assert Image.open(outcome.output()).getpixel((8, 8)) == (255, 0, 0)
    finally:
        shutil.rmtree(folder)


def zeros_deflate(rows: int, row_bytes: int, rows_a_chunk: int = 160) -> bytes:
    """A zlib stream of ROWS x ROW_BYTES zero bytes, built without compressing them all.

    After a full flush the compressor forgets its history, so each further chunk of
    zeros compresses to the same bytes; the Adler-32 of N zeros is (N mod 65521, 1).
    """
    chunk = bytes(row_bytes * rows_a_chunk)
    packer = zlib.compressobj(9)
    first = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush()[:-4]
    adler = ((rows * row_bytes % 65521) << 16) | 1
    return first + again * (rows // rows_a_chunk - 1) + end + adler.to_bytes(4, "big")


def png_bomb(path: Path, side: int = 16000) -> None:
    """A 16-bit RGBA PNG of SIDE x SIDE black pixels: ~2 MB on disk, 2 GB decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", side, side, 16, 6, 0, 0, 0)
    idat = zeros_deflate(side, 1 + side * 8)  # a filter byte, then 8 bytes a pixel
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_the_bomb_stream_is_valid_zlib() -> None:
    """The bomb's construction, at a size small enough to inflate here."""
    assert zlib.decompress(zeros_deflate(320, 1001)) == bytes(320 * 1001)


# Runs argv[1:] and says, as its last stderr line, the CPU seconds and peak RSS (KiB) of it.
MEASURED = """
import json, resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([used.ru_utime + used.ru_stime, used.ru_maxrss]), file=sys.stderr)
sys.exit(code)
"""


def test_a_pixel_bomb_is_refused_before_any_decode(media: Path, tmp_path: Path) -> None:
    """Run as the pod runs it (a new interpreter, 512 MiB): refused fast, in little memory."""
    png_bomb(media / "in" / "bomb.png")
    log = tmp_path / "termination-log"
    task = task_for(media, "resize_image", "in/bomb.png", params={"width": 100},
                    memoryLimitBytes=512 * 1024**2)  # fmt: skip
    # Measured by a fresh interpreter of its own whose one child is the worker: this
    # process's RUSAGE_CHILDREN peak holds every earlier test's children (a browser).
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *WORKER],
        env=worker_env(task, log), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == INVALID, done.stderr
    error = json.loads(log.read_text())["error"]
    assert error == (
        "image too large (16000x16000): a decoded frame would not fit the memory limit;"
        " raise spec.resources.memory"
    )
    cpu, peak = json.loads(done.stderr.strip().splitlines()[-1])
    assert cpu < 2.0  # CPU, not wall time: a decode of 256 megapixels takes far longer
    assert peak < 256 * 1024  # KiB: the decoded picture alone would be 2 GB


def jpeg_declaring(path: Path, width: int, height: int, padding: int) -> None:
    """A small JPEG whose frame header claims WIDTH x HEIGHT, behind PADDING APP segments
    of 64 KiB (as EXIF blocks with thumbnails push it back)."""
    Image.new("RGB", (16, 16), (9, 9, 9)).save(path, quality=90)
    data = path.read_bytes()
    sof = data.index(b"\xff\xc0")
    data = data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]
    app = b"\xff\xef" + struct.pack(">H", 65535) + bytes(65533)
    path.write_bytes(data[:2] + app * padding + data[2:])


@pytest.mark.parametrize(
    ("side", "padding", "message"),
    [
        # the frame header lies past what the worker reads: FFmpeg's -max_pixels stops it
        (30000, 5, "a decoded frame would not fit the memory limit;"),
        # one frame fits, the copies the operation makes do not: the header's estimate says so
        (7400, 1, "needs about 534 MiB, the memory limit is 512 MiB;"),
    ],
)
def test_a_huge_jpeg_is_refused(
    media: Path, work: Work, side: int, padding: int, message: str
) -> None:
    jpeg_declaring(media / "in" / f"huge-{side}.jpg", side, side, padding)
    outcome = work("resize_image", f"in/huge-{side}.jpg", params={"width": 100},
                   memoryLimitBytes=512 * 1024**2)  # fmt: skip
    expected = f"image too large ({side}x{side}): {message} raise spec.resources.memory"
    assert (outcome.code, outcome.error) == (INVALID, expected)


def test_a_truncated_faststart_mp4_is_refused(work: Work, media: Path, tmp_path: Path) -> None:
    """moov first, so it probes whole; FFmpeg then exits 0 on half the data: the worker does not."""
    whole = tmp_path / "whole.mp4"
    ffmpeg_write(whole, [
        *picture(seconds=4), *tone(4), *H264, *AAC, "-movflags", "+faststart",
    ])  # fmt: skip
    data = whole.read_bytes()
    (media / "in" / "half.mp4").write_bytes(data[: len(data) // 2])
    for operation in ("reencode_streaming", "validate"):
        outcome = work(operation, "in/half.mp4", params={})
        assert outcome.code == INVALID, operation
        assert outcome.error.startswith("input is truncated or corrupt"), outcome.error
    assert not (media / "out").exists() or not list((media / "out").rglob("half*"))


def test_a_link_local_ipv6_url_is_refused_for_good(work: Work) -> None:
    outcome = work("validate", "http://[fe80::1%25eth0]/clip.mp4")
    assert outcome.code == INVALID
    assert outcome.error.startswith("download refused: ")


@pytest.fixture(scope="module")
def many_tracks(media: Path) -> str:
    """A Matroska file with two sound tracks and subtitles."""
    subs = media / "in" / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n")
    out = media / "in" / "tracks.mkv"
    ffmpeg_write(out, [
        *picture(), *tone(), *SRC, "sine=frequency=880:duration=2", "-i", str(subs),
        "-map", "0", "-map", "1", "-map", "2", "-map", "3", *H264, *AAC, "-c:s", "srt",
    ])  # fmt: skip
    return "in/tracks.mkv"


def test_a_transcode_says_which_streams_it_kept_and_dropped(work: Work, many_tracks: str) -> None:
    outcome = work("reencode_streaming", many_tracks, params={"preset": "ultrafast"})
    assert (outcome.result.data or {})["streams"] == {
        "kept": ["1:0 video h264", "1:1 audio aac"],
        "dropped": ["1:2 audio aac", "1:3 subtitle subrip"],
    }


def test_strip_metadata_keeps_every_sound_track_and_says_so(work: Work, many_tracks: str) -> None:
    outcome = work("strip_metadata", many_tracks)
    assert (outcome.result.data or {})["streams"] == {
        "kept": ["1:0 video h264", "1:1 audio aac", "1:2 audio aac"],
        "dropped": ["1:3 subtitle subrip"],
    }


def test_default_output_names_transliterate(work: Work, media: Path) -> None:
    shutil.copy(media / "in" / "photo.jpg", media / "in" / "Été à Zürich 東京.jpg")
    outcome = work("convert_image", "in/Été à Zürich 東京.jpg", params={"format": "png"})
    assert outcome.result.outputs[0].path.endswith("/Ete_a_Zurich_DongJing.png")


def test_the_footprint_is_in_the_termination_message_before_any_decode(
    media: Path, tmp_path: Path
) -> None:
    """Killed mid-run (as the kernel kills for memory), the pod still says what it was doing."""
    from tests.localcluster import wait_for  # noqa: PLC0415

    log = tmp_path / "termination-log"
    task = task_for(media, "reencode_streaming", "in/long.mp4", params={"preset": "veryslow"},
                    memoryLimitBytes=2 * 1024**3)  # fmt: skip
    proc = subprocess.Popen(WORKER, env=worker_env(task, log), stderr=subprocess.DEVNULL)
    try:
        text = wait_for("the provisional message", lambda: log.exists() and log.read_text())
    finally:
        proc.kill()
        proc.wait()
    footprint = json.loads(text)["footprint"]
    assert footprint["input"] == "320x240 video"
    assert footprint["limitBytes"] == 2 * 1024**3
    assert 64 * 1024**2 < footprint["estimatedBytes"] < footprint["limitBytes"]
