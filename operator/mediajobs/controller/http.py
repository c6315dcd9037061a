"""The operator's HTTP endpoints: /healthz, /readyz, /metrics, /stats, and the
read-only web view (/ and /events, controller/webview.py) when the config enables it.

/metrics and /stats read the reconciler's queue snapshot, never its maps. With
leader election, a standby is ready (waiting is its job) and says who leads;
`mediajobs_leader` and /stats' `leader` say whether this replica does.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mediajobs.controller.election import Elector
from mediajobs.controller.metrics import stats
from mediajobs.controller.reconciler import Reconciler
from mediajobs.controller.webview import add_routes, feed_of


def app(rec: Reconciler, elector: Elector | None = None) -> web.Application:
    def leading() -> bool:
        return elector is None or elector.leading()

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        if elector is not None and not elector.leading():
            return web.Response(text=f"standby: {elector.holder or 'nobody'} leads\n")
        ready = rec.ready.is_set()
        return web.Response(status=200 if ready else 503, text="ready\n" if ready else "syncing\n")

    async def metrics(_: web.Request) -> web.Response:
        rec.metrics.observe(rec.snapshot())
        rec.metrics.leader.set(1 if leading() else 0)
        return web.Response(
            body=generate_latest(rec.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def stats_json(_: web.Request) -> web.Response:
        holder = elector.holder if elector is not None else None
        return web.json_response({**stats(rec.snapshot()), "leader": leading(), "holder": holder})

    application = web.Application()
    application.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics),
            web.get("/stats", stats_json),
        ]
    )
    if rec.config.web_view.enabled:
        add_routes(application, feed_of(rec))
    return application


async def serve(
    rec: Reconciler, host: str, port: int, elector: Elector | None = None
) -> web.AppRunner:
    runner = web.AppRunner(app(rec, elector), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
