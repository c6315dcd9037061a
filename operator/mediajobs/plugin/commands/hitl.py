"""`hitl list` and `hitl resolve`: platform logins a person renews."""

from __future__ import annotations

import argparse
from typing import TextIO

from mediajobs.jobs.naming import COOKIES_KEY, platform_secret_name
from mediajobs.lifecycle.hitl import cookies_problem
from mediajobs.plugin import changes, render
from mediajobs.plugin.access import Cluster, PluginError, read_file
from mediajobs.plugin.args import Globals
from mediajobs.plugin.commands import HITLSESSION, emit, now


async def hitl_list(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    sessions = sorted(await cluster.hitlsessions(), key=lambda s: s["metadata"]["name"])

    def table() -> str:
        return render.hitl_table(sessions, now(), namespaces=flags.all_namespaces)

    emit(out, render.listing(sessions, flags.output, table, HITLSESSION))
    return 0


async def hitl_resolve(
    cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO
) -> int:
    """Store the cookies in the session's Secret, then set spec.resolution; the operator
    checks them and resolves the session. The cookies are checked here first and never
    printed (a problem names cookies, never their values)."""
    session = await cluster.hitlsession(args.name)
    name = session["metadata"]["name"]
    if not changes.session_open(session):
        phase = session["status"]["phase"]
        raise PluginError(f"hitlsession {name} is {phase}: there is nothing to resolve")
    raw = read_file(args.cookies_file)
    problem = cookies_problem(raw, now())
    if problem is not None:
        raise PluginError(f"{args.cookies_file}: {problem}")
    spec = session["spec"]
    default = platform_secret_name(spec["creatorProfile"], spec["platform"])
    secret, key = changes.secret_of(session, default, COOKIES_KEY)
    await cluster.store_secret(session["metadata"]["namespace"], secret, key, raw)
    await cluster.resolve_session(session, args.method)
    emit(out, f"{HITLSESSION}/{name} resolved ({args.method}; cookies stored in secret/{secret})")
    return 0
