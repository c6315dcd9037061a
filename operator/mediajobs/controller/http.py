"""The operator's HTTP endpoints: /healthz, /readyz, /metrics, /stats.

/metrics and /stats read the reconciler's queue snapshot, never its maps.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mediajobs.controller.metrics import stats
from mediajobs.controller.reconciler import Reconciler


def app(rec: Reconciler) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        ready = rec.ready.is_set()
        return web.Response(status=200 if ready else 503, text="ready\n" if ready else "syncing\n")

    async def metrics(_: web.Request) -> web.Response:
        rec.metrics.observe(rec.snapshot())
        return web.Response(
            body=generate_latest(rec.metrics.registry),
            headers={"Content-Type": CONTENT_TYPE_LATEST},
        )

    async def stats_json(_: web.Request) -> web.Response:
        return web.json_response(stats(rec.snapshot()))

    application = web.Application()
    application.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics),
            web.get("/stats", stats_json),
        ]
    )
    return application


async def serve(rec: Reconciler, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app(rec), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
