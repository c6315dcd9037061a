"""Path confinement (real directories and symlinks under tmp_path) and URL/address checks."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from mediajobs.worker.download import address_allowed, check_url, url_name, vetted_address
from mediajobs.worker.errors import InvalidInput, TemporaryFailure
from mediajobs.worker.inputs import media_file, relative_path

UNSPECIFIED = str(ipaddress.IPv4Address(0))  # 0.0.0.0


@pytest.fixture
def root(tmp_path: Path) -> Path:
    media = tmp_path / "media"
    (media / "in").mkdir(parents=True)
    (media / "in" / "clip.mp4").write_bytes(b"x")
    (tmp_path / "secret.txt").write_text("outside")
    return media.resolve()


@pytest.mark.parametrize(
    "text", ["", "/etc/passwd", "../secret.txt", "in/../../secret.txt", "a\0b"]
)
def test_relative_path_refuses_escapes(text: str) -> None:
    with pytest.raises(InvalidInput, match="relative inside the media volume"):
        relative_path(text)


def test_media_file_inside_the_root(root: Path) -> None:
    assert media_file(root, "in/clip.mp4") == root / "in" / "clip.mp4"
    assert media_file(root, "./in//clip.mp4") == root / "in" / "clip.mp4"


def test_symlink_inside_the_root_is_followed(root: Path) -> None:
    (root / "alias.mp4").symlink_to(root / "in" / "clip.mp4")
    assert media_file(root, "alias.mp4") == root / "in" / "clip.mp4"


def test_symlinked_file_escaping_the_root_is_refused(root: Path) -> None:
    (root / "in" / "evil.mp4").symlink_to(root.parent / "secret.txt")
    with pytest.raises(InvalidInput, match=r"escapes the media volume: in/evil\.mp4"):
        media_file(root, "in/evil.mp4")


def test_symlinked_directory_escaping_the_root_is_refused(root: Path) -> None:
    (root / "up").symlink_to(root.parent)
    with pytest.raises(InvalidInput, match="escapes the media volume"):
        media_file(root, "up/secret.txt")


@pytest.mark.parametrize(
    ("text", "message"),
    [("in/missing.mp4", "input not found: in/missing.mp4"), ("in", "input is not a file: in")],
)
def test_missing_or_not_a_file(root: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        media_file(root, text)


def test_symlink_loop_is_refused(root: Path) -> None:
    (root / "loop").symlink_to(root / "loop")
    with pytest.raises(InvalidInput):
        media_file(root, "loop")


# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https URLs are allowed, not file:"),
        ("ftp://example.com/a.mp4", "not ftp:"),
        ("gopher://x/", "not gopher:"),
        ("/relative/only", "not none:"),
        ("http:///nohost", "URL has no host"),
        ("http://example.com:99999/x", "malformed URL"),
    ],
)
def test_check_url_refuses(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_url(url)


def test_check_url_accepts_http_and_https() -> None:
    assert check_url("HTTPS://Example.com/a.mp4?x=1").hostname == "example.com"
    assert check_url("http://127.0.0.1:8000/").port == 8000


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        (UNSPECIFIED, False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:8.8.8.8", True),
    ],
)
def test_address_allowed(address: str, public: bool) -> None:
    assert address_allowed(address, allow_private=False) is public


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", True), ("10.0.0.1", True), (UNSPECIFIED, False), ("ff02::1", False)],
)
def test_private_addresses_when_allowed(address: str, allowed: bool) -> None:
    assert address_allowed(address, allow_private=True) is allowed


def test_every_resolved_address_must_be_allowed() -> None:
    assert vetted_address("cdn", ["8.8.8.8", "1.1.1.1"], allow_private=False) == "8.8.8.8"
    with pytest.raises(
        InvalidInput, match=r"cdn resolves to a private or local address \(10\.0\.0\.5\)"
    ):
        vetted_address("cdn", ["8.8.8.8", "10.0.0.5"], allow_private=False)
    with pytest.raises(TemporaryFailure, match="has no address"):
        vetted_address("cdn", [], allow_private=False)


def test_url_name() -> None:
    assert url_name("https://x.com/a/My%20Clip.mp4?sig=secret") == "My Clip.mp4"
    assert url_name("https://x.com/") == ""
