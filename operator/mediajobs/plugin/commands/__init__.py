"""The commands of `kubectl mediajobs`, one module per family (jobs, stats, hitl), each
imported only when its command runs: a list does not pay for the imports of stats'
record parsing or of the cookie checks.

A command prints what kubectl would (a table, an object, "kind/name verb") on stdout
and returns its exit status; what went wrong is raised as PluginError (main.py prints
it as one line).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TextIO

from mediajobs.plugin.access import Cluster
from mediajobs.plugin.args import Globals

MEDIAJOB = "mediajob.mediajobs.dev"
HITLSESSION = "hitlsession.mediajobs.dev"

Command = Callable[[Cluster, Globals, argparse.Namespace, TextIO], Awaitable[int]]


def now() -> datetime:
    return datetime.now(UTC)


def emit(out: TextIO, text: str) -> None:
    out.write(text + "\n")
