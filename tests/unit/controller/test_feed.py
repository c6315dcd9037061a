"""Server-Sent Events framing and the web view's feed: one board, diffs, slow pages."""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson
import pytest

from mediajobs.controller.feed import KEEPALIVE, QUEUE_FRAMES, Feed, Viewer
from mediajobs.controller.sse import comment, frame, retry
from mediajobs.controller.webview import feed_of
from tests.builders import mediajob
from tests.fakes.clock import FakeClock
from tests.unit.controller.world import world


def parse(stream: bytes) -> list[tuple[str, Any]]:
    """The events in STREAM as EventSource reads them: (event name, decoded JSON data)."""
    out = []
    for block in stream.decode().split("\n\n"):
        fields = [line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")]
        names = [v for k, v in fields if k == "event"]
        data = "\n".join(v for k, v in fields if k == "data")
        if names:
            out.append((names[0], orjson.loads(data)))
    return out


def test_frames_follow_the_event_stream_format() -> None:
    assert frame("diff", '{"a":1}') == b'event: diff\ndata: {"a":1}\n\n'
    # A line break in the payload must not end the event early, nor start a field.
    assert frame("board", "one\ntwo\r\nevent: x") == (
        b"event: board\ndata: one\ndata: two\ndata: event: x\n\n"
    )
    assert comment("keep-alive") == b": keep-alive\n\n"
    assert retry(2000) == b"retry: 2000\n\n"
    with pytest.raises(ValueError, match="not an event name"):
        frame("bad\nevent", "{}")


class Source:
    def __init__(self) -> None:
        self.board: dict[str, Any] = {
            "ready": True, "categories": [], "pools": [], "failures": [], "banners": [],
            "jobs": {"ns/a": {"id": "ns/a", "progress": 1}},
        }  # fmt: skip
        self.builds = 0

    def __call__(self) -> dict[str, Any]:
        self.builds += 1
        return orjson.loads(orjson.dumps(self.board))  # a fresh copy, as a real build is

    def progress(self, value: int) -> None:
        self.board["jobs"]["ns/a"]["progress"] = value


def test_pages_get_the_whole_board_then_diffs_built_once_for_all() -> None:
    source = Source()
    feed = Feed(source, FakeClock(), 0.5)
    first, second = feed.join(), feed.join()
    assert source.builds == 1  # the second page gets the board as built for the first
    assert parse(feed.whole())[0] == ("board", source.board)

    feed.tick()  # nothing moved: nothing sent
    assert not first.frames
    source.progress(50)
    feed.tick()
    sent = first.take(feed.whole)
    assert sent is second.frames[0]  # encoded once
    assert parse(sent) == [("diff", {"upsert": [{"id": "ns/a", "progress": 50}]})]

    feed.leave(first)
    feed.leave(second)
    source.progress(70)
    late = feed.join()  # nobody watched meanwhile: built afresh, not a stale board
    assert parse(feed.whole())[0][1]["jobs"]["ns/a"]["progress"] == 70
    assert not late.frames


def test_a_slow_page_drops_its_backlog_for_the_latest_board() -> None:
    source = Source()
    feed = Feed(source, FakeClock(), 0.5)
    slow = feed.join()
    for value in range(2, QUEUE_FRAMES + 3):
        source.progress(value)
        feed.tick()
    assert slow.stale and not slow.frames  # bounded: its backlog is gone
    latest = parse(slow.take(feed.whole))
    assert latest == [("board", source.board)]
    source.progress(99)
    feed.tick()
    assert parse(slow.take(feed.whole)) == [("diff", {"upsert": [{"id": "ns/a", "progress": 99}]})]


async def test_an_idle_page_gets_a_keepalive() -> None:
    viewer = Viewer()
    assert await viewer.next(lambda: b"", idle=0.01) == KEEPALIVE
    viewer.offer(b"x")
    viewer.offer(b"y")
    assert await viewer.next(lambda: b"", idle=0.01) == b"xy"


def test_the_board_is_built_again_only_when_it_may_have_changed() -> None:
    source, revision = Source(), [0]
    feed = Feed(source, FakeClock(), 0.5, lambda: revision[0])
    page = feed.join()
    source.progress(30)
    feed.tick()
    assert (source.builds, page.frames) == (1, deque())  # the same revision: not built
    revision[0] += 1
    feed.tick()
    assert source.builds == 2
    assert parse(page.take(feed.whole)) == [("diff", {"upsert": [{"id": "ns/a", "progress": 30}]})]


async def test_the_feed_follows_what_the_operator_holds() -> None:
    async with world(limits={"cpu": {"maxRunning": 1}}) as w:
        await w.submit(mediajob("run"), mediajob("next"))
        feed = feed_of(w.rec)
        page = feed.join()
        [(_, board)] = parse(feed.whole())
        shown = {k: (r["group"], r["pos"]) for k, r in board["jobs"].items()}
        assert shown == {"ns/run": ("running", None), "ns/next": ("waiting", 1)}
        feed.tick()
        assert not page.frames  # nothing happened since
        await w.end_job("run")
        feed.tick()
        [(_, change)] = parse(page.take(feed.whole))
        assert [(r["name"], r["group"]) for r in change["upsert"]] == [("next", "running")]
        assert change["remove"] == ["ns/run"]
