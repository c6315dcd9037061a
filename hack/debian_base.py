"""A minimal Debian root filesystem for the images' base, made from this machine's apt sources.

`debootstrap --variant=minbase` from the machine's own Debian mirror, upgraded from
the same suites it lists (security included), an overlay of files laid over it,
a user for the images, and nothing the build host should not leak (its resolv.conf,
hosts, hostname) or an image does not need (docs, manual pages, apt lists).
hack/images.py imports the result as the base image.

Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from dockerd import log, remove_tree

SUITE = "bookworm"
APT_SOURCES = Path("/etc/apt")


def debian_sources(root: Path = APT_SOURCES) -> list[tuple[str, str]]:
    """(mirror URI, suite) pairs for SUITE and SUITE-* with `main` in the apt sources.

    Both formats: one-line `deb URI SUITE COMPONENTS` and deb822 `.sources` stanzas.
    """
    pairs: list[tuple[str, str]] = []
    lists = [root / "sources.list", *sorted((root / "sources.list.d").glob("*.list"))]
    for path in (p for p in lists if p.exists()):
        for line in path.read_text().splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            if len(words) >= 4 and words[0] == "deb" and "main" in words[3:]:
                pairs.append((words[1], words[2]))
    for path in sorted((root / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", path.read_text()):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line and not line.startswith("#") and ":" in line:
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
            components = fields.get("components", "").split()
            if "deb" in fields.get("types", "").split() and "main" in components:
                pairs += [(u, s) for u in fields["uris"].split() for s in fields["suites"].split()]
    found = [(u.rstrip("/"), s) for u, s in pairs if s == SUITE or s.startswith(f"{SUITE}-")]
    if not any(s == SUITE for _, s in found):
        raise RuntimeError(f"no `{SUITE} main` source in {root}/sources.list*")
    return list(dict.fromkeys(found))


def make_rootfs(
    rootfs: Path, sources: list[tuple[str, str]], overlay: Path, user: str, uid: int
) -> None:
    """Bootstrap ROOTFS (emptied first) from SOURCES, OVERLAY laid over it, USER as UID."""
    remove_tree(rootfs)
    rootfs.mkdir(parents=True)
    mirror = next(u for u, s in sources if s == SUITE)
    log(f"debootstrap --variant=minbase {SUITE} from {mirror}")
    subprocess.run(
        ["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    shutil.copytree(overlay, rootfs, dirs_exist_ok=True)
    (rootfs / "etc/apt/sources.list").write_text("".join(f"deb {u} {s} main\n" for u, s in sources))
    log("upgrading it from " + ", ".join(s for _, s in sources))
    _in_chroot(
        rootfs,
        "apt-get update -qq && apt-get upgrade -y -qq && apt-get clean"
        f" && groupadd --gid {uid} {user}"
        f" && useradd --uid {uid} --gid {uid} --no-create-home --home-dir /tmp"
        f" --shell /usr/sbin/nologin {user}",
    )
    _slim(rootfs)


def _in_chroot(rootfs: Path, script: str) -> None:
    """Run SCRIPT in ROOTFS with /proc mounted, in a mount namespace that ends with it."""
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-euc",
         'mount -t proc proc "$1/proc"; exec chroot "$1" sh -euc "$2"', "sh",
         str(rootfs), script],
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).splitlines()[-20:]
        raise RuntimeError("in the base rootfs: " + script + "\n" + "\n".join(tail))


def _slim(rootfs: Path) -> None:
    """Drop what debootstrap installed before the dpkg excludes (images/base) applied."""
    for pattern in ("var/lib/apt/lists/*", "var/cache/apt/*.bin", "var/log/*.log",
                    "var/cache/debconf/*-old", "usr/share/man/*", "usr/share/info/*",
                    "usr/share/locale/*", "usr/share/lintian/*", "tmp/*"):  # fmt: skip
        for path in rootfs.glob(pattern):
            remove_tree(path)
    for path in (rootfs / "usr/share/doc").glob("*/*"):
        if path.name != "copyright":
            remove_tree(path)
    # The container runtime provides these at run time; the build host's must not leak in.
    for name in ("etc/resolv.conf", "etc/hostname", "etc/hosts"):
        (rootfs / name).unlink(missing_ok=True)
