"""Extraction from pages and JSON bodies: pure functions over text."""

from __future__ import annotations

import json

import pytest

from mediajobs.api.platform import Extraction
from mediajobs.scraper.extract import from_html, from_json, lookup, parse_count, post_id_of
from mediajobs.worker.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("1,234", 1234),
        ("12.3K followers", 12300),
        ("1.5M", 1_500_000),
        ("2b", 2_000_000_000),
        ("1\u202f204 views", 1204),
        ("0.5", 0.5),
        ("42", 42),
        ("Post p1", None),
        ("", None),
    ],
)
def test_parse_count(text: str, count: float | None) -> None:
    assert parse_count(text) == count


def _ld(doc: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(doc)}</script>'


def test_json_ld_interaction_statistics_and_facts() -> None:
    page = _ld({
        "@graph": [
            {"@type": "SocialMediaPosting", "headline": "Hello", "commentCount": "12",
             "interactionStatistic": {"interactionType": "http://schema.org/LikeAction",
                                      "userInteractionCount": 9}},
            {"@type": "Person", "name": "Second", "interactionStatistic": [
                {"interactionType": {"@type": "WatchAction"}, "userInteractionCount": "1.2K"},
                {"interactionType": "https://schema.org/LikeAction", "userInteractionCount": 1},
                {"interactionType": "https://schema.org/UnknownAction", "userInteractionCount": 3},
            ]},
        ]
    })  # fmt: skip
    found = from_html(page + "<script type='application/ld+json'>{broken</script>", Extraction())
    # The first object says first (the main entity); unknown interactions are left out.
    assert found.metrics == {"likes": 9, "comments": 12, "views": 1200}
    assert found.meta == {"headline": "Hello", "name": "Second"}


def test_open_graph_and_selectors_with_attributes() -> None:
    page = """<html><head><meta property="og:title" content="T"><meta name="og:image"
    content="https://cdn.example/a.jpg"><meta property="og:empty"></head><body>
    <span class="n">  3.4K  </span><span class="n">9</span><a class="p" href="/p/x1/">x</a>
    <a class="p" href="https://example/p/x2?ref=1">y</a><a class="p" href="/p/x1">again</a>
    <b class="state">live now</b></body></html>"""
    extraction = Extraction(selectors={"n": ".n", "state": "b.state", "link": "a.p@href",
                                       "none": ".absent"})  # fmt: skip
    found = from_html(page, extraction, post_links="a.p")
    assert found.metrics == {"n": 3400, "state": "live now", "link": "/p/x1/"}
    assert found.meta == {"og:title": "T", "og:image": "https://cdn.example/a.jpg"}
    assert found.post_ids == ["x1", "x2"]


def test_sources_can_be_switched_off() -> None:
    page = '<meta property="og:title" content="T">' + _ld({"commentCount": 1})
    assert from_html(page, Extraction(json_ld=False, open_graph=False)).metrics == {}


def test_a_bad_selector_is_a_config_error() -> None:
    with pytest.raises(InvalidInput, match=r"platform config: bad CSS selector 'a\[\['"):
        from_html("<a></a>", Extraction(selectors={"x": "a[["}))


def test_json_fields_and_post_lists() -> None:
    body = json.dumps({"data": {"stats": [{"v": "2K"}, {"v": 3}], "flag": True,
                                "posts": [{"id": 7}, "b", {"no": 1}, "b"]}})  # fmt: skip
    extraction = Extraction(fields={"first": "data.stats.0.v", "second": "data.stats.1.v",
                                    "flag": "data.flag", "gone": "data.stats.5.v"})  # fmt: skip
    found = from_json(body, extraction, post_links="data.posts")
    assert found.metrics == {"first": 2000, "second": 3}
    assert found.post_ids == ["7", "b"]
    assert lookup({"a": [1]}, "a.x") is None
    with pytest.raises(InvalidInput, match="not JSON"):
        from_json("<html>", extraction)


@pytest.mark.parametrize(
    ("link", "post_id"),
    [("/p/abc/", "abc"), ("https://x.example/p/a%20b?x=1#c", "a b"), ("/", None)],
)
def test_post_id_of(link: str, post_id: str | None) -> None:
    assert post_id_of(link) == post_id
