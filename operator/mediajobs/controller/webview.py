"""The read-only web view's routes: the page, its script and style, and /events.

GET only: nothing here can change a job (kubectl is the way to act). The page and
its assets are files of this package (controller/static), served from memory: no
CDN, nothing fetched from elsewhere, and a Content-Security-Policy that lets the
page load nothing but them. /events is a Server-Sent Events stream of the feed
(controller/feed.py): the whole board, then its diffs; EventSource reconnects by
itself and gets the whole board again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib.resources import files

from aiohttp import web

from mediajobs.controller.board import Rows, board
from mediajobs.controller.feed import Feed
from mediajobs.controller.reconciler import Reconciler
from mediajobs.controller.sse import retry

RECONNECT_MS = 2000
IDLE_SECONDS = 15.0  # a keep-alive comment after this long without a frame
ASSETS = {
    "/": ("index.html", "text/html"),
    "/static/board.js": ("board.js", "text/javascript"),
    "/static/board.css": ("board.css", "text/css"),
}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def feed_of(rec: Reconciler) -> Feed:
    """The feed of REC's view, queue snapshot and HitlSessions, within the config's scope."""
    settings = rec.config.web_view
    scope = frozenset(settings.namespaces)
    made = Rows()

    def source() -> dict[str, object]:
        sessions = rec.sessions.known.values()
        return board(rec.snapshot(), rec.view.records, sessions, scope, made)

    return Feed(source, rec.clock, settings.interval_seconds, lambda: rec.passes)


def _asset(name: str, content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    body = files("mediajobs.controller").joinpath("static", name).read_bytes()

    async def handler(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers=HEADERS)

    return handler


def add_routes(application: web.Application, feed: Feed) -> None:
    """The page, its assets and /events on APPLICATION; the feed ticks while it runs."""
    streams: set[asyncio.Task[object]] = set()

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                **HEADERS,
                "Content-Type": "text/event-stream; charset=utf-8",
                "X-Accel-Buffering": "no",  # nginx-style proxies must not hold frames back
            }
        )
        await response.prepare(request)
        task = asyncio.current_task()
        if task is not None:
            streams.add(task)
        viewer = feed.join()
        try:
            await response.write(retry(RECONNECT_MS) + feed.whole())
            while True:
                await response.write(await viewer.next(feed.whole, IDLE_SECONDS))
        except (ConnectionResetError, ConnectionError):
            pass  # the page went away
        finally:
            feed.leave(viewer)
            streams.discard(task)
        return response

    async def closing(_: web.Application) -> None:
        """End the streams (pages reconnect elsewhere): the server would wait for them."""
        for stream in list(streams):
            stream.cancel()

    async def ticking(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(feed.run(), name="web view feed")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    application.cleanup_ctx.append(ticking)

    async def no_icon(_: web.Request) -> web.Response:
        return web.Response(status=204)  # browsers ask; a 404 would be logged as an error

    application.on_shutdown.append(closing)
    routes = [web.get(path, _asset(*asset)) for path, asset in ASSETS.items()]
    application.add_routes([*routes, web.get("/events", events), web.get("/favicon.ico", no_icon)])
