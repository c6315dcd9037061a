"""`kubectl-mediajobs`: the entry point. What went wrong is one line on stderr and exit 1
(a bad command line: exit 2, as argparse's)."""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Sequence

from mediajobs.kube.errors import ApiError
from mediajobs.plugin import commands
from mediajobs.plugin.access import PluginError, connect
from mediajobs.plugin.args import UsageError, parse
from mediajobs.plugin.commands import Command

# Each command's module and function: a module is imported only when its command runs.
COMMANDS = {
    "list": ("jobs", "list_"),
    "get": ("jobs", "get"),
    "retry": ("jobs", "retry"),
    "resubmit": ("jobs", "resubmit"),
    "cancel": ("jobs", "cancel"),
    "pause": ("jobs", "pause"),
    "resume": ("jobs", "resume"),
    "logs": ("jobs", "logs"),
    "wait": ("jobs", "wait"),
    "watch": ("jobs", "watch"),
    "stats": ("stats", "stats"),
    "hitl list": ("hitl", "hitl_list"),
    "hitl resolve": ("hitl", "hitl_resolve"),
}


async def _run(argv: Sequence[str]) -> int:
    flags, args = parse(argv)
    name = args.command if args.command != "hitl" else f"hitl {args.hitl_command}"
    module, function = COMMANDS[name]
    command: Command = getattr(importlib.import_module(f"{commands.__name__}.{module}"), function)
    async with connect(flags) as cluster:
        return await command(cluster, flags, args, sys.stdout)


def _say(err: Exception) -> None:
    """ERR on stderr as one line (an API server's message may span several)."""
    print("error: " + " ".join(str(err).split()), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return asyncio.run(_run(sys.argv[1:] if argv is None else argv))
    except UsageError as err:
        _say(err)
        return 2
    except (PluginError, ApiError) as err:
        _say(err)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
