"""The library's pure parts (the choice, the scan's diff, the index text) and its lock."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from mediajobs.api.common import Category
from mediajobs.catalog import entry, parse_params
from mediajobs.catalog.library_params import Orientation
from mediajobs.worker.errors import InvalidInput, TemporaryFailure
from mediajobs.worker.library import compilation, index
from mediajobs.worker.library.choose import Criteria, choose
from mediajobs.worker.library.diff import merge
from mediajobs.worker.library.index import Row, Rows, parse, read_rows, render, update
from mediajobs.worker.library.listing import table

LAND, PORT = Orientation.LANDSCAPE, Orientation.PORTRAIT


def row(path: str, duration: float = 10, orientation: Orientation = LAND, **more: object) -> Row:
    fields: dict[str, object] = {"size": 100, "mtime_ns": 1, "valid": True}
    fields |= {"duration": duration, "orientation": orientation, "width": 320, "height": 240}
    return Row.model_validate({"path": path, **fields, **more})


LIBRARY = [
    row("lib/a.mp4", 5),
    row("lib/b.mp4", 30),
    row("lib/c.mp4", 60),
    row("lib/sub/d.mp4", 90),
    row("lib/e.mp4", 45, PORT),
    row("other/f.mp4", 40),
    row("lib/bad.mp4", 40, valid=False, reason="input is a text file"),
    row("libx/g.mp4", 40),
]


@pytest.mark.parametrize(
    ("operation", "category", "vram"),
    [
        ("scan", Category.CPU, 0),
        ("public_scan", Category.CPU, 0),
        ("move_to_library", Category.CPU, 0),
        ("compile_random", Category.GPU_ENCODE, 2000),
        ("compile_mega", Category.GPU_ENCODE, 6000),
    ],
)
def test_reference_categories_and_vram(operation: str, category: Category, vram: int) -> None:
    assert (entry(operation).category, entry(operation).vram_mib) == (category, vram)


def test_compilation_params_refuse_what_cannot_be_met() -> None:
    with pytest.raises(ValueError, match="minDuration is above maxDuration"):
        parse_params("compile_random", {"minDuration": 10, "maxDuration": 5})
    with pytest.raises(ValueError, match="use compile_mega"):
        parse_params("compile_random", {"count": 65})
    assert parse_params("compile_mega", {"count": 1000}).wire()["count"] == 1000


def test_choose_takes_only_matching_videos() -> None:
    criteria = Criteria(min_duration=20, max_duration=60, orientation=LAND, directory="lib")
    for seed in range(20):
        chosen = {r.path for r in choose(LIBRARY, criteria, 2, seed)}
        assert len(chosen) == 2
        assert chosen <= {"lib/b.mp4", "lib/c.mp4"}  # not libx/, not invalid, not portrait


def test_choose_is_reproducible_and_independent_of_row_order() -> None:
    criteria = Criteria()
    first = choose(LIBRARY, criteria, 4, seed=42)
    assert choose(list(reversed(LIBRARY)), criteria, 4, seed=42) == first
    assert any(choose(LIBRARY, criteria, 4, seed=s) != first for s in range(1, 10))


def test_choose_takes_all_when_fewer_match() -> None:
    chosen = choose(LIBRARY, Criteria(orientation=PORT), 10, seed=1)
    assert [r.path for r in chosen] == ["lib/e.mp4"]


def _rows(*rows: Row) -> Rows:
    return {r.path: r for r in rows}


def test_merge_counts_new_changed_removed_in_the_scanned_directory_only() -> None:
    current = _rows(row("lib/a.mp4"), row("lib/b.mp4"), row("lib/gone.mp4"), row("other/x.mp4"))
    seen = [
        row("lib/a.mp4"),
        row("lib/b.mp4", mtime_ns=2),
        row("lib/new.mp4"),
        row("lib/bad.mp4", valid=False, reason="r"),
    ]
    rows, counts = merge(current, "lib", seen)
    assert sorted(rows) == ["lib/a.mp4", "lib/b.mp4", "lib/bad.mp4", "lib/new.mp4", "other/x.mp4"]
    assert rows["lib/b.mp4"].mtime_ns == 2
    assert counts.data() == {"files": 4, "new": 2, "changed": 1, "removed": 1, "invalid": 1}


def test_merge_of_the_whole_volume_removes_everything_unseen() -> None:
    rows, counts = merge(_rows(row("a.mp4"), row("d/b.mp4")), "", [row("a.mp4")])
    assert list(rows) == ["a.mp4"] and counts.removed == 1


def test_index_text_round_trips_and_names_damage() -> None:
    rows = _rows(*LIBRARY)
    text = render(rows)
    assert text.splitlines()[0] == '{"mediajobsLibrary": 1}'
    assert parse(text, "idx") == rows
    lines = text.splitlines()
    lines[2] = lines[2].replace('"size":100', '"size":"big"')
    with pytest.raises(InvalidInput, match="idx line 3 is damaged"):
        parse("\n".join(lines), "idx")
    with pytest.raises(InvalidInput, match="not a mediajobs library index"):
        parse("hello\n", "idx")


def test_table_lists_the_rows_under_a_directory() -> None:
    lines = table(_rows(*LIBRARY), "lib")
    assert lines[0].split() == ["PATH", "DURATION", "SIZE", "ORIENTATION", "CODECS", "STATUS"]
    assert len(lines) == 2 + 6  # header, six rows under lib/ (not libx/, not other/), count
    assert any("lib/bad.mp4" in line and "INVALID: input is a text file" in line for line in lines)
    assert lines[-1] == "6 files, 1 invalid"


def _add(new: Row) -> object:
    def change(rows: Rows) -> tuple[Rows, int]:
        return rows | {new.path: new}, len(rows)

    return change


def test_update_replaces_the_index_and_leaves_no_temporary(tmp_path: Path) -> None:
    assert update(tmp_path, _add(row("a.mp4"))) == 0
    assert update(tmp_path, _add(row("b.mp4"))) == 1
    assert sorted(read_rows(tmp_path)) == ["a.mp4", "b.mp4"]
    assert sorted(p.name for p in (tmp_path / ".mediajobs").iterdir()) == ["library.jsonl"]


def _plant_lock(tmp_path: Path, age_s: float) -> Path:
    directory = tmp_path / ".mediajobs"
    directory.mkdir(exist_ok=True)
    lock = directory / "library.lock"
    lock.write_text("deadhost 1 abc\n")
    then = time.time() - age_s
    os.utime(lock, (then, then))
    return lock


def test_a_dead_writers_lock_and_temporary_are_cleared(tmp_path: Path) -> None:
    lock = _plant_lock(tmp_path, index.STALE_S + 5)
    leftover = lock.with_name("library.jsonl.tmp-dead")
    leftover.write_text("half a fi")
    then = time.time() - index.STALE_S - 5
    os.utime(leftover, (then, then))
    update(tmp_path, _add(row("a.mp4")))
    assert list(read_rows(tmp_path)) == ["a.mp4"]
    assert sorted(p.name for p in lock.parent.iterdir()) == ["library.jsonl"]


def test_a_live_lock_is_waited_for_then_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = _plant_lock(tmp_path, 0)
    monkeypatch.setattr(index, "WAIT_S", 0.3)
    with pytest.raises(TemporaryFailure, match="locked for 0 s \\(by deadhost 1 abc\\)"):
        update(tmp_path, _add(row("a.mp4")))
    assert lock.read_text() == "deadhost 1 abc\n"  # not broken: it is fresh
    assert read_rows(tmp_path) == {}


def test_a_writer_whose_lock_was_taken_over_does_not_replace_the_index(tmp_path: Path) -> None:
    update(tmp_path, _add(row("a.mp4")))

    def steal(rows: Rows) -> tuple[Rows, None]:
        (tmp_path / ".mediajobs" / "library.lock").write_text("another writer\n")
        return rows | {"b.mp4": row("b.mp4")}, None

    with pytest.raises(TemporaryFailure, match="taken over"):
        update(tmp_path, steal)
    assert list(read_rows(tmp_path)) == ["a.mp4"]


def test_chunks_keep_order_and_stop_at_the_cap_or_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(compilation, "CHUNK_INPUTS", 4)
    items: list[Any] = list(range(10))
    assert compilation.chunks(items, lambda c: True) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert compilation.chunks(items, lambda c: sum(c) <= 9) == [
        [0, 1, 2, 3], [4, 5], [6], [7], [8], [9]
    ]  # fmt: skip
    assert compilation.chunks([], lambda c: True) == []
