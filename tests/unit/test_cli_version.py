"""`mediajobs --version`: what each image answers (tests/images runs it there)."""

from __future__ import annotations

import tomllib

import pytest

from mediajobs.cli import main
from tests.localcluster import REPO


def test_version_prints_the_version_in_pyproject(capsys: pytest.CaptureFixture[str]) -> None:
    with (REPO / "pyproject.toml").open("rb") as f:
        expected = tomllib.load(f)["project"]["version"]
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"mediajobs {expected}\n"
