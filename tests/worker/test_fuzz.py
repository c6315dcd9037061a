"""Mutated media through the real worker: every run ends invalid (2) or well (0), nothing else.

A few hundred files made from small real seeds (flipped bits, truncations,
another format's header, zeroed runs), each through validate and one
transcode. None may end in 75 (a retry would run the same bytes again), crash,
hang, or write anywhere but its own output prefix.
"""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mediajobs.worker.main import run_task
from tests.worker.conftest import ffmpeg_write, task_for

MUTANTS = 160
SEED = 20261129
RUN_BOUND_S = 60.0  # a hang guard, far above the longest run seen (~2 s)

SEEDS = {
    "seed.mp4": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
                 "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-preset", "ultrafast",
                 "-c:a", "aac", "-movflags", "+faststart"],
    "seed.webm": ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=1",
                  "-c:v", "libvpx", "-b:v", "100k"],
    "seed.png": ["-f", "lavfi", "-i", "testsrc=size=32x24", "-frames:v", "1"],
    "seed.jpg": ["-f", "lavfi", "-i", "testsrc=size=32x24", "-frames:v", "1"],
}  # fmt: skip
TRANSCODE = {
    ".mp4": ("reencode_streaming", {"preset": "ultrafast"}),
    ".webm": ("reencode_streaming", {"preset": "ultrafast"}),
    ".png": ("resize_image", {"width": 16}),
    ".jpg": ("resize_image", {"width": 16}),
}


def mutate(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    out = bytearray(data)
    how = rng.choice(["flip", "truncate", "header", "zero"])
    if how == "flip":
        for _ in range(rng.randint(1, 20)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    elif how == "truncate":
        del out[rng.randrange(1, len(out)) :]
    elif how == "header":
        size = rng.randrange(8, 200)
        out[:size] = rng.choice(others)[:size]
    else:
        at, size = rng.randrange(len(out)), rng.randrange(1, 500)
        out[at : at + size] = bytes(len(out[at : at + size]))
    return bytes(out)


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    root = tmp_path_factory.mktemp("fuzz").resolve()
    (root / "in").mkdir()
    seeds = {}
    for name, args in SEEDS.items():
        path = root / name
        ffmpeg_write(path, args)
        seeds[name] = path.read_bytes()
        path.unlink()
    rng = random.Random(SEED)
    names = []
    for number in range(MUTANTS):
        seed = rng.choice(sorted(seeds))
        name = f"in/m{number:03d}{Path(seed).suffix}"
        (root / name).write_bytes(mutate(rng, seeds[seed], list(seeds.values())))
        names.append(name)
    return root, names


def test_mutated_media_end_in_0_or_2_and_write_only_their_outputs(
    mutants: tuple[Path, list[str]],
) -> None:
    root, names = mutants
    before = files_under(root)
    jobs = []
    for name in names:
        operation, params = TRANSCODE[Path(name).suffix]
        jobs += [task_for(root, "validate", name), task_for(root, operation, name, params=params)]

    def run(task: dict[str, object]) -> tuple[dict[str, object], int, str, float]:
        started = time.monotonic()
        code, message = run_task({"MEDIAJOB_TASK": json.dumps(task)})
        outputs = [o.path for o in message.result.outputs] if message.result else []
        return task, int(code), json.dumps(outputs), time.monotonic() - started

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, jobs))

    codes = sorted({code for _, code, _, _ in results})
    assert set(codes) <= {0, 2}, [(t["inputs"], c) for t, c, _, _ in results if c not in (0, 2)]
    assert codes == [0, 2]  # the mutations really produce both kinds
    assert max(seconds for *_, seconds in results) < RUN_BOUND_S
    written = files_under(root) - before
    prefixes = [str(task["output"]["prefix"]) + "/" for task, *_ in results]  # type: ignore[index]
    assert all(any(path.startswith(p) for p in prefixes) for path in written), written
    for task, _, outputs, _ in results:
        prefix = str(task["output"]["prefix"]) + "/"  # type: ignore[index]
        assert all(path.startswith(prefix) for path in json.loads(outputs))
    assert files_under(root) >= before  # nothing of the media library was touched away
