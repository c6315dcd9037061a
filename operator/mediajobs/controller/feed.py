"""The web view's feed: one board for every open page, its changes pushed to each.

The board is built from what the operator already holds (its watches' view, the
queue snapshot, the HitlSessions it watches): a page costs the API server nothing.
While pages are open, the feed builds the board every ``interval`` seconds and, when
something moved, encodes the diff once for all of them. A new page gets the whole
board as of the last build. Each page has a bounded queue of frames: a page that
reads too slowly to keep up loses its backlog and is sent the latest whole board
instead (it cannot hold up the others, nor make the operator hold its history).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable

import orjson

from mediajobs.clock import Clock
from mediajobs.controller.board import Board, diff
from mediajobs.controller.sse import comment, frame

QUEUE_FRAMES = 16  # per page: more than this unsent, and it is sent the whole board
KEEPALIVE = comment("keep-alive")


def board_frame(board: Board) -> bytes:
    return frame("board", orjson.dumps(board).decode())


class Viewer:
    """One open page: the frames it has not been sent yet."""

    def __init__(self, limit: int = QUEUE_FRAMES) -> None:
        self.limit = limit
        self.frames: deque[bytes] = deque()
        self.stale = False  # its backlog was dropped: the next send is the whole board
        self.ready = asyncio.Event()

    def offer(self, data: bytes) -> None:
        if self.stale:
            return  # the whole board goes next anyway
        if len(self.frames) >= self.limit:
            self.frames.clear()
            self.stale = True
        else:
            self.frames.append(data)
        self.ready.set()

    def take(self, whole: Callable[[], bytes]) -> bytes:
        """What to send now: the whole board (WHOLE) if its backlog was dropped, else
        every frame waiting, in order, as one write."""
        self.ready.clear()
        if self.stale:
            self.stale = False
            return whole()
        out = b"".join(self.frames)
        self.frames.clear()
        return out

    async def next(self, whole: Callable[[], bytes], idle: float) -> bytes:
        """The next write: what is waiting, or a keep-alive after IDLE seconds of none."""
        if not self.frames and not self.stale:
            try:
                await asyncio.wait_for(self.ready.wait(), idle)
            except TimeoutError:
                return KEEPALIVE
        return self.take(whole)


class Feed:
    """SOURCE builds the board; REVISION says whether it may have changed since (the
    same value: it has not, and the board is not built again)."""

    def __init__(
        self,
        source: Callable[[], Board],
        clock: Clock,
        interval: float,
        revision: Callable[[], Hashable] = object,  # by default, always changed
    ) -> None:
        self.source, self.clock, self.interval, self.revision = source, clock, interval, revision
        self.viewers: set[Viewer] = set()
        self.board: Board | None = None
        self._built: Hashable = None  # the revision the board was built at
        self._whole: bytes | None = None  # the board's frame, encoded once when asked for

    def join(self) -> Viewer:
        if not self.viewers or self.board is None:
            self._rebuild()  # nobody was watching: what the feed holds is old
        viewer = Viewer()
        self.viewers.add(viewer)
        return viewer

    def leave(self, viewer: Viewer) -> None:
        self.viewers.discard(viewer)

    def whole(self) -> bytes:
        if self._whole is None:
            if self.board is None:
                raise RuntimeError("no board yet: a page joins first")
            self._whole = board_frame(self.board)
        return self._whole

    def tick(self) -> None:
        """Build the board again, if it may have changed; push what moved to every page."""
        revision = self.revision()
        if self.board is None or revision == self._built:
            return  # nobody has joined yet, or nothing can have changed
        self._built = revision
        new = self.source()
        change = diff(self.board, new)
        if change is None:
            return  # the same board: keep its encoded frame
        self.board, self._whole = new, None
        data = frame("diff", orjson.dumps(change).decode())
        for viewer in self.viewers:
            viewer.offer(data)

    def _rebuild(self) -> None:
        self._built = self.revision()
        self.board, self._whole = self.source(), None

    async def run(self) -> None:
        """Tick every INTERVAL seconds while pages are open (until cancelled)."""
        while True:
            await self.clock.sleep(self.interval)
            if self.viewers:
                self.tick()
