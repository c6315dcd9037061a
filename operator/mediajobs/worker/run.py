"""Running FFmpeg: progress from ``-progress pipe:1``, the stderr tail kept for the verdict.

FFmpeg exits 0 after logging that its input was truncated or damaged (a
partial file, invalid NAL units): the first such line is kept, and a run that
logged one fails as invalid input even though FFmpeg "succeeded".

Two reader threads drain stdout and stderr, so FFmpeg never blocks on a full
pipe while the main thread waits; the main thread stays free to receive
SIGTERM. Leaving the ``with`` block early (a signal, an error) kills FFmpeg
and reaps it before the caller removes its temporary output.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import IO

from mediajobs.progress.ffmpeg import FfmpegProgress
from mediajobs.worker.argv import Command
from mediajobs.worker.errors import CORRUPTION, corruption, from_ffmpeg

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 40
Report = Callable[[int], None]


class Ffmpeg:
    """One FFmpeg process. ``raw_stdout``: the caller reads stdout (frames), no progress."""

    def __init__(
        self,
        cmd: Command,
        report: Report | None = None,
        *,
        stdin: bool = False,
        raw_stdout: bool = False,
    ) -> None:
        self.cmd = cmd
        self._report = report
        self._stdin = stdin
        self._raw_stdout = raw_stdout
        self._tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._damage: str | None = None  # the first line saying the input is damaged
        self._threads: list[threading.Thread] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._progress = FfmpegProgress(cmd.duration)

    @property
    def proc(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError("FFmpeg has not been started")
        return self._proc

    def __enter__(self) -> Ffmpeg:
        log.info("running %s", " ".join(self.cmd.argv))
        self._proc = subprocess.Popen(
            self.cmd.argv,
            stdin=subprocess.PIPE if self._stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._spawn(self._drain_stderr, self.proc.stderr)
        if not self._raw_stdout:
            self._spawn(self._follow_progress, self.proc.stdout)
        return self

    def _spawn(self, target: Callable[[IO[bytes]], None], pipe: IO[bytes] | None) -> None:
        if pipe is None:
            return
        thread = threading.Thread(target=target, args=(pipe,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _drain_stderr(self, pipe: IO[bytes]) -> None:
        for raw in pipe:
            line = raw.decode(errors="replace").rstrip()
            self._tail.append(line)
            if self._damage is None and CORRUPTION.search(line):
                self._damage = line

    def _follow_progress(self, pipe: IO[bytes]) -> None:
        for raw in pipe:
            percent = self._progress.feed(raw.decode(errors="replace"))
            if percent is not None and self._report is not None:
                self._report(percent)

    def wait(self) -> float | None:
        """Wait for FFmpeg to finish: how far it got in seconds (None if it did not say).

        A non-zero exit, or damage it logged on the way, is a WorkerError.
        """
        code = self.proc.wait()
        for thread in self._threads:
            thread.join()
        if code != 0:
            raise from_ffmpeg(self._tail, code)
        damage = corruption([self._damage] if self._damage else [])
        if damage is not None:
            raise damage
        return self._progress.reached

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        proc = self.proc
        if proc.poll() is None:
            proc.kill()  # its output is being thrown away: no need for a graceful stop
        proc.wait()
        for thread in self._threads:
            thread.join(timeout=5)  # a dead process's pipes are at EOF: the readers end
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):  # stdin may hold bytes nobody will read
                    pipe.close()


def run(cmd: Command, report: Report | None = None) -> float | None:
    """Run CMD to the end, reporting its progress; how far it got in seconds."""
    with Ffmpeg(cmd, report) as ffmpeg:
        return ffmpeg.wait()
