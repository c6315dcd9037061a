"""The command line: `kubectl mediajobs COMMAND [NAME] [flags]`, krew's conventions.

kubectl's global flags (`-n`, `-A`, `-l`, `-o`, `--context`, `--kubeconfig`) are read
before or after the command, as kubectl reads them. Parsing is pure: a bad line is a
`UsageError` whose message is one line (argparse's own usage text goes to -h).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mediajobs.api.hitl import ResolutionMethod
from mediajobs.api.mediajob import Phase

PROG = "kubectl mediajobs"
LATEST = "@latest"
OPERATOR_NAMESPACE = "mediajobs"  # where the README installs the chart
OUTPUTS = ("wide", "json", "yaml", "name")
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")

EXAMPLES = f"""examples:
  {PROG} list -A --phase Queued
  {PROG} get @latest
  {PROG} stats
  {PROG} retry encode-42
  {PROG} wait encode-42 --for=phase=Succeeded --timeout=10m
  {PROG} logs @latest -f
  {PROG} hitl resolve login-alice-fans --cookies-file cookies.json --method manual_cookies
"""


class UsageError(Exception):
    """A command line that cannot be carried out; its message is one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} -h')")


@dataclass(frozen=True)
class Globals:
    namespace: str | None
    all_namespaces: bool
    selector: str | None
    output: str | None
    context: str | None
    kubeconfig: str | None


def duration(text: str) -> float:
    """30s, 5m, 1h30m or plain seconds, as kubectl's --timeout."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (e.g. 30s, 5m, 1h)")
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def wanted_phase(text: str) -> Phase:
    """--for=phase=X: X a MediaJob phase, compared without case."""
    key, _, value = text.partition("=")
    if key != "phase" or not value:
        raise argparse.ArgumentTypeError(f"--for must be phase=PHASE, not {text!r}")
    for phase in Phase:
        if phase.value.lower() == value.lower():
            return phase
    known = ", ".join(p.value for p in Phase)
    raise argparse.ArgumentTypeError(f"unknown phase {value!r} (one of {known})")


def _globals(suppress: bool) -> _Parser:
    """kubectl's flags; SUPPRESS: absent ones leave what the other position read."""
    default = argparse.SUPPRESS if suppress else None
    p = _Parser(add_help=False)
    g = p.add_argument_group("kubectl flags")
    g.add_argument(
        "-n", "--namespace", default=default, help="the namespace (default: the context's)"
    )
    g.add_argument(
        "-A", "--all-namespaces", action="store_true", default=default, help="every namespace"
    )
    g.add_argument("-l", "--selector", default=default, help="a label selector, e.g. team=media")
    g.add_argument(
        "-o", "--output", choices=OUTPUTS, default=default, help="wide, json, yaml or name"
    )
    g.add_argument("--context", default=default, help="the kubeconfig context to use")
    g.add_argument(
        "--kubeconfig",
        default=default,
        help="the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)",
    )
    return p


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--phase", help="only this phase, e.g. Queued")
    p.add_argument("--operation", help="only this operation, e.g. transcode")
    p.add_argument("--category", help="only this category: cpu, gpu_encode or gpu_ai")


def parser() -> argparse.ArgumentParser:
    common = _globals(suppress=True)
    top = _Parser(
        prog=PROG,
        description="The MediaJob queue: list, inspect and act on MediaJobs and HitlSessions. "
        f"NAME may be {LATEST}, the newest MediaJob of the namespace.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_globals(suppress=False)],
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, parents=[common])

    _filters(command("list", "MediaJobs: phase, progress, place in the queue, why they wait"))
    command("get", "one MediaJob: its status, outputs and last Events").add_argument("name")
    stats = command(
        "stats", "per category: waiting, active, completed, failed, delayed; VRAM per pool"
    )
    stats.add_argument("--operator-namespace", default=OPERATOR_NAMESPACE,
                       help=f"where the operator runs (default {OPERATOR_NAMESPACE})")  # fmt: skip
    for name, text in (
        ("retry", "queue a Failed MediaJob again: a fresh retry budget, priority raised one step"),
        ("resubmit", "create a new MediaJob with the same spec (a generated name)"),
        ("cancel", "stop a MediaJob for good (spec.cancel)"),
        ("pause", "hold a MediaJob; a running one is stopped and requeued (spec.suspend)"),
        ("resume", "let a paused MediaJob go on (spec.suspend false)"),
    ):
        command(name, text).add_argument("name")
    logs = command("logs", "the worker's log of the current or last attempt")
    logs.add_argument("name")
    logs.add_argument("-f", "--follow", action="store_true", help="stream the log as it grows")
    wait = command("wait", "wait until a MediaJob reaches a phase")
    wait.add_argument("name")
    wait.add_argument("--for", dest="for_phase", required=True, type=wanted_phase,
                      metavar="phase=PHASE", help="e.g. --for=phase=Succeeded")  # fmt: skip
    wait.add_argument("--timeout", type=duration, default=30.0, help="default 30s")
    watch = command("watch", "a live table of MediaJobs, refreshed in place (Ctrl-C ends it)")
    _filters(watch)
    watch.add_argument("--interval", type=duration, default=2.0, help="default 2s")
    hitl = command("hitl", "HitlSessions: platform logins a person must renew")
    hsub = hitl.add_subparsers(
        dest="hitl_command", metavar="COMMAND", parser_class=_Parser, required=True
    )
    hsub.add_parser("list", help="the HitlSessions", parents=[common])
    resolve = hsub.add_parser(
        "resolve", help="store fresh cookies and resolve the session", parents=[common]
    )
    resolve.add_argument("name")
    resolve.add_argument("--cookies-file", required=True, help="the cookies as JSON ('-': stdin)")
    resolve.add_argument("--method", choices=[m.value for m in ResolutionMethod],
                         default=ResolutionMethod.MANUAL_COOKIES.value)  # fmt: skip
    return top


def parse(argv: Sequence[str]) -> tuple[Globals, argparse.Namespace]:
    """ARGV (without the program) as kubectl's flags and the command's own."""
    ns = parser().parse_args(list(argv))
    flags = Globals(
        namespace=ns.namespace,
        all_namespaces=bool(ns.all_namespaces),
        selector=ns.selector,
        output=ns.output,
        context=ns.context,
        kubeconfig=ns.kubeconfig,
    )
    if flags.all_namespaces and flags.namespace:
        raise UsageError("-n and -A cannot be used together: name one namespace, or ask for all")
    return flags, ns
