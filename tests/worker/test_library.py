"""The media library on real files: scan, rescan, concurrent scans, moves, compilations.

Each test gets its own media root (the index lives on it), filled with copies
of clips generated once per session.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mediajobs.api.task import ExitCode
from mediajobs.cli import main as cli
from mediajobs.worker.library import compilation
from mediajobs.worker.library.index import Row, read_rows
from mediajobs.worker.main import run_task
from tests.worker.conftest import (
    AAC,
    H264,
    WAIT_S,
    WORKER,
    Outcome,
    ffmpeg_write,
    ffprobe,
    picture,
    streams,
    task_for,
    tone,
    worker_env,
)


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landscape, portrait (true and by rotation metadata), silent, corrupt and disguised files."""
    out = tmp_path_factory.mktemp("clips")
    ffmpeg_write(out / "landscape.mp4", [*picture(seconds=1), *tone(1), *H264, *AAC])
    ffmpeg_write(out / "long.mp4", [*picture(seconds=3), *tone(3), *H264, *AAC])
    ffmpeg_write(out / "vertical.mp4", [*picture("240x320", seconds=1), *tone(1), *H264, *AAC])
    ffmpeg_write(out / "silent.mkv", [*picture(seconds=2), *H264])
    ffmpeg_write(out / "whole.mov", [*picture(seconds=2), *tone(2), *H264, *AAC])
    # stored landscape, displayed portrait: the display matrix comes from the rotate tag
    rotate = ["-i", str(out / "landscape.mp4"), "-map", "0:v", "-c", "copy"]
    ffmpeg_write(out / "rotated.mp4", [*rotate, "-metadata:s:v:0", "rotate=90"])
    whole = (out / "whole.mov").read_bytes()  # moov at the end: the first half has none
    (out / "truncated.mov").write_bytes(whole[: len(whole) // 2])
    ffmpeg_write(out / "disguised.mp4", [*picture(seconds=1), "-frames:v", "1", "-f", "image2",
                                         "-c:v", "png"])  # fmt: skip
    (out / "notes.mp4").write_text("not a video\n" * 50)
    return out


LAYOUT = {
    "lib/landscape.mp4": "landscape.mp4",
    "lib/long.mp4": "long.mp4",
    "lib/portrait/vertical.mp4": "vertical.mp4",
    "lib/portrait/rotated.mp4": "rotated.mp4",
    "lib/silent.mkv": "silent.mkv",
    "lib/bad/truncated.mov": "truncated.mov",
    "lib/bad/disguised.mp4": "disguised.mp4",
    "lib/bad/notes.mp4": "notes.mp4",
    "lib/.hidden.mp4": "landscape.mp4",  # hidden: skipped
    "lib/.cache/kept.mp4": "landscape.mp4",  # in a hidden directory: skipped
    "lib/readme.txt": "notes.mp4",  # not a video extension: skipped
    "elsewhere/other.mp4": "landscape.mp4",  # outside the scanned directory
}
# path -> (width, height, orientation, audio) or the start of the reason it is invalid
EXPECTED: dict[str, tuple[int, int, str, bool] | str] = {
    "lib/landscape.mp4": (320, 240, "landscape", True),
    "lib/long.mp4": (320, 240, "landscape", True),
    "lib/portrait/vertical.mp4": (240, 320, "portrait", True),
    "lib/portrait/rotated.mp4": (240, 320, "portrait", False),
    "lib/silent.mkv": (320, 240, "landscape", False),
    "lib/bad/truncated.mov": "input is truncated or corrupt",
    "lib/bad/disguised.mp4": "input is an image, not a video (PNG image",
    "lib/bad/notes.mp4": "input is a text file, not a media file",
}


def fill(root: Path, clips: Path, layout: dict[str, str]) -> None:
    for rel, name in layout.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clips / name, root / rel)


@pytest.fixture
def root(tmp_path: Path, clips: Path) -> Path:
    media = tmp_path / "media"
    fill(media, clips, LAYOUT)
    return media.resolve()


def run(root: Path, operation: str, *inputs: str, **params: Any) -> Outcome:
    task = task_for(root, operation, *inputs, params=params)
    code, message = run_task({"MEDIAJOB_TASK": json.dumps(task)})
    return Outcome(int(code), message, task, root)


def data(outcome: Outcome) -> dict[str, Any]:
    return outcome.result.data or {}


def assert_rows(
    rows: dict[str, Row], expected: dict[str, tuple[int, int, str, bool] | str]
) -> None:
    assert sorted(rows) == sorted(expected)
    for path, want in expected.items():
        got = rows[path]
        if isinstance(want, str):
            assert not got.valid and got.reason is not None and got.reason.startswith(want), got
        else:
            assert got.valid, got
            assert (got.width, got.height, got.orientation, got.audio) == want
            assert got.duration and got.duration > 0.5
            assert got.video_codec == "h264"
        assert got.size > 0


def test_scan_indexes_exactly_the_videos_with_their_shape_and_faults(
    root: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.mp4").write_bytes((root / "lib/long.mp4").read_bytes())
    (root / "lib/bad/escape.mp4").symlink_to(tmp_path / "secret.mp4")
    (root / "lib/portrait/again.mp4").symlink_to(root / "lib/portrait/vertical.mp4")
    outcome = run(root, "scan", directory="./lib/")
    found = data(outcome)
    assert {k: found[k] for k in ("files", "new", "changed", "removed", "invalid", "probed")} == {
        "files": 10, "new": 10, "changed": 0, "removed": 0, "invalid": 4, "probed": 10
    }  # fmt: skip
    assert {f["path"] for f in found["invalidFiles"]} == {
        "lib/bad/escape.mp4",
        *(p for p, w in EXPECTED.items() if isinstance(w, str)),
    }
    rows = read_rows(root)
    assert_rows(
        rows,
        EXPECTED
        | {"lib/bad/escape.mp4": "input path escapes the media volume"}
        | {"lib/portrait/again.mp4": (240, 320, "portrait", True)},  # a link inside: followed
    )
    stat = (root / "lib/long.mp4").stat()
    assert (rows["lib/long.mp4"].size, rows["lib/long.mp4"].mtime_ns) == (
        stat.st_size,
        stat.st_mtime_ns,
    )
    assert abs((rows["lib/long.mp4"].duration or 0) - 3) < 0.1


def test_a_second_scan_reports_exactly_what_was_added_changed_and_deleted(
    root: Path, clips: Path
) -> None:
    run(root, "scan", directory="lib")
    shutil.copyfile(clips / "long.mp4", root / "lib/added.mp4")
    shutil.copyfile(clips / "vertical.mp4", root / "lib/landscape.mp4")  # now portrait
    (root / "lib/silent.mkv").unlink()
    found = data(run(root, "scan", directory="lib"))
    assert {k: found[k] for k in ("files", "new", "changed", "removed", "invalid", "probed")} == {
        "files": 8, "new": 1, "changed": 1, "removed": 1, "invalid": 3, "probed": 2
    }  # fmt: skip
    expected = dict(EXPECTED)
    del expected["lib/silent.mkv"]
    expected |= {"lib/added.mp4": (320, 240, "landscape", True)}
    expected |= {"lib/landscape.mp4": (240, 320, "portrait", True)}
    assert_rows(read_rows(root), expected)
    again = data(run(root, "scan", directory="lib", skipExisting=False))
    assert (again["new"], again["changed"], again["removed"], again["probed"]) == (0, 0, 0, 8)


def test_scans_of_two_directories_share_one_index(root: Path, clips: Path) -> None:
    fill(root, clips, {"public/gallery/a.mp4": "vertical.mp4"})
    run(root, "scan", directory="lib")
    found = data(run(root, "public_scan"))
    assert (found["directory"], found["new"], found["removed"]) == ("public", 1, 0)
    rows = read_rows(root)
    assert rows["public/gallery/a.mp4"].orientation == "portrait"
    assert len(rows) == len(EXPECTED) + 1  # lib/ kept


def test_two_scans_at_once_leave_a_valid_index(root: Path, clips: Path, tmp_path: Path) -> None:
    many = {f"lib/many/{i:02d}.mp4": "landscape.mp4" for i in range(24)}
    fill(root, clips, many)
    procs = []
    for number in range(2):
        task = task_for(root, "scan", params={"directory": "lib"})
        log = tmp_path / f"termination-{number}"
        env = worker_env(task, log)
        procs.append((subprocess.Popen(WORKER, env=env, stderr=subprocess.DEVNULL), log))
    results = []
    for proc, log in procs:
        assert proc.wait(timeout=WAIT_S * 6) == 0
        results.append(json.loads(log.read_text())["result"]["data"])
    assert sorted(r["new"] for r in results) == [0, len(EXPECTED) + len(many)]
    expected = EXPECTED | dict.fromkeys(many, (320, 240, "landscape", True))
    assert_rows(read_rows(root), expected)
    assert sorted(p.name for p in (root / ".mediajobs").iterdir()) == ["library.jsonl"]


def test_scan_refuses_a_directory_outside_the_volume(root: Path, tmp_path: Path) -> None:
    (root / "lib/out").symlink_to(tmp_path)
    outcome = run(root, "scan", directory="lib/out")
    assert outcome.code == ExitCode.INVALID
    assert "escapes the media volume" in outcome.error
    assert run(root, "scan", directory="nowhere").error == "directory not found: nowhere"


def test_library_list_prints_the_index(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(root, "scan", directory="lib")
    assert cli(["library", "list", str(root / "lib" / "portrait")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:5] == [
        "lib/portrait/rotated.mp4",
        "1.00s",
        "240x320",
        "portrait",
        "h264",
    ]
    assert lines[-1] == "2 files, 0 invalid"
    assert cli(["library", "list", str(root.parent)]) == 1


# ---------------------------------------------------------------- move_to_library


def test_move_to_library_moves_and_reindexes(root: Path, clips: Path) -> None:
    fill(root, clips, {"inbox/new.mp4": "long.mp4"})
    run(root, "scan", directory="inbox")
    outcome = run(root, "move_to_library", "inbox/new.mp4", targetDirectory="lib/moved")
    assert outcome.result.outputs[0].path == "lib/moved/new.mp4"
    assert data(outcome) == {"from": "inbox/new.mp4"}
    assert not (root / "inbox/new.mp4").exists()
    assert (root / "lib/moved/new.mp4").read_bytes() == (clips / "long.mp4").read_bytes()
    rows = read_rows(root)
    assert "inbox/new.mp4" not in rows
    assert rows["lib/moved/new.mp4"].valid and rows["lib/moved/new.mp4"].orientation == "landscape"


def test_move_to_library_never_overwrites(root: Path, clips: Path) -> None:
    fill(root, clips, {"inbox/long.mp4": "vertical.mp4"})
    outcome = run(root, "move_to_library", "inbox/long.mp4", targetDirectory="lib")
    assert outcome.code == ExitCode.INVALID
    assert outcome.error == "lib/long.mp4 exists: move_to_library never overwrites"
    assert (root / "inbox/long.mp4").read_bytes() == (clips / "vertical.mp4").read_bytes()
    assert (root / "lib/long.mp4").read_bytes() == (clips / "long.mp4").read_bytes()


def test_move_to_library_refuses_what_is_not_a_video_or_a_link(root: Path) -> None:
    disguised = run(root, "move_to_library", "lib/bad/disguised.mp4", targetDirectory="x")
    assert disguised.code == ExitCode.INVALID and "PNG image" in disguised.error
    (root / "inbox").mkdir()
    (root / "inbox/link.mp4").symlink_to(root / "lib/long.mp4")
    linked = run(root, "move_to_library", "inbox/link.mp4", targetDirectory="x")
    assert linked.code == ExitCode.INVALID and "symbolic link" in linked.error
    escape = run(root, "move_to_library", "lib/long.mp4", targetDirectory="../x")
    assert escape.code == ExitCode.INVALID
    assert (root / "lib/bad/disguised.mp4").exists() and (root / "lib/long.mp4").exists()
    assert not (root / "x").exists()


# ---------------------------------------------------------------- compilations

SMALL = {"width": 320, "height": 180, "fps": 10, "preset": "ultrafast"}


def test_compile_random_is_reproducible_and_takes_only_matching_files(
    root: Path, clips: Path
) -> None:
    fill(root, clips, {f"lib/more/{i}.mp4": "landscape.mp4" for i in range(6)})
    run(root, "scan", directory="lib")
    criteria = {"orientation": "landscape", "maxDuration": 2.5, "directory": "lib", "count": 3}
    first = run(root, "compile_random", **criteria, seed=11, **SMALL)
    second = run(root, "compile_random", **criteria, seed=11, **SMALL)
    chosen = data(first)["chosen"]
    assert chosen == data(second)["chosen"]
    assert (data(first)["seed"], data(first)["matched"], len(chosen)) == (11, 8, 3)
    rows = read_rows(root)
    for path in chosen:  # landscape, at most 2.5 s, valid: never long.mp4 or a portrait
        assert rows[path].valid and rows[path].orientation == "landscape"
        assert (rows[path].duration or 0) <= 2.5
    out = first.output()
    video = streams(out, "video")[0]
    assert (video["width"], video["height"]) == (320, 180)
    assert [a["channels"] for a in streams(out, "audio")] == [2]
    total = sum(rows[p].duration or 0 for p in chosen)
    assert abs(float(ffprobe(out)["format"]["duration"]) - total) < 0.3


def test_compile_in_chunks_gives_silence_to_silent_inputs(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(root, "scan", directory="lib")
    monkeypatch.setattr(compilation, "CHUNK_INPUTS", 2)
    outcome = run(root, "compile_mega", count=5, seed=3, **SMALL)
    found = data(outcome)
    assert (found["chunks"], len(found["chosen"])) == (3, 5)  # every valid video, in 3 chunks
    out = outcome.output()
    audio = streams(out, "audio")[0]
    assert (audio["sample_rate"], audio["channels"]) == ("48000", 2)
    assert abs(float(ffprobe(out)["format"]["duration"]) - 8) < 0.4  # 1+3+1+1+2 s


def test_compile_with_nothing_matching_says_so(root: Path) -> None:
    run(root, "scan", directory="lib")
    outcome = run(root, "compile_random", orientation="square", **SMALL)
    assert outcome.code == ExitCode.INVALID
    assert outcome.error == "no video in the library index matches (square): scan first"


def test_compile_refuses_a_file_replaced_since_the_scan(root: Path, clips: Path) -> None:
    run(root, "scan", directory="lib/portrait")
    shutil.copyfile(clips / "disguised.mp4", root / "lib/portrait/vertical.mp4")
    outcome = run(root, "compile_random", orientation="portrait", seed=1, **SMALL)
    assert outcome.code == ExitCode.INVALID
    assert outcome.error.startswith("library video lib/portrait/vertical.mp4: input is an image")


def test_compile_concat_gives_each_silent_input_its_own_silence(root: Path) -> None:
    inputs = ("lib/silent.mkv", "lib/landscape.mp4", "lib/silent.mkv")
    out = run(root, "compile_concat", *inputs, **SMALL).output()
    assert [a["channels"] for a in streams(out, "audio")] == [2]
    assert abs(float(ffprobe(out)["format"]["duration"]) - 5) < 0.3


def test_chunks_are_sized_to_the_memory_budget(root: Path) -> None:
    run(root, "scan", directory="lib")

    def compile_five(limit_mib: int) -> Outcome:
        params = {"count": 5, "seed": 3, **SMALL}
        limit = limit_mib * 1024 * 1024
        task = task_for(root, "compile_mega", params=params, memoryLimitBytes=limit)
        code, message = run_task({"MEDIAJOB_TASK": json.dumps(task)})
        return Outcome(int(code), message, task, root)

    # the budget counts 150 frames of each 320x240 input (16.5 MiB) beside FFmpeg's 64 MiB:
    # 100 MiB holds two inputs' frames (chunks of 2, 2, 1), 72 MiB not even one
    assert data(compile_five(100))["chunks"] == 3
    refused = compile_five(72)
    assert refused.code == ExitCode.INVALID
    assert refused.error.startswith("input too large (320x240): needs about")
