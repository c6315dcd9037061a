"""Every way the worker can fail, classified once: an exit code and one human line.

The exit code is what the Job's podFailurePolicy acts on (2: permanent, never
retried; 75: temporary, retried with backoff); the line ends up in the
MediaJob's ``status.message``. Messages never carry a URL's credentials or
query string (signed URLs put their secret there): use :func:`redact_url`.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from mediajobs.api.contract import ExitCode

MESSAGE_LIMIT = 1024  # TerminationMessage.error's max_length


class WorkerError(Exception):
    """A failure with a known kind; ``str()`` is the one-line message."""

    exit_code: ExitCode = ExitCode.TEMPORARY

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


class InvalidInput(WorkerError):
    """Bad input or params: retrying cannot help."""

    exit_code = ExitCode.INVALID


class TemporaryFailure(WorkerError):
    """Network, disk, a signal: a later attempt may succeed."""

    exit_code = ExitCode.TEMPORARY


class Terminated(TemporaryFailure):
    """SIGTERM/SIGINT (deletion, suspension, node drain): the work was not finished."""


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """TEXT on one line, whitespace collapsed, at most LIMIT characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def redact_url(url: str) -> str:
    """URL without userinfo, query or fragment: safe to show in a message or log."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<unparseable URL>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def from_os_error(err: OSError, doing: str) -> WorkerError:
    """An OSError met while DOING something (e.g. "writing the output")."""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return TemporaryFailure(f"out of disk space while {doing}")
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return InvalidInput(f"permission denied while {doing}")
    return TemporaryFailure(f"{doing} failed: {err.strerror or err}")


# FFmpeg/ffprobe stderr → what a person should read. First match wins; the order
# puts infrastructure (disk, memory) before the input's own faults.
_PATTERNS: tuple[tuple[re.Pattern[str], type[WorkerError], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind, message)
    for pattern, kind, message in (
        (r"No space left on device|Disk quota exceeded", TemporaryFailure, "out of disk space"),
        (r"Cannot allocate memory|out of memory", TemporaryFailure, "out of memory"),
        (
            r"Operation not permitted|Unsafe file name|not on whitelist|Protocol not found",
            InvalidInput,
            "input refers to other files or URLs (refused)",
        ),
        (r"No such file or directory", InvalidInput, "input file not found"),
        (r"Permission denied", InvalidInput, "permission denied"),
        (
            r"matches no streams|does not contain any stream|no video stream",
            InvalidInput,
            "input has no video stream",
        ),
        (
            r"Decoder \(codec .*\) not found|Unknown decoder|unsupported codec|"
            r"codec not currently supported|Could not find codec parameters|"
            r"Could not find tag for codec|not supported in container|Unknown encoder",
            InvalidInput,
            "unsupported codec",
        ),
        (
            r"Neither number of channels nor channel layout|unspecified pixel format|"
            r"unspecified sample format|Invalid sample rate|Invalid channel layout",
            InvalidInput,
            "input is truncated or corrupt: a stream has no usable parameters",
        ),
        (
            r"moov atom not found|Invalid data found when processing input|"
            r"truncat|corrupt|error while decoding|partial file|Invalid NAL|"
            r"EBML header parsing failed|End of file|"
            # the Matroska demuxer answers EIO for a damaged file; a failing disk under the
            # media volume would fail every attempt alike, so no retry is lost either way
            r"Input/output error",
            InvalidInput,
            "input is truncated or corrupt",
        ),
    )
)


_CONTEXT_PREFIX = re.compile(r"^\[[^\]]+ @ 0x[0-9a-f]+\]\s*")


def log_line(line: str) -> str:
    """An FFmpeg log line without its ``[h264_nvenc @ 0x55d...]`` context prefix."""
    return _CONTEXT_PREFIX.sub("", line.strip())


# A decoder refusing a frame over -max_pixels, or over its own hard limit.
_OVERSIZED = re.compile(r"Picture size (\d+)x(\d+) (?:exceeds|is invalid)")
# Lines FFmpeg logs, and then goes on (exit 0), when the input itself is damaged.
CORRUPTION = re.compile(
    r"partial file|Invalid NAL unit|error while decoding|corrupt|Invalid data found|"
    r"Error splitting the input into NAL units|decode_slice_header error|"
    r"missing picture in access unit|Packet mismatch|Truncating packet|"
    r"Invalid (?:frame|packet|sample) size|concealing \d+ (?:DC|AC|MV) errors|"
    r"Failed to read frame|EBML header parsing failed|Read error",
    re.IGNORECASE,
)


def frame_too_large(width: int, height: int) -> InvalidInput:
    """The refusal of a picture whose one decoded frame cannot fit the memory limit."""
    return InvalidInput(
        f"image too large ({width}x{height}): a decoded frame would not fit the memory limit;"
        " raise spec.resources.memory"
    )


def oversized(stderr_tail: Iterable[str]) -> InvalidInput | None:
    """A refusal naming the picture size, when a decoder declined a frame too large to hold."""
    for line in stderr_tail:
        found = _OVERSIZED.search(line)
        if found:
            return frame_too_large(int(found[1]), int(found[2]))
    return None


def corruption(stderr_lines: Iterable[str]) -> InvalidInput | None:
    """InvalidInput quoting the first damage FFmpeg logged while it went on to exit 0."""
    for line in stderr_lines:
        if CORRUPTION.search(line):
            return InvalidInput(f"input is truncated or corrupt: {log_line(line)}")
    return None


def from_ffmpeg(stderr_tail: Iterable[str], returncode: int, tool: str = "ffmpeg") -> WorkerError:
    """Classify a failed FFmpeg/ffprobe run by the tail of its stderr."""
    lines = [log_line(line) for line in stderr_tail if line.strip()]
    too_big = oversized(lines)
    if too_big is not None:
        return too_big
    text = "\n".join(lines)
    for pattern, kind, message in _PATTERNS:
        if pattern.search(text):
            return kind(message)
    # Unrecognised: retry with backoff (DESIGN: "anything else ... retry"), show the reason.
    last = lines[-1] if lines else "no error output"
    return TemporaryFailure(f"{tool} failed (exit {returncode}): {last}")


def from_unexpected(err: BaseException) -> WorkerError:
    """A bug or an unforeseen failure: retried with backoff, like anything unclassified."""
    return TemporaryFailure(f"internal error: {type(err).__name__}: {err}")
