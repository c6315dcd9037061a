"""Metrics and facts from a page: JSON-LD, OpenGraph, CSS selectors, JSON fields. Pure.

HTML is parsed with selectolax's Lexbor engine: the HTML5 parsing algorithm browsers
use (so a page reads the same here as in Chromium), real CSS selectors, a compiled
parser with no dependencies, typed. BeautifulSoup's built-in parser is not an HTML5
parser, and lxml's is libxml2's HTML 4 one.

What comes out (:class:`Extracted`): ``metrics`` (counts as numbers: "1.2K" is 1200;
other text as text), ``meta`` (the page's og:* and JSON-LD name, url, dates) and
``post_ids`` (the profile's posts, in page order, each once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from mediajobs.api.platform import Extraction
from mediajobs.worker.errors import InvalidInput

Metric = int | float | str

# schema.org interaction types -> metric names (InteractionCounter.interactionType).
INTERACTIONS = {
    "LikeAction": "likes",
    "CommentAction": "comments",
    "ShareAction": "shares",
    "WatchAction": "views",
    "ViewAction": "views",
    "FollowAction": "followers",
    "SubscribeAction": "subscribers",
    "WriteAction": "posts",
    "BookmarkAction": "bookmarks",
}
# Plain schema.org count properties.
COUNT_PROPERTIES = {"commentCount": "comments", "interactionCount": "interactions"}
META_PROPERTIES = ("name", "headline", "url", "identifier", "datePublished", "dateModified")
MAX_TEXT = 500  # a metric or meta value longer than this is cut

_COUNT = re.compile(r"^\s*([0-9][0-9,\u202f\u00a0 ]*(?:\.[0-9]+)?)\s*([kKmMbB])?\b")
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


@dataclass
class Extracted:
    metrics: dict[str, Metric] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    post_ids: list[str] = field(default_factory=list)

    def merge(self, other: Extracted) -> None:
        self.metrics |= other.metrics
        self.meta |= other.meta
        self.post_ids = list(dict.fromkeys([*self.post_ids, *other.post_ids]))


def parse_count(text: str) -> int | float | None:
    """A count as a page writes it ("1,234", "1.2K", "3M followers"); None if it is none."""
    found = _COUNT.match(text)
    if found is None:
        return None
    digits = re.sub(r"[,\u202f\u00a0 ]", "", found[1])
    number = float(digits) * _SCALE.get((found[2] or "").lower(), 1)
    return int(number) if number.is_integer() else number


def metric(value: object) -> Metric | None:
    """A JSON or text value as a metric: numbers stay, text that starts with a count is
    counted, other text stays text."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return value
    text = " ".join(str(value).split())
    if not text:
        return None
    count = parse_count(text)  # "1,204 views" is a count; "Post p1" is text
    return count if count is not None else text[:MAX_TEXT]


# ---------------------------------------------------------------- JSON-LD


def _nodes(doc: object) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object in DOC: lists, @graph and nested objects walked."""
    if isinstance(doc, list):
        for item in doc:
            yield from _nodes(item)
    elif isinstance(doc, dict):
        yield doc
        for value in doc.values():
            if isinstance(value, dict | list):
                yield from _nodes(value)


def _interaction(kind: object) -> str | None:
    if isinstance(kind, dict):
        kind = kind.get("@type")
    if not isinstance(kind, str):
        return None
    return INTERACTIONS.get(kind.rstrip("/").rsplit("/", 1)[-1])


def json_ld(docs: list[object]) -> Extracted:
    """The counts (interactionStatistic, commentCount) and facts of JSON-LD DOCS.

    The first object with a fact wins: the page's main entity comes first.
    """
    out = Extracted()
    for node in (n for doc in docs for n in _nodes(doc)):
        stats = node.get("interactionStatistic")
        for stat in stats if isinstance(stats, list) else [stats]:
            if isinstance(stat, dict):
                name = _interaction(stat.get("interactionType"))
                count = metric(stat.get("userInteractionCount"))
                if name and isinstance(count, int | float):
                    out.metrics.setdefault(name, count)
        for prop, name in COUNT_PROPERTIES.items():
            count = metric(node.get(prop))
            if isinstance(count, int | float):
                out.metrics.setdefault(name, count)
        for prop in META_PROPERTIES:
            value = node.get(prop)
            if isinstance(value, str | int) and not isinstance(value, bool):
                out.meta.setdefault(prop, str(value)[:MAX_TEXT])
    return out


# ---------------------------------------------------------------- HTML


def _parse_selector(spec: str) -> tuple[str, str | None]:
    """'a.permalink@href' -> ('a.permalink', 'href'); 'span.likes' -> ('span.likes', None)."""
    selector, _, attribute = spec.rpartition("@")
    if selector and re.fullmatch(r"[A-Za-z_:][-\w:.]*", attribute):
        return selector, attribute
    return spec, None


def _select(tree: LexborHTMLParser, spec: str) -> list[str]:
    selector, attribute = _parse_selector(spec)
    try:
        nodes = tree.css(selector)
    except (SelectolaxError, ValueError) as err:
        raise InvalidInput(f"platform config: bad CSS selector {selector!r}") from err
    if attribute is None:
        return [node.text(separator=" ", strip=True) for node in nodes]
    return [value for node in nodes if (value := node.attributes.get(attribute)) is not None]


def _ld_docs(tree: LexborHTMLParser) -> list[object]:
    docs: list[object] = []
    for script in tree.css('script[type="application/ld+json"]'):
        try:
            docs.append(json.loads(script.text(deep=True) or "null"))
        except json.JSONDecodeError:
            continue  # a page's broken JSON-LD is its own; the other sources may still say
    return docs


def _open_graph(tree: LexborHTMLParser) -> dict[str, str]:
    meta: dict[str, str] = {}
    for node in tree.css("meta[property^='og:'], meta[name^='og:']"):
        key = node.attributes.get("property") or node.attributes.get("name") or ""
        content = node.attributes.get("content")
        if content is not None:
            meta.setdefault(key, content[:MAX_TEXT])
    return meta


def post_id_of(link: str) -> str | None:
    """The post id a link names: its path's last segment ('/p/abc123/' -> 'abc123')."""
    segment = unquote(urlsplit(link).path.rstrip("/").rpartition("/")[2])
    return segment or None


def from_html(html: str, extraction: Extraction, post_links: str | None = None) -> Extracted:
    """What EXTRACTION reads from HTML (and POST_LINKS, the profile's posts)."""
    tree = LexborHTMLParser(html)
    out = json_ld(_ld_docs(tree)) if extraction.json_ld else Extracted()
    if extraction.open_graph:
        out.meta |= _open_graph(tree)
    for name, spec in extraction.selectors.items():
        found = next((m for text in _select(tree, spec) if (m := metric(text)) is not None), None)
        if found is not None:
            out.metrics[name] = found
    if post_links is not None:
        ids = (post_id_of(link) for link in _select(tree, _with_href(post_links)))
        out.post_ids = list(dict.fromkeys(i for i in ids if i))
    return out  # extraction.fields read JSON bodies only


def _with_href(spec: str) -> str:
    return spec if _parse_selector(spec)[1] is not None else f"{spec}@href"


# ---------------------------------------------------------------- JSON


def lookup(doc: object, path: str) -> object:
    """The value at the dotted PATH in DOC ('data.posts.0.id'); None when absent."""
    value = doc
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _id(item: object) -> str | None:
    if isinstance(item, dict):
        item = item.get("id")
    if isinstance(item, str | int) and not isinstance(item, bool):
        return str(item)
    return None


def from_json(text: str, extraction: Extraction, post_links: str | None = None) -> Extracted:
    """What EXTRACTION's fields read from a JSON body (POST_LINKS: the path of the posts'
    list, of ids or of objects with an ``id``)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInput(f"the platform's answer is not JSON: {err.msg}") from err
    out = json_ld([doc]) if extraction.json_ld else Extracted()
    for name, path in extraction.fields.items():
        value = metric(lookup(doc, path))
        if value is not None:
            out.metrics[name] = value
    if post_links is not None:
        listed = lookup(doc, post_links)
        ids = (_id(item) for item in (listed if isinstance(listed, list) else []))
        out.post_ids = list(dict.fromkeys(i for i in ids if i))
    return out
