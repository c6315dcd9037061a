"""Failure classification: exit code and one human line, never a secret."""

from __future__ import annotations

import errno

import pytest

from mediajobs.api.task import ExitCode
from mediajobs.worker.errors import (
    InvalidInput,
    TemporaryFailure,
    Terminated,
    corruption,
    from_ffmpeg,
    from_os_error,
    from_unexpected,
    log_line,
    one_line,
    redact_url,
)

INVALID, TEMPORARY = ExitCode.INVALID, ExitCode.TEMPORARY


@pytest.mark.parametrize(
    ("stderr", "code", "message"),
    [
        (
            "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5648] moov atom not found\n"
            "in.mp4: Invalid data found when processing input",
            INVALID,
            "input is truncated or corrupt",
        ),
        (
            "[matroska,webm @ 0x1] EBML header parsing failed",
            INVALID,
            "input is truncated or corrupt",
        ),
        ("Decoder (codec none) not found for input stream #0:0", INVALID, "unsupported codec"),
        (
            "Could not find tag for codec vorbis in stream #1, codec not currently supported in "
            "container",
            INVALID,
            "unsupported codec",
        ),
        ("Stream map '0:v' matches no streams.", INVALID, "input has no video stream"),
        ("Output file #0 does not contain any stream", INVALID, "input has no video stream"),
        (
            "[mp4 @ 0x1] Error writing trailer: No space left on device\n"
            "Error closing file out.mp4: No space left on device",
            TEMPORARY,
            "out of disk space",
        ),
        ("Cannot allocate memory", TEMPORARY, "out of memory"),
        (
            "[hls @ 0x1] Opening '/etc/x.ts' for reading\n/media/a.mp4: Operation not permitted",
            INVALID,
            "input refers to other files or URLs (refused)",
        ),
        (
            "[concat @ 0x1] Unsafe file name '/etc/passwd'",
            INVALID,
            "input refers to other files or URLs (refused)",
        ),
        (
            "Protocol 'http' not on whitelist 'file'!",
            INVALID,
            "input refers to other files or URLs (refused)",
        ),
        (
            "[png @ 0x1] [IMGUTILS @ 0x7f] Picture size 20000x20000 is invalid\n"
            "Error while decoding stream #0:0: Invalid argument",
            INVALID,
            "image too large (20000x20000): a decoded frame would not fit the memory limit;"
            " raise spec.resources.memory",
        ),
        (
            "[graph_1_in_0_1 @ 0x1] Neither number of channels nor channel layout specified\n"
            "Error configuring filter graph",
            INVALID,
            "input is truncated or corrupt: a stream has no usable parameters",
        ),
        ("/media/x.mp4: Permission denied", INVALID, "permission denied"),
        ("/media/x.mp4: No such file or directory", INVALID, "input file not found"),
        (
            "[libx264 @ 0x1] something new\nConversion failed!",
            TEMPORARY,
            "ffmpeg failed (exit 1): Conversion failed!",
        ),
        ("", TEMPORARY, "ffmpeg failed (exit 1): no error output"),
    ],
)
def test_ffmpeg_stderr_is_classified(stderr: str, code: ExitCode, message: str) -> None:
    err = from_ffmpeg(stderr.splitlines(), 1)
    assert (err.exit_code, str(err)) == (code, message)


def test_disk_full_wins_over_what_it_caused() -> None:
    tail = ["av_interleaved_write_frame(): No space left on device", "Invalid data found"]
    assert str(from_ffmpeg(tail, 1)) == "out of disk space"


def test_unknown_failures_name_the_tool_and_drop_the_context_prefix() -> None:
    err = from_ffmpeg(["[h264_nvenc @ 0x55d0c0] Cannot load libcuda.so.1"], 1, tool="ffprobe")
    assert str(err) == "ffprobe failed (exit 1): Cannot load libcuda.so.1"
    assert log_line("[mp4 @ 0xabc] hello ") == "hello"


@pytest.mark.parametrize(
    ("number", "kind", "message"),
    [
        (errno.ENOSPC, TemporaryFailure, "out of disk space while saving"),
        (errno.EDQUOT, TemporaryFailure, "out of disk space while saving"),
        (errno.EACCES, InvalidInput, "permission denied while saving"),
        (errno.EROFS, InvalidInput, "permission denied while saving"),
        (errno.EIO, TemporaryFailure, "saving failed: Input/output error"),
    ],
)
def test_os_errors(number: int, kind: type, message: str) -> None:
    err = from_os_error(OSError(number, __import__("os").strerror(number)), "saving")
    assert isinstance(err, kind)
    assert str(err) == message


def test_exit_codes_of_each_kind() -> None:
    assert InvalidInput("x").exit_code == ExitCode.INVALID
    assert TemporaryFailure("x").exit_code == ExitCode.TEMPORARY
    assert Terminated("x").exit_code == ExitCode.TEMPORARY  # SIGTERM: retry later
    assert from_unexpected(KeyError("k")).exit_code == ExitCode.TEMPORARY
    assert str(from_unexpected(KeyError("k"))) == "internal error: KeyError: 'k'"


def test_messages_are_one_bounded_line() -> None:
    assert one_line("a\n  b\tc\r\n") == "a b c"
    long = one_line("x" * 5000)
    assert len(long) == 1024 and long.endswith("…")
    assert "\n" not in str(InvalidInput("two\nlines"))


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:secret@cdn.example.com/a/b.mp4?token=abc#frag",
            "https://cdn.example.com/a/b.mp4",
        ),
        ("http://example.com:8080/x?sig=1", "http://example.com:8080/x"),
        ("http://[::1]:9/v.mp4", "http://[::1]:9/v.mp4"),
        ("https://example.com", "https://example.com"),
        ("http://example.com:notaport/x", "<unparseable URL>"),
    ],
)
def test_redact_url_drops_credentials_and_query(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_damage_logged_by_a_run_that_exited_0() -> None:
    lines = [
        "[h264 @ 0x55] Invalid NAL unit size (3050 > 536).",
        "[h264 @ 0x55] Error splitting the input into NAL units.",
    ]
    damage = corruption(lines)
    assert damage is not None
    assert damage.exit_code is INVALID
    assert str(damage) == "input is truncated or corrupt: Invalid NAL unit size (3050 > 536)."
    assert corruption(["[libx264 @ 0x1] using cpu capabilities: MMX2 SSE2Fast"]) is None
