"""Each command of `kubectl mediajobs`, carried out against a logged-in Cluster.

A command prints what kubectl would (a table, an object, "kind/name verb") on stdout
and returns its exit status; what went wrong is raised as PluginError (main.py prints
it as one line).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from mediajobs.api.mediajob import Phase
from mediajobs.jobs.naming import COOKIES_KEY, platform_secret_name
from mediajobs.kube.errors import ApiError
from mediajobs.kube.port import Selection, mediajobs_path
from mediajobs.lifecycle.hitl import cookies_problem
from mediajobs.plugin import changes, render
from mediajobs.plugin.access import Cluster, PluginError, read_file
from mediajobs.plugin.args import Globals
from mediajobs.plugin.stats import computed, stats_text

MEDIAJOB = "mediajob.mediajobs.dev"
HITLSESSION = "hitlsession.mediajobs.dev"
WAIT_WATCH_SECONDS = 60  # a wait's watch is renewed this often (a proxy may drop it silently)


def _now() -> datetime:
    return datetime.now(UTC)


def _emit(out: TextIO, text: str) -> None:
    out.write(text + "\n")


def _listing(items: Sequence[Any], flags: Globals, table: Callable[[], str], kind: str) -> str:
    if flags.output in ("json", "yaml"):
        return render.printed(list(items), flags.output)
    if flags.output == "name":
        return render.names(items, kind)
    return table()


def _filtered(jobs: Sequence[Any], args: argparse.Namespace) -> list[Any]:
    wanted = [
        j
        for j in jobs
        if render.matches(j, phase=args.phase, operation=args.operation, category=args.category)
    ]
    return sorted(wanted, key=lambda j: (j["metadata"].get("namespace", ""), j["metadata"]["name"]))


async def list_(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    jobs = _filtered(await cluster.mediajobs(), args)
    wide, everywhere = flags.output == "wide", flags.all_namespaces

    def table() -> str:
        return render.jobs_table(jobs, _now(), wide=wide, namespaces=everywhere)

    _emit(out, _listing(jobs, flags, table, MEDIAJOB))
    return 0


async def get(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    job = await cluster.mediajob(args.name)
    if flags.output in ("json", "yaml"):
        _emit(out, render.printed(job, flags.output))
    elif flags.output == "name":
        _emit(out, render.names([job], MEDIAJOB))
    else:
        _emit(out, render.describe_job(job, await cluster.events_of(job), _now()))
    return 0


async def stats(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    """The operator's own /stats when the API server can proxy to it; else computed."""
    document, said = await cluster.operator_stats(args.operator_namespace)
    if document is not None:
        source = f"the operator's /stats ({said}, through the API server)"
    else:
        config, limits = await cluster.operator_config(args.operator_namespace)
        scope = None if flags.all_namespaces else cluster.namespace
        pools = await cluster.gpu_pools_of_jobs(scope)
        document = computed(await cluster.mediajobs(), config, pools)
        where = "every namespace" if scope is None else f"namespace {scope}"
        source = f"computed from the MediaJobs of {where} and {limits} ({said})"
    if flags.output in ("json", "yaml"):
        _emit(out, render.printed(document, flags.output))
    else:
        _emit(out, stats_text(document, source))
    return 0


def _patcher(
    decide: Callable[[Any], dict[str, Any]], verb: str
) -> Callable[[Cluster, Globals, argparse.Namespace, TextIO], Awaitable[int]]:
    async def command(
        cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO
    ) -> int:
        job = await cluster.mediajob(args.name)
        try:
            patch = decide(job)
        except changes.Refused as refused:
            raise PluginError(str(refused)) from refused
        await cluster.patch_spec(job, patch)
        _emit(out, f"{MEDIAJOB}/{job['metadata']['name']} {verb}")
        return 0

    return command


retry = _patcher(changes.retry_patch, "retried (queued again, priority raised one step)")
cancel = _patcher(changes.cancel_patch, "cancelled")
pause = _patcher(changes.pause_patch, "paused")
resume = _patcher(changes.resume_patch, "resumed")


async def resubmit(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    job = await cluster.mediajob(args.name)
    created = await cluster.create_mediajob(job["metadata"]["namespace"], changes.resubmitted(job))
    _emit(out, f"{MEDIAJOB}/{created['metadata']['name']} created")
    return 0


async def logs(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    job = await cluster.mediajob(args.name)
    namespace = job["metadata"]["namespace"]
    job_name = (job.get("status") or {}).get("jobName")
    pods = await cluster.pods_of_job(namespace, job_name) if job_name else []
    try:
        pod = changes.attempt_pod(job, pods)
    except changes.Refused as refused:
        raise PluginError(str(refused)) from refused
    pod_name = pod["metadata"]["name"]
    try:
        async with cluster.log(namespace, pod_name, follow=args.follow) as body:
            async for chunk in body.iter_any():
                out.write(chunk.decode(errors="replace"))
                out.flush()
    except ApiError as err:
        attempt = (job.get("status") or {}).get("attempts")
        raise PluginError(
            f"cannot read the log of pod {pod_name} (attempt {attempt}): {err}"
        ) from err
    return 0


async def wait(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    """Until the job is in phase --for (exit 0), ends in another final phase (exit 1), or
    --timeout passes (exit 1); a watch of the one object, not a poll."""
    wanted: Phase = args.for_phase
    job = await cluster.mediajob(args.name)
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    last = job

    async def until_done() -> None:
        nonlocal last
        current = job
        while True:
            phase = changes.phase_of(current)
            if phase == wanted:
                return
            if phase.finished:
                raise PluginError(f"mediajob {name} ended {phase}, not {wanted}")
            version = current["metadata"]["resourceVersion"]
            async for event in cluster.kube.watch(
                mediajobs_path(namespace),
                Selection(fields=f"metadata.name={name}"),
                version=version,
                timeout_seconds=WAIT_WATCH_SECONDS,
                read_timeout=WAIT_WATCH_SECONDS + 30,
            ):
                if event.get("type") == "DELETED":
                    raise PluginError(f"mediajob {name} was deleted")
                if event.get("type") in ("ADDED", "MODIFIED"):
                    current = last = event["object"]
                    if changes.phase_of(current) == wanted or changes.phase_of(current).finished:
                        break
            else:
                current = last = await cluster.mediajob(name)  # the watch ended: read again

    try:
        async with asyncio.timeout(args.timeout):
            await until_done()
    except TimeoutError:
        raise PluginError(
            f"timed out after {args.timeout:g}s waiting for mediajob {name} to be {wanted} "
            f"(it is {changes.phase_of(last)})"
        ) from None
    _emit(out, f"{MEDIAJOB}/{name} condition met")
    return 0


async def watch(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    """The list's table, read again every --interval: redrawn in place on a terminal,
    printed again when it changed otherwise (a pipe, a file)."""
    wide, everywhere = flags.output == "wide", flags.all_namespaces

    async def frame() -> str:
        jobs = _filtered(await cluster.mediajobs(), args)
        table = render.jobs_table(jobs, _now(), wide=wide, namespaces=everywhere)
        return f"{table}\n\n{len(jobs)} MediaJobs · every {args.interval:g}s · Ctrl-C to stop"

    if out.isatty():
        # rich only here: every other command starts faster without it
        from rich.console import Console  # noqa: PLC0415
        from rich.live import Live  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        console = Console(file=out)
        with Live(Text(await frame()), console=console, auto_refresh=False) as live:
            while True:
                await asyncio.sleep(args.interval)
                live.update(Text(await frame()), refresh=True)
    shown = None
    while True:
        text = await frame()
        if text != shown:
            _emit(out, text + "\n")
            out.flush()
            shown = text
        await asyncio.sleep(args.interval)


async def hitl_list(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    sessions = sorted(await cluster.hitlsessions(), key=lambda s: s["metadata"]["name"])

    def table() -> str:
        return render.hitl_table(sessions, _now(), namespaces=flags.all_namespaces)

    _emit(out, _listing(sessions, flags, table, HITLSESSION))
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
    problem = cookies_problem(raw, _now())
    if problem is not None:
        raise PluginError(f"{args.cookies_file}: {problem}")
    spec = session["spec"]
    default = platform_secret_name(spec["creatorProfile"], spec["platform"])
    secret, key = changes.secret_of(session, default, COOKIES_KEY)
    await cluster.store_secret(session["metadata"]["namespace"], secret, key, raw)
    await cluster.resolve_session(session, args.method)
    _emit(out, f"{HITLSESSION}/{name} resolved ({args.method}; cookies stored in secret/{secret})")
    return 0


COMMANDS: dict[str, Callable[[Cluster, Globals, argparse.Namespace, TextIO], Awaitable[int]]] = {
    "list": list_,
    "get": get,
    "stats": stats,
    "retry": retry,
    "resubmit": resubmit,
    "cancel": cancel,
    "pause": pause,
    "resume": resume,
    "logs": logs,
    "wait": wait,
    "watch": watch,
    "hitl list": hitl_list,
    "hitl resolve": hitl_resolve,
}
