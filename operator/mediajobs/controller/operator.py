"""The kopf shell: start-up wires the informers, the reconciler and the HTTP endpoints.

kopf runs the operator's lifecycle (login, start-up, clean-up, signals) and is
where per-object handlers go for what is rare (DESIGN.md "What kopf costs"); the
first one brings kopf's settings for them (watch timeouts, an annotation prefix
for its progress storage).
The admission path is fed by kube/watch.py's informers instead of kopf event
handlers: kube/watch.py says what that saved. Every API write is the
reconciler's own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field
from typing import Any

import kopf

from mediajobs.config import OperatorConfig
from mediajobs.controller.bootstrap import ensure_priority_classes
from mediajobs.controller.http import serve
from mediajobs.controller.metrics import Metrics
from mediajobs.controller.progress import consume
from mediajobs.controller.reconciler import Reconciler
from mediajobs.kube.client import Kube

log = logging.getLogger("mediajobs.operator")


@dataclass
class Options:
    config: OperatorConfig
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    writers: int = 64
    namespaces: list[str] = field(default_factory=list)  # empty: the whole cluster


@dataclass
class State:
    """What start-up builds and clean-up tears down (kopf's memo)."""

    options: Options
    reconciler: Reconciler | None = None
    kube: Kube | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    http: Any = None


def _stop_if_dead(task: asyncio.Task[None]) -> None:
    """A loop that dies must take the process with it: /readyz would stay green."""
    if task.cancelled() or task.exception() is None:
        return
    log.critical("the %s task died", task.get_name(), exc_info=task.exception())
    os.kill(os.getpid(), signal.SIGTERM)  # kopf stops cleanly; the pod is restarted


def _login(settings: kopf.OperatorSettings) -> kopf.ConnectionInfo:
    info = kopf.login_with_service_account(settings=settings) or kopf.login_with_kubeconfig(
        settings=settings
    )
    if info is None:
        raise kopf.PermanentError("no credentials: neither a service account nor a kubeconfig")
    return info


def registry() -> kopf.OperatorRegistry:
    reg = kopf.OperatorRegistry()

    @kopf.on.startup(registry=reg)
    async def startup(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: object) -> None:
        state: State = memo["state"]
        kube = Kube(_login(settings), connections=state.options.writers * 2)
        await kube.__aenter__()
        state.kube = kube
        await ensure_priority_classes(kube)
        rec = Reconciler(
            kube,
            state.options.config,
            Metrics(),
            writers=state.options.writers,
            namespaces=state.options.namespaces,
        )
        state.reconciler = rec
        state.http = await serve(rec, state.options.http_host, state.options.http_port)
        informers = rec.informers()
        for informer in informers:
            state.tasks.append(asyncio.create_task(informer.run(), name=f"watch {informer.path}"))
        state.tasks.append(asyncio.create_task(rec.run(informers), name="reconciler"))
        if state.options.config.redis_url:
            stream = state.options.config.progress_stream
            state.tasks.append(
                asyncio.create_task(
                    consume(rec, state.options.config.redis_url, stream), name="progress"
                )
            )
        for task in state.tasks:
            task.add_done_callback(_stop_if_dead)

    @kopf.on.login(registry=reg)
    def login(settings: kopf.OperatorSettings, **_: object) -> kopf.ConnectionInfo:
        return _login(settings)

    @kopf.on.cleanup(registry=reg)
    async def cleanup(memo: kopf.Memo, **_: object) -> None:
        state: State = memo["state"]
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
) -> None:
    """Run the operator until STOP_FLAG is set (or forever)."""
    memo = kopf.Memo(state=State(options))
    await kopf.operator(
        registry=registry(),
        clusterwide=not options.namespaces,
        namespaces=options.namespaces,
        standalone=True,  # one replica, no peering objects (kopf docs: peering)
        memo=memo,
        stop_flag=stop_flag,
        ready_flag=ready_flag,
    )
