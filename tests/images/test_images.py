"""The container images, built through `make images`' own entry point (hack/images.py).

Each image is run the way the chart runs it: uid 10001, a read-only root filesystem,
a tmpfs on /tmp, no capabilities, no network. Building is skipped when the images in
the private dockerd already carry their inputs' hash (seconds); a first build on a
fresh machine makes the Debian base and takes minutes.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.localcluster import WAIT_SHORT, load_hack, wait_for

pytestmark = [pytest.mark.images, pytest.mark.timeout(1800)]

HARDENED = (
    "--rm", "--read-only", "--user", "10001:10001", "--tmpfs", "/tmp",
    "--network", "none", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
)  # fmt: skip


@pytest.fixture(scope="module")
def built() -> Iterator[dict[str, Any]]:
    hack = load_hack("images")
    d = hack.Dockerd()
    with d:
        first = hack.build_all(d)
        again = hack.build_all(d)
        pids = [int(p.read_text()) for p in (d.pidfile, d.exec_root / "containerd/containerd.pid")]
        yield {"hack": hack, "d": d, "first": first, "again": again}
    # Stopped means stopped: no dockerd, no containerd, none of their mounts, no exec root.
    dockerd = load_hack("dockerd")
    assert [pid for pid in pids if dockerd.alive(pid)] == []
    assert dockerd.mounts_under(d.data, d.exec_root) == []
    assert not d.exec_root.exists()


def tag(built: dict[str, Any], name: str) -> str:
    return str(built["hack"].tag_of(next(i for i in built["hack"].IMAGES if i.name == name)))


def inspect(built: dict[str, Any], image: str, field: str) -> str:
    return str(built["d"].docker("image", "inspect", "--format", field, image).stdout.strip())


def run(built: dict[str, Any], *args: str) -> str:
    return str(built["d"].docker("run", *HARDENED, *args).stdout)


def test_a_second_build_changes_nothing(built: dict[str, Any]) -> None:
    again = built["again"]
    assert again.base == built["first"].base
    assert not again.base_made
    assert [(o.built, o.exported) for o in again.images] == [(False, False)] * len(
        built["hack"].IMAGES
    )


def test_each_tarball_holds_its_image_under_its_full_name(built: dict[str, Any]) -> None:
    hack = built["hack"]
    for image in hack.IMAGES:
        tar = hack.tarball_of(image)
        stamp = tar.with_name(tar.name + ".id").read_text().strip()
        assert stamp == inspect(built, tag(built, image.name), "{{.Id}}")
        with tarfile.open(tar) as archive:
            manifest = archive.extractfile("manifest.json")
            assert manifest is not None
            tags = json.load(manifest)[0]["RepoTags"]
        # docker writes the short form; containerd's import expands it to docker.io/local/...
        assert tags == [hack.tag_of(image).removeprefix("docker.io/")]


def test_containerd_imports_a_tarball_under_the_full_name(built: dict[str, Any]) -> None:
    """As the node will: Debian's containerd (here dockerd's own) and `ctr images import`."""
    hack, d = built["hack"], built["d"]
    redis = next(i for i in hack.IMAGES if i.name == "mediajobs-redis")
    ctr = ["ctr", "--address", str(d.exec_root / "containerd/containerd.sock"), "-n", "mj-test"]
    try:
        subprocess.run([*ctr, "images", "import", str(hack.tarball_of(redis))], check=True)
        listed = subprocess.run([*ctr, "images", "ls", "-q"], check=True, capture_output=True)
        assert listed.stdout.decode().split() == [hack.tag_of(redis)]
    finally:
        subprocess.run([*ctr, "images", "rm", hack.tag_of(redis)], check=False)
        subprocess.run([*ctr[:-2], "namespaces", "rm", "mj-test"], check=False)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mediajobs-operator", "mediajobs 0.1.0"),
        ("mediajobs-ffmpeg-worker", "mediajobs 0.1.0"),
        ("mediajobs-scraper", "mediajobs 0.1.0"),
        ("mediajobs-redis", "Redis server v=7."),
    ],
)
def test_each_image_answers_version_as_uid_10001_read_only(
    built: dict[str, Any], name: str, expected: str
) -> None:
    image = tag(built, name)
    assert inspect(built, image, "{{.Config.User}}") == "10001:10001"
    assert run(built, image, "--version").startswith(expected)


def test_the_operator_image_imports_the_operator_and_has_no_pip(built: dict[str, Any]) -> None:
    image = tag(built, "mediajobs-operator")
    out = run(
        built, "--entrypoint", "python", image, "-c",
        "import importlib.util, mediajobs.controller.operator, mediajobs.kube.login, kopf;"
        "print('pip' if importlib.util.find_spec('pip') else 'no pip')",
    )  # fmt: skip
    assert out.strip() == "no pip"  # installing happened in the venv image, not here


def test_the_worker_image_encodes_with_ffmpeg_and_trusts_public_cas(built: dict[str, Any]) -> None:
    image = tag(built, "mediajobs-ffmpeg-worker")
    assert run(built, "--entrypoint", "ffmpeg", image, "-version").startswith("ffmpeg version")
    # A real encode with drawtext (the font cache, fontconfig's HOME), written to /tmp.
    run(
        built, "--entrypoint", "ffmpeg", image, "-nostdin", "-v", "error",
        "-f", "lavfi", "-i", "testsrc2=d=1:s=320x240,drawtext=text=mediajobs",
        "-c:v", "libx264", "/tmp/out.mp4",
    )  # fmt: skip
    out = run(
        built, "--entrypoint", "python", image, "-c",
        "import ssl, mediajobs.worker.start, numpy;"
        "print(ssl.create_default_context().cert_store_stats()['x509_ca'] > 100)",
    )  # fmt: skip
    assert out.strip() == "True"


def test_the_worker_image_loads_auto_reframes_face_detector(built: dict[str, Any]) -> None:
    """OpenCV's bundled cascade loads on a read-only root (no model download, no libGL)."""
    image = tag(built, "mediajobs-ffmpeg-worker")
    out = run(
        built, "--entrypoint", "python", image, "-c",
        "import cv2; from mediajobs.worker.reframe.faces import CASCADE;"
        "print(not cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE).empty())",
    )  # fmt: skip
    assert out.strip() == "True"


def test_the_scraper_image_runs_javascript_in_its_chromium(built: dict[str, Any]) -> None:
    """Playwright drives the image's own /usr/bin/chromium with the scraper's flags, on a
    read-only root with no network; no FFmpeg bindings are in the image."""
    image = tag(built, "mediajobs-scraper")
    script = (
        "import importlib.util, mediajobs.scraper.main, mediajobs.scraper.http_adapter\n"
        "from mediajobs.scraper.browser import CHROMIUM, FLAGS\n"
        "from playwright.sync_api import sync_playwright\n"
        "with sync_playwright() as p:\n"
        "    b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)\n"
        "    page = b.new_page()\n"
        "    page.set_content('<p id=x></p><script>x.textContent = 6 * 7</script>')\n"
        "    print(page.text_content('#x'), importlib.util.find_spec('ffmpeg') is None)\n"
        "    b.close()\n"
    )
    out = run(built, "--entrypoint", "python", image, "-c", script)
    assert out.strip() == "42 True"


def test_the_redis_image_serves_on_a_read_only_root(built: dict[str, Any]) -> None:
    d = built["d"]
    hardened = [a for a in HARDENED if a != "--rm"]
    cid = d.docker("run", "--detach", *hardened, tag(built, "mediajobs-redis")).stdout.strip()
    try:

        def pong() -> bool:
            done = d.docker("exec", cid, "redis-cli", "ping", check=False)
            return done.stdout.strip() == "PONG"

        wait_for("redis-server in the image to answer PING", pong, timeout=WAIT_SHORT)
    finally:
        d.docker("rm", "--force", cid)
