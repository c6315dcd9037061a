"""The plugin's command line: kubectl's flags anywhere, one-line usage errors."""

from __future__ import annotations

import pytest

from mediajobs.api.mediajob import Phase
from mediajobs.plugin.args import UsageError, duration, parse


def test_kubectl_flags_are_read_before_and_after_the_command() -> None:
    before, _ = parse(["-n", "media", "--context", "prod", "list"])
    after, _ = parse(["list", "-n", "media", "--context", "prod"])
    assert before == after
    assert (before.namespace, before.context, before.all_namespaces) == ("media", "prod", False)


def test_list_filters_and_outputs() -> None:
    flags, args = parse(["list", "-A", "-l", "team=a", "-o", "wide", "--phase", "Queued",
                         "--operation", "transcode", "--category", "cpu"])  # fmt: skip
    assert (flags.all_namespaces, flags.selector, flags.output) == (True, "team=a", "wide")
    assert (args.phase, args.operation, args.category) == ("Queued", "transcode", "cpu")


def test_wait_reads_a_phase_and_a_timeout() -> None:
    _, args = parse(["wait", "@latest", "--for=phase=succeeded", "--timeout", "1m30s"])
    assert (args.name, args.for_phase, args.timeout) == ("@latest", Phase.SUCCEEDED, 90.0)
    assert parse(["wait", "x", "--for", "phase=Running"])[1].timeout == 30.0


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("1h", 3600), ("2.5", 2.5), ("1h1m1s", 3661)]
)
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == seconds


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["wait", "x", "--for=phase=Done"], "unknown phase 'Done'"),
        (["wait", "x", "--for=condition=Ready"], "--for must be phase=PHASE"),
        (["wait", "x", "--for=phase=Running", "--timeout", "soon"], "invalid duration 'soon'"),
        (["list", "-o", "table"], "invalid choice: 'table'"),
        (["get"], "the following arguments are required: name"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["list", "-A", "-n", "x"], "-n and -A"),
        (["hitl", "resolve", "s"], "--cookies-file"),
        (["hitl", "resolve", "s", "--cookies-file", "f", "--method", "sms"], "invalid choice"),
    ],
)
def test_a_bad_line_is_one_line(argv: list[str], said: str) -> None:
    with pytest.raises(UsageError, match=None) as raised:
        parse(argv)
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_hitl_resolve() -> None:
    _, args = parse(["hitl", "resolve", "login-a-b", "--cookies-file", "c.json"])
    assert (args.command, args.hitl_command, args.name, args.method) == (
        "hitl", "resolve", "login-a-b", "manual_cookies",
    )  # fmt: skip
