"""Output placement, confinement and the write-then-rename staging (real files under tmp_path)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from mediajobs.api.mediajob import OutputRef
from mediajobs.worker.errors import InvalidInput
from mediajobs.worker.outputs import final_path, output_relpath, safe_stem, staged


@pytest.mark.parametrize(
    ("output", "rel"),
    [
        (OutputRef(path="play/intro.mp4"), "play/intro.mp4"),
        (OutputRef(prefix="thumbs/2024"), "thumbs/2024/clip.jpg"),
        (OutputRef(), "mediajobs/team-a/job-1/clip.jpg"),
    ],
)
def test_output_relpath(output: OutputRef, rel: str) -> None:
    assert output_relpath(output, "team-a", "job-1", "clip.jpg") == PurePosixPath(rel)


def test_output_relpath_refuses_escapes() -> None:
    with pytest.raises(InvalidInput):
        output_relpath(OutputRef.model_construct(path="../x.mp4"), "ns", "n", "x.mp4")


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("in/My Clip (1).mp4", "My_Clip_1"),
        ("../../etc/passwd", "passwd"),
        (".hidden.mp4", "hidden"),
        ("???.mp4", "fallback"),
        ("in/Été à Zürich.mp4", "Ete_a_Zurich"),
        ("in/東京.mov", "DongJing"),
        ("in/Привет, мир.mkv", "Privet_mir"),
        ("in/emoji 🎬 cut.mp4", "emoji_clapper_cut"),
    ],
)
def test_safe_stem(name: str, stem: str) -> None:
    assert safe_stem(name, "fallback") == stem


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "media").mkdir()
    return (tmp_path / "media").resolve()


def test_final_path_creates_the_directories(root: Path) -> None:
    assert final_path(root, PurePosixPath("a/b/c.mp4")) == root / "a" / "b" / "c.mp4"
    assert (root / "a" / "b").is_dir()


def test_final_path_never_follows_a_link_out_of_the_root(root: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (root / "out").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InvalidInput, match="escapes the media volume"):
        final_path(root, PurePosixPath("out/deeper/c.mp4"))
    assert not (tmp_path / "elsewhere" / "deeper").exists()


def test_final_path_refuses_a_file_as_directory_and_a_directory_as_file(root: Path) -> None:
    (root / "f").write_text("x")
    with pytest.raises(InvalidInput, match="is a file"):
        final_path(root, PurePosixPath("f/c.mp4"))
    (root / "d.mp4").mkdir()
    with pytest.raises(InvalidInput, match="is a directory"):
        final_path(root, PurePosixPath("d.mp4"))


def test_staged_output_appears_only_on_commit(root: Path) -> None:
    final = root / "clip.mp4"
    with staged(final) as stage:
        assert stage.temp.parent == root and stage.temp.suffix == ".mp4"
        assert stage.temp.name.startswith(".clip.partial-")
        stage.temp.write_bytes(b"data")
        assert not final.exists()
        stage.commit()
    assert final.read_bytes() == b"data"
    assert [p.name for p in root.iterdir()] == ["clip.mp4"]


def test_staged_output_is_removed_when_the_work_fails(root: Path) -> None:
    final = root / "clip.mp4"
    with pytest.raises(RuntimeError), staged(final) as stage:
        stage.temp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert list(root.iterdir()) == []


def test_leftovers_of_a_killed_attempt_are_removed(root: Path) -> None:
    (root / ".clip.partial-deadbeef.mp4").write_bytes(b"old")
    (root / ".other.partial-1.mp4").write_bytes(b"not ours")
    with staged(root / "clip.mp4"):
        pass
    assert sorted(p.name for p in root.iterdir()) == [".other.partial-1.mp4"]


def test_final_path_refuses_a_dangling_link(root: Path) -> None:
    (root / "gone").symlink_to(root / "nowhere")
    with pytest.raises(InvalidInput, match="unusable"):
        final_path(root, PurePosixPath("gone/c.mp4"))
