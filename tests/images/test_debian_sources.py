"""The base image's mirror and suites come from this machine's apt sources, both formats."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.localcluster import load_hack

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://mirror.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def sources_dir(tmp_path: Path, one_line: str = "", deb822: str = "") -> Path:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(one_line)
    if deb822:
        (tmp_path / "sources.list.d" / "debian.sources").write_text(deb822)
    # Other vendors' suites never reach the base.
    (tmp_path / "sources.list.d" / "vendor.list").write_text(
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
    )
    return tmp_path


def test_deb822_stanzas_give_each_binary_suite_with_main(tmp_path: Path) -> None:
    base = load_hack("debian_base")
    assert base.debian_sources(sources_dir(tmp_path, deb822=DEB822)) == [
        ("http://mirror.example/debian", "bookworm"),
        ("http://mirror.example/debian", "bookworm-updates"),
        ("http://mirror.example/debian-security", "bookworm-security"),
    ]


def test_one_line_sources_with_options_and_comments(tmp_path: Path) -> None:
    base = load_hack("debian_base")
    one_line = (
        "# deb http://old.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main\n"
        "deb http://mirror.example/debian bookworm-backports contrib\n"
        "deb http://security.example/debian-security bookworm-security main  # fixes\n"
    )
    assert base.debian_sources(sources_dir(tmp_path, one_line=one_line)) == [
        ("http://mirror.example/debian", "bookworm"),
        ("http://security.example/debian-security", "bookworm-security"),
    ]


def test_no_bookworm_main_is_an_error_that_says_where_it_looked(tmp_path: Path) -> None:
    base = load_hack("debian_base")
    with pytest.raises(RuntimeError, match="no `bookworm main` source in"):
        base.debian_sources(sources_dir(tmp_path, one_line="deb http://x/debian trixie main\n"))
