"""The kopf shell: start-up builds the API client and wires the informers, the
reconciler and the HTTP endpoints.

Logging in is kube/login.py's (kubectl's ways, credentials loaded again when due
or refused); kopf's login handler hands kopf the same credentials. A fatal API
error (RBAC forbids a request, credentials that stay refused) is logged as one
line and stops the operator with exit status 1: retrying cannot help, and a
process that exits says so where a retry loop would only spin.

kopf runs the operator's lifecycle (start-up, clean-up, signals) and the
per-object handlers of what is rare (DESIGN.md "What kopf costs"): HitlSessions
(controller/hitl.py), the one resource kopf watches. MediaJobSchedules have informers
and a loop of their own (controller/schedules.py), started with the reconciler's.
The MediaJob view is fed by kube/watch.py's informers (kube/watch.py says what
that saved over kopf's event handlers), and every API write goes through the port
(kube/port.py). This is the one module of the controller that builds the real
client (an import contract holds it).

With ``leaderElection.enabled``, every replica starts its HTTP endpoints and
competes for the Lease (controller/election.py); only the one that holds it
lists, watches and writes, so a new leader rebuilds its view from a fresh list
before its first admission. A leader that stops leading stops (exit status 1);
on a clean shutdown it writes nothing more, lets its writes in flight end, and
releases the Lease so that a standby takes over at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field
from typing import Any

import kopf

from mediajobs.api.common import GROUP, VERSION
from mediajobs.api.hitl import PLURAL as HITL_PLURAL
from mediajobs.clock import SystemClock, schedules_clock
from mediajobs.config import OperatorConfig
from mediajobs.controller.bootstrap import ensure_priority_classes
from mediajobs.controller.election import Elector, LeaderOnly, identity
from mediajobs.controller.hitl import SessionController
from mediajobs.controller.http import serve
from mediajobs.controller.metrics import Metrics
from mediajobs.controller.progress import consume
from mediajobs.controller.reconciler import Reconciler
from mediajobs.controller.schedules import ScheduleController
from mediajobs.kube.client import Kube
from mediajobs.kube.credentials import Credentials
from mediajobs.kube.errors import ApiError
from mediajobs.kube.login import Login, LoginError
from mediajobs.kube.port import Api

log = logging.getLogger("mediajobs.operator")

RELEASE_WAIT = 5.0  # seconds for writes in flight to end before the Lease is released


@dataclass
class Options:
    config: OperatorConfig
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    writers: int = 64
    namespaces: list[str] = field(default_factory=list)  # empty: the whole cluster
    kubeconfig: str | None = None  # kubectl's --kubeconfig; None: $KUBECONFIG, in-cluster...
    context: str | None = None  # kubectl's --context; None: the kubeconfig's current one


@dataclass
class State:
    """What start-up builds and clean-up tears down (kopf's memo)."""

    options: Options
    login: Login
    fatal: ApiError | None = None  # what stopped the operator, when something did
    lost: str | None = None  # why it stopped leading, when it did
    reconciler: Reconciler | None = None
    kube: Kube | None = None
    elector: Elector | None = None
    sessions: SessionController | None = None
    schedules: ScheduleController | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    http: Any = None


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # kopf stops cleanly; the pod is restarted


def _stop_if_dead(task: asyncio.Task[None]) -> None:
    """A loop that dies must take the process with it: /readyz would stay green."""
    if task.cancelled() or task.exception() is None:
        return
    error = task.exception()
    if isinstance(error, ApiError) and error.fatal:
        return  # said in one line by _fatal, which stops the operator
    log.critical("the %s task died", task.get_name(), exc_info=error)
    _stop()


def _fatal(state: State, error: ApiError) -> None:
    """Kube's on_fatal: say it once, in one line, and stop (exit status 1)."""
    if state.fatal is None:
        state.fatal = error
        log.critical("%s", error)
        _stop()


def _lease_namespace(options: Options) -> str:
    settings = options.config.leader_election
    watched = options.namespaces[0] if options.namespaces else "default"
    return settings.lease_namespace or os.environ.get("POD_NAMESPACE") or watched


async def _lead(state: State, rec: Reconciler) -> None:
    """Start what the leader runs: the informers (a fresh list), the loop, progress."""
    await ensure_priority_classes(rec.api)
    informers = rec.informers()
    tasks = [asyncio.create_task(i.run(), name=f"watch {i.path}") for i in informers]
    tasks.append(asyncio.create_task(rec.run(informers), name="reconciler"))
    if state.options.config.redis_url:
        stream = state.options.config.progress_stream
        progress = consume(rec, state.options.config.redis_url, stream)
        tasks.append(asyncio.create_task(progress, name="progress"))
    if state.sessions is not None:
        tasks.append(asyncio.create_task(state.sessions.sweep(), name="hitl sweep"))
    if state.schedules is not None:
        watches = state.schedules.informers()
        tasks += [asyncio.create_task(i.run(), name=f"watch {i.path}") for i in watches]
        tasks.append(asyncio.create_task(state.schedules.run(watches), name="schedules"))
    for task in tasks:
        task.add_done_callback(_stop_if_dead)
    state.tasks += tasks


async def _elect(state: State, elector: Elector, rec: Reconciler) -> None:
    await elector.acquire()
    await _lead(state, rec)
    why = await elector.keep()
    if why != "resigned" and state.lost is None:
        state.lost = why
        log.critical("lost the lease %s (%s): stopping", elector.path, why)
        _stop()


async def _step_down(state: State) -> None:
    """Stop writing, let the writes in flight end (for a while), then give the Lease up:
    a standby must not start while a write of ours may still land."""
    elector, rec = state.elector, state.reconciler
    if elector is None:
        return
    elector.resign()
    writes = set(rec.effects.tasks) if rec is not None else set()
    if writes:
        _, writes = await asyncio.wait(writes, timeout=RELEASE_WAIT)
    if not writes:
        await elector.release()


def _connection_info(credentials: Credentials) -> kopf.ConnectionInfo:
    """kopf's form of the credentials, expiring when they are due to be loaded again."""
    scheme, _, token = (credentials.authorization or "").partition(" ")
    return kopf.ConnectionInfo(
        server=credentials.server,
        ca_path=credentials.ca_file,
        insecure=not credentials.verify,
        scheme=scheme or None,
        token=token or None,
        certificate_path=credentials.cert_file,
        private_key_path=credentials.key_file,
        proxy_url=credentials.proxy,
        expiration=credentials.refresh_at,
    )


def registry() -> kopf.OperatorRegistry:
    reg = kopf.OperatorRegistry()

    @kopf.on.startup(registry=reg)
    async def startup(memo: kopf.Memo, **_: object) -> None:
        state: State = memo["state"]
        kube = Kube(
            state.login,
            connections=state.options.writers * 2,
            on_fatal=lambda error: _fatal(state, error),
        )
        await kube.__aenter__()
        state.kube = kube
        config = state.options.config
        api: Api = kube
        if config.leader_election.enabled:
            namespace = _lease_namespace(state.options)
            elector = Elector(kube, config.leader_election, namespace, identity(), SystemClock())
            state.elector = elector
            api = LeaderOnly(kube, elector.leading)
        rec = Reconciler(
            api,
            config,
            Metrics(),
            writers=state.options.writers,
            namespaces=state.options.namespaces,
            leading=state.elector.leading if state.elector is not None else lambda: True,
        )
        state.reconciler = rec
        state.sessions = SessionController(api, SystemClock(), rec.metrics, rec.leading)
        state.schedules = ScheduleController(
            api, schedules_clock(), state.options.namespaces, rec.leading
        )
        state.http = await serve(
            rec, state.options.http_host, state.options.http_port, state.elector
        )
        if state.elector is None:
            await _lead(state, rec)
        else:
            election = asyncio.create_task(_elect(state, state.elector, rec), name="election")
            election.add_done_callback(_stop_if_dead)
            state.tasks.append(election)

    @kopf.on.event(GROUP, VERSION, HITL_PLURAL, registry=reg)
    async def hitl_session(memo: kopf.Memo, event: kopf.RawEvent, **_: object) -> None:
        state: State = memo["state"]
        if state.sessions is not None:
            await state.sessions.event(event["type"], event["object"])

    @kopf.on.login(registry=reg)
    async def login(memo: kopf.Memo, **_: object) -> kopf.ConnectionInfo:
        state: State = memo["state"]
        return _connection_info(await state.login.current())

    @kopf.on.cleanup(registry=reg)
    async def cleanup(memo: kopf.Memo, **_: object) -> None:
        state: State = memo["state"]
        await _step_down(state)
        for task in state.tasks:
            task.cancel()
        await asyncio.gather(*state.tasks, return_exceptions=True)
        if state.http is not None:
            await state.http.cleanup()
        if state.kube is not None:
            await state.kube.__aexit__(None, None, None)

    return reg


async def run(
    options: Options,
    *,
    stop_flag: asyncio.Event | None = None,
    ready_flag: asyncio.Event | None = None,
) -> int:
    """Run the operator until STOP_FLAG is set (or forever); the exit status: 1 when a
    fatal error stopped it (logged in one line), 0 otherwise."""
    login = Login.from_environment(kubeconfig=options.kubeconfig, context=options.context)
    try:
        credentials = await login.current()
    except LoginError as err:
        log.critical("%s", err)
        return 1
    log.info("logged in to %s as %s", credentials.server, credentials.who)
    state = State(options, login)
    memo = kopf.Memo(state=state)
    settings = kopf.OperatorSettings()
    # kopf serves one resource here (HitlSessions, found in the one scan at start):
    # watching namespaces and CRDs would find nothing more to serve, and under RBAC
    # bound to the operator's namespaces it retries 403s forever.
    settings.scanning.disabled = True
    # kopf's own "handler succeeded" Events would bury the sessions' Events.
    settings.posting.level = logging.WARNING
    await kopf.operator(
        registry=registry(),
        settings=settings,
        clusterwide=not options.namespaces,
        namespaces=options.namespaces,
        standalone=True,  # one replica, no peering objects (kopf docs: peering)
        memo=memo,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
    return 1 if state.fatal is not None or state.lost is not None else 0
