"""The MediaJob commands: list, get, watch, wait, logs and the actions (retry, resubmit,
cancel, pause, resume), whose patches changes.py decides."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from mediajobs.api.mediajob import Phase
from mediajobs.kube.errors import ApiError
from mediajobs.kube.port import Selection, mediajobs_path
from mediajobs.plugin import changes, render
from mediajobs.plugin.access import Cluster, PluginError
from mediajobs.plugin.args import Globals
from mediajobs.plugin.commands import MEDIAJOB, Command, emit, now

WAIT_WATCH_SECONDS = 60  # a wait's watch is renewed this often (a proxy may drop it silently)


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
        return render.jobs_table(jobs, now(), wide=wide, namespaces=everywhere)

    emit(out, render.listing(jobs, flags.output, table, MEDIAJOB))
    return 0


async def get(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    job = await cluster.mediajob(args.name)
    if flags.output in ("json", "yaml"):
        emit(out, render.printed(job, flags.output))
    elif flags.output == "name":
        emit(out, render.names([job], MEDIAJOB))
    else:
        emit(out, render.describe_job(job, await cluster.events_of(job), now()))
    return 0


def _patcher(decide: Callable[[Any], dict[str, Any]], verb: str) -> Command:
    async def command(
        cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO
    ) -> int:
        job = await cluster.mediajob(args.name)
        try:
            patch = decide(job)
        except changes.Refused as refused:
            raise PluginError(str(refused)) from refused
        await cluster.patch_spec(job, patch)
        emit(out, f"{MEDIAJOB}/{job['metadata']['name']} {verb}")
        return 0

    return command


retry = _patcher(changes.retry_patch, "retried (queued again, priority raised one step)")
cancel = _patcher(changes.cancel_patch, "cancelled")
pause = _patcher(changes.pause_patch, "paused")
resume = _patcher(changes.resume_patch, "resumed")


async def resubmit(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    job = await cluster.mediajob(args.name)
    created = await cluster.create_mediajob(job["metadata"]["namespace"], changes.resubmitted(job))
    emit(out, f"{MEDIAJOB}/{created['metadata']['name']} created")
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
    emit(out, f"{MEDIAJOB}/{name} condition met")
    return 0


async def watch(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    """The list's table, read again every --interval: redrawn in place on a terminal,
    printed again when it changed otherwise (a pipe, a file)."""
    wide, everywhere = flags.output == "wide", flags.all_namespaces

    async def frame() -> str:
        jobs = _filtered(await cluster.mediajobs(), args)
        table = render.jobs_table(jobs, now(), wide=wide, namespaces=everywhere)
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
            emit(out, text + "\n")
            out.flush()
            shown = text
        await asyncio.sleep(args.interval)
