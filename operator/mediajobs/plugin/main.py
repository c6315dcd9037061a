"""`kubectl-mediajobs`: the entry point. What went wrong is one line on stderr and exit 1
(a bad command line: exit 2, as argparse's)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

from mediajobs.kube.errors import ApiError
from mediajobs.plugin.access import PluginError, connect
from mediajobs.plugin.args import UsageError, parse
from mediajobs.plugin.commands import COMMANDS


async def _run(argv: Sequence[str]) -> int:
    flags, args = parse(argv)
    command = args.command if args.command != "hitl" else f"hitl {args.hitl_command}"
    async with connect(flags) as cluster:
        return await COMMANDS[command](cluster, flags, args, sys.stdout)


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
