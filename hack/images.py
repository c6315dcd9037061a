#!/usr/bin/env python3
"""Builds the container images locally (no registry is reachable) and saves them as tarballs.

    python3 hack/images.py          # `make images`: base (once), five images, tarballs

Images, tagged with the package version from pyproject.toml:
    docker.io/local/mediajobs-operator:<version>       images/operator
    docker.io/local/mediajobs-ffmpeg-worker:<version>  images/ffmpeg-worker
    docker.io/local/mediajobs-scraper:<version>        images/scraper
    docker.io/local/mediajobs-redis:<version>          images/redis
    docker.io/local/mediajobs-pause:<version>          images/pause (the pod sandbox)
all FROM docker.io/local/debian-base:bookworm-<hash>: `debootstrap --variant=minbase`
from this machine's own Debian mirror, upgraded from the same suites it lists
(security included), with images/base/rootfs laid over it and user 10001
(`mediajobs`), piped to `docker import`. The base is made only when that tag is
missing; its hash covers images/base and the apt sources it was made from.

An image is rebuilt only when its inputs changed: their hash (Dockerfile folder,
base image id, and for the Python images images/python-venv, pyproject.toml,
uv.lock, README.md and operator/mediajobs) is the image's `dev.mediajobs.inputs`
label. The Python images copy /opt/mediajobs from a venv image built on the same
base (docker.io/local/mediajobs-venv:<extra>, never saved) that installs exactly
uv.lock's wheels (`uv export`, hashes required) plus this repository's wheel. Each image is saved to
$XDG_CACHE_HOME/mediajobs/images/<name>-<version>.tar, rewritten only when the
image id changed (its id is kept next to it), for a node's containerd to import.

dockerd runs only while this does (hack/dockerd.py) and is stopped at the end.
Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import signal
import ssl
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cluster import read_versions
from debian_base import SUITE, debian_sources, make_rootfs
from dockerd import Dockerd, cache_root, log, remove_tree

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REGISTRY = "docker.io/local"
BASE_REPO = f"{REGISTRY}/debian-base"
UID = 10001
INPUTS_LABEL = "dev.mediajobs.inputs"
VENV_FOLDER = "python-venv"  # the Python images' /opt/mediajobs, built once per extra
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # Debian's, when Python names no file


@dataclass(frozen=True)
class Image:
    name: str
    folder: str  # under images/: the Dockerfile and anything it copies
    extra: str | None = None  # the pyproject extra whose locked wheels it installs


IMAGES = (
    Image("mediajobs-operator", "operator", extra="operator"),
    Image("mediajobs-ffmpeg-worker", "ffmpeg-worker", extra="worker"),
    Image("mediajobs-scraper", "scraper", extra="scraper"),
    Image("mediajobs-redis", "redis"),
    Image("mediajobs-pause", "pause"),  # the real node's pod sandbox (hack/node.py)
)


@dataclass
class Outcome:
    tag: str
    built: bool
    exported: bool
    size: int
    seconds: float


@dataclass
class Report:
    base: str
    base_made: bool
    images: list[Outcome] = field(default_factory=list)


def package_version() -> str:
    with (REPO / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def tag_of(image: Image) -> str:
    return f"{REGISTRY}/{image.name}:{package_version()}"


def images_dir() -> Path:
    return cache_root() / "images"


def tarball_of(image: Image) -> Path:
    return images_dir() / f"{image.name}-{package_version()}.tar"


# ---- inputs and their hash ------------------------------------------------------------


def hash_files(digest: hashlib._Hash, paths: list[Path]) -> None:
    for path in sorted(paths):
        digest.update(str(path.relative_to(REPO)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")


def files_under(folder: Path) -> list[Path]:
    return [
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]


def base_tag(sources: list[tuple[str, str]]) -> str:
    digest = hashlib.sha256(f"{SUITE} minbase uid={UID}\n{sources!r}\n".encode())
    hash_files(digest, files_under(REPO / "images" / "base"))
    return f"{BASE_REPO}:{SUITE}-{digest.hexdigest()[:12]}"


def inputs_hash(image: Image, base_id: str) -> str:
    digest = hashlib.sha256(f"{base_id}\n{image.extra}\n".encode())
    files = files_under(REPO / "images" / image.folder)
    if image.extra:
        files += files_under(REPO / "images" / VENV_FOLDER)
        files += [REPO / "pyproject.toml", REPO / "uv.lock", REPO / "README.md"]
        files += files_under(REPO / "operator" / "mediajobs")
    hash_files(digest, files)
    return digest.hexdigest()


# ---- the base image ---------------------------------------------------------------------


def make_base(d: Dockerd, tag: str, sources: list[tuple[str, str]]) -> None:
    rootfs = images_dir() / "base-rootfs"
    try:
        make_rootfs(rootfs, sources, REPO / "images" / "base" / "rootfs", "mediajobs", UID)
        log(f"docker import {tag}")
        tar = subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
        )
        d.docker("import", "--message", f"debootstrap --variant=minbase {SUITE}", "-", tag,
                 stdin=tar.stdout)  # fmt: skip
        if tar.wait() != 0:
            raise RuntimeError("tar of the base rootfs failed")
    finally:
        remove_tree(rootfs)


def ensure_base(d: Dockerd) -> tuple[str, bool]:
    sources = debian_sources()
    tag = base_tag(sources)
    if image_id(d, tag) is not None:
        return tag, False
    make_base(d, tag, sources)
    return tag, True


# ---- the images ---------------------------------------------------------------------------


def image_id(d: Dockerd, tag: str) -> str | None:
    try:
        return d.docker("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    except RuntimeError:
        return None


def built_id(d: Dockerd, tag: str) -> str:
    found = image_id(d, tag)
    if found is None:
        raise RuntimeError(f"{tag} is missing right after its build")
    return found


def label_of(d: Dockerd, tag: str) -> str | None:
    fmt = f'{{{{index .Config.Labels "{INPUTS_LABEL}"}}}}'
    try:
        return d.docker("image", "inspect", "--format", fmt, tag).stdout.strip()
    except RuntimeError:
        return None


def uv() -> str:
    """uv as hack/install-deps.sh installs it (the version pinned in hack/versions.env)."""
    path = cache_root() / "tools" / f"uv-{read_versions()['UV_VERSION']}" / "bin" / "uv"
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `make deps` first")
    return str(path)


def venv_tag(extra: str) -> str:
    return f"{REGISTRY}/mediajobs-venv:{extra}"


def make_venv_context(extra: str, into: Path) -> None:
    """images/python-venv, uv.lock's requirements for EXTRA (with hashes), our wheel."""
    remove_tree(into)
    shutil.copytree(REPO / "images" / VENV_FOLDER, into)
    requirements = into / "requirements.txt"
    subprocess.run(
        [uv(), "export", "--frozen", "--no-dev", "--extra", extra, "--no-emit-project",
         "--format", "requirements.txt", "--no-header", "--quiet",
         "--output-file", str(requirements)],
        cwd=REPO, check=True,
    )  # fmt: skip
    # The build fetches them from PyPI trusting what this machine trusts.
    shutil.copyfile(ssl.get_default_verify_paths().cafile or CA_BUNDLE, into / "host-ca.crt")
    subprocess.run(
        [uv(), "build", "--wheel", "--quiet", "--out-dir", str(into), "--python", "python3"],
        cwd=REPO, check=True,
    )  # fmt: skip


def docker_build(
    d: Dockerd, tag: str, context: Path, args: dict[str, str], labels: dict[str, str]
) -> None:
    previous = image_id(d, tag)
    buildlog = images_dir() / f"build-{tag.rsplit('/', 1)[-1].replace(':', '-')}.log"
    log(f"building {tag} (log: {buildlog})")
    argv = ["/usr/bin/docker", "build", "--network", "host", "--force-rm", "--tag", tag]
    argv += [f"--build-arg={k}={v}" for k, v in args.items()]
    argv += [f"--label={k}={v}" for k, v in labels.items()]
    with buildlog.open("w") as out:
        done = subprocess.run(
            [*argv, str(context)], env=d.env(), stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode != 0:
        tail = buildlog.read_text(errors="replace").splitlines()[-20:]
        raise RuntimeError(f"docker build {tag} failed:\n" + "\n".join(tail))
    # The previous build of this tag, now untagged, with the layers only it used. Not
    # `image prune`: that would drop the cached layers that spare a code change the apt
    # and pip downloads.
    if previous is not None and previous != image_id(d, tag):
        d.docker("rmi", previous, check=False)


def build(d: Dockerd, image: Image, base: str, inputs: str) -> None:
    args = {"BASE": base}
    if image.extra is not None:
        # The venv, built on the same base: the image copies /opt/mediajobs from it.
        context = images_dir() / f"context-venv-{image.extra}"
        try:
            make_venv_context(image.extra, context)
            docker_build(d, venv_tag(image.extra), context, args, {})
        finally:
            remove_tree(context)
        args["VENV"] = venv_tag(image.extra)
    labels = {INPUTS_LABEL: inputs, "org.opencontainers.image.version": package_version()}
    docker_build(d, tag_of(image), REPO / "images" / image.folder, args, labels)


def export(d: Dockerd, image: Image, image_id_now: str) -> bool:
    """`docker save` the image unless the tarball already holds this image id."""
    tar = tarball_of(image)
    stamp = tar.with_name(tar.name + ".id")
    if tar.exists() and stamp.exists() and stamp.read_text().strip() == image_id_now:
        return False
    log(f"docker save {tag_of(image)} -> {tar}")
    partial = tar.with_name(tar.name + ".partial")
    d.docker("save", "--output", str(partial), tag_of(image))
    partial.replace(tar)
    stamp.write_text(image_id_now + "\n")
    return True


def build_all(d: Dockerd) -> Report:
    images_dir().mkdir(parents=True, exist_ok=True)
    base, base_made = ensure_base(d)
    base_id = built_id(d, base)
    report = Report(base, base_made)
    for image in IMAGES:
        started = time.monotonic()
        inputs = inputs_hash(image, base_id)
        tag = tag_of(image)
        built = label_of(d, tag) != inputs
        if built:
            build(d, image, base, inputs)
        exported = export(d, image, built_id(d, tag))
        size = int(d.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)
        report.images.append(Outcome(tag, built, exported, size, time.monotonic() - started))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.parse_args(argv)
    # TERM (a CI timeout, say) unwinds like Ctrl-C, so dockerd is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    with Dockerd() as d:
        report = build_all(d)
    print(f"base {report.base}{' (made now)' if report.base_made else ''}")
    for o in report.images:
        what = "built" if o.built else "unchanged"
        saved = f", saved to {images_dir()}" if o.exported else ""
        print(f"{o.tag}: {what}{saved}, {o.size / 1e6:.0f} MB, {o.seconds:.1f} s")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
