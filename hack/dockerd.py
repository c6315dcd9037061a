"""A private dockerd for building images here, started and stopped by hack/images.py.

Debian's dockerd runs with everything of its own under one folder
($XDG_CACHE_HOME/mediajobs/docker): data root, exec root, pid file, a unix
socket (no TCP listener), its own daemon.json and key file. It changes nothing
in the host's network (no iptables rules, no ip_forward, no bridge) and runs in
a mount namespace of its own, so its overlay and nsfs mounts vanish with it;
`stop` still unmounts anything left under its folders (a daemon from before
this script, or one killed hard) and ends a containerd it left running.

One session at a time: `Dockerd` holds a lock file (docker.lock, next to the folder)
for as long as it runs, so a second `make images` (or the image test) waits instead
of sharing the daemon.

Standard library only: it runs before the project's virtualenv exists.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

DOCKERD = "/usr/sbin/dockerd"
# Debian's client, the daemon's own version: a newer client on PATH (/usr/local/bin)
# would try buildx and newer API calls this daemon does not have.
DOCKER = "/usr/bin/docker"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
LOCK_TIMEOUT = 1800.0
SOCKET_PATH_MAX = 107  # a unix socket's path, as sun_path holds it with its NUL
# dockerd makes these host paths on start whatever its flags say; removed again (in this
# order) when a session of ours made them and they are empty.
HOST_LEFTOVERS = (Path("/run/docker/plugins"), Path("/run/docker"))


def log(msg: str) -> None:
    print(f"[images] {msg}", flush=True)


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mediajobs"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); it has exited all the same.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] != "Z"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    return not alive(pid)


def _end(pid: int, what: str) -> None:
    """TERM, then KILL after a bounded wait."""
    if not alive(pid):
        return
    log(f"stopping {what} (pid {pid})")
    os.kill(pid, signal.SIGTERM)
    if not _wait_gone(pid, STOP_TIMEOUT):
        log(f"{what} ignored TERM for {STOP_TIMEOUT:.0f} s: KILL")
        os.kill(pid, signal.SIGKILL)
        _wait_gone(pid, STOP_TIMEOUT)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and TERM until the block ends: a stop cut short leaves dockerd running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda sig, _: caught.append(sig)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in caught[:1]:
            signal.raise_signal(sig)


def mounts_under(*roots: Path) -> list[str]:
    """Mount points (host namespace) under ROOTS, deepest first: the order to unmount."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Field 5 is the mount point, with spaces and the like written as octal escapes.
        point = line.split()[4].encode().decode("unicode_escape")
        if any(point == str(r) or point.startswith(f"{r}/") for r in roots):
            found.append(point)
    return sorted(found, key=lambda p: p.count("/"), reverse=True)


def remove_tree(path: Path) -> None:
    """Remove PATH, first unmounting anything still mounted under it (an interrupted run's)."""
    for point in mounts_under(path):
        subprocess.run(["umount", "--lazy", point], check=True)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


class Dockerd:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root() / "docker"
        self.data = self.root / "data"
        self.exec_root = self.root / "exec"
        self.socket = self.root / "docker.sock"
        self.pidfile = self.root / "dockerd.pid"
        self.logfile = self.root / "dockerd.log"
        self.config = self.root / "daemon.json"
        self.client_config = self.root / "client"
        self._lock: IO[str] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        # The host paths a session of ours created, kept on disk so that a session cut
        # short still has them removed by the next one.
        self.made_on_host = self.root / "made-on-host"

    # ---- the client -----------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_CONFIG": str(self.client_config),  # not the host user's ~/.docker
            "DOCKER_BUILDKIT": "0",  # the classic builder: no buildx, plain --network host
        }

    def docker(
        self, *args: str, check: bool = True, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client; with CHECK, raises with its stderr on failure."""
        done = subprocess.run(
            [DOCKER, *args], env=self.env(), capture_output=True, text=True, check=False,
            **kwargs,  # type: ignore[call-overload]
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args[:3])} failed: {done.stderr.strip()}")
        return done  # type: ignore[no-any-return]

    def _answers(self) -> bool:
        done = subprocess.run(
            [DOCKER, "version", "--format", "{{.Server.Version}}"],
            env=self.env(), capture_output=True, check=False,
        )  # fmt: skip
        return done.returncode == 0

    # ---- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Dockerd:
        try:
            self.start()
        except BaseException:  # Ctrl-C or TERM while it starts: stop what did start
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _take_lock(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        # Next to the folder, not in it: removing the folder must not free the lock.
        self._lock = self.root.with_name(self.root.name + ".lock").open("w")
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self._lock.name} is held by another build") from None
                time.sleep(1.0)

    def start(self) -> None:
        # containerd's sockets live in the exec root; longer paths fail after a timeout.
        longest = self.exec_root / "containerd" / "containerd.sock.ttrpc"
        if len(str(longest)) > SOCKET_PATH_MAX:
            raise RuntimeError(f"{self.root} is too long a path for containerd's sockets")
        self._take_lock()
        self.cleanup()  # a daemon or mounts an interrupted run left behind
        for d in (self.data, self.exec_root, self.client_config):
            d.mkdir(parents=True, exist_ok=True)
        # Our own settings, never the host's /etc/docker/daemon.json; the daemon's key
        # (it only names the daemon) here, not in /etc/docker: a daemon.json-only setting.
        key = {"deprecated-key-path": str(self.root / "key.json")}
        self.config.write_text(json.dumps(key) + "\n")
        self.made_on_host.write_text("".join(f"{p}\n" for p in HOST_LEFTOVERS if not p.exists()))
        argv = [
            # A mount namespace of its own: its mounts go away when it exits.
            "unshare", "--mount", "--propagation", "private",
            DOCKERD,
            "--config-file", str(self.config),
            "--data-root", str(self.data),
            "--exec-root", str(self.exec_root),
            "--pidfile", str(self.pidfile),
            "--host", f"unix://{self.socket}",
            "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none",
            "--userland-proxy=false",
            "--storage-driver", "overlay2",
        ]  # fmt: skip
        log(f"starting dockerd ({self.root})")
        with self.logfile.open("wb") as out:  # this session's log only
            self._proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                tail = self.logfile.read_text(errors="replace").splitlines()[-15:]
                self.stop()
                raise RuntimeError("dockerd did not start:\n" + "\n".join(tail))
            time.sleep(0.2)

    def stop(self) -> None:
        with _signals_deferred():
            self._stop()

    def _stop(self) -> None:
        try:
            if self._proc is not None:
                _end(self._proc.pid, "dockerd")
                self._proc.wait(timeout=STOP_TIMEOUT)
                self._proc = None
            self.cleanup()
        finally:
            if self._lock is not None:
                self._lock.close()  # releases the flock
                self._lock = None

    def cleanup(self) -> None:
        """End any daemon this folder's pid files name, unmount what is left, drop the exec root."""
        daemon = _read_pid(self.pidfile)
        if daemon is not None and alive(daemon):
            _end(daemon, "a dockerd left running")
        # dockerd starts its own containerd; killed hard, dockerd leaves it behind.
        containerd = _read_pid(self.exec_root / "containerd" / "containerd.pid")
        if containerd is not None and alive(containerd):
            _end(containerd, "a containerd left running")
        for point in mounts_under(self.exec_root, self.data):
            log(f"unmounting {point}")
            subprocess.run(["umount", point], check=False, capture_output=True)
            if point in mounts_under(Path(point)):
                subprocess.run(["umount", "--lazy", point], check=True)
        shutil.rmtree(self.exec_root, ignore_errors=True)
        self.pidfile.unlink(missing_ok=True)
        self.socket.unlink(missing_ok=True)
        if self.made_on_host.exists():  # deepest first, as written
            for path in map(Path, self.made_on_host.read_text().split()):
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
            self.made_on_host.unlink()
