"""The models refuse what the CRD refuses: paths, URLs and text a user writes.

The API server's half of each rule is tested by applying the same values to a
real API server (tests/integration/test_api_validation.py); HOSTILE_PATHS and
HOSTILE_URLS are shared with it so the two sides see the same strings.
"""

from __future__ import annotations

import codecs
import re
import sys
from typing import Any

import pytest
from pydantic import ValidationError

from mediajobs.api.hitl import HitlSessionSpec
from mediajobs.api.mediajob import ContainerSpec, InputRef, MediaJobSpec, OutputRef
from mediajobs.api.strings import (
    CONTROL,
    CONTROL_BUT_LINES,
    SPACE,
    Ranges,
    cel_literal,
    char_class,
)
from mediajobs.catalog import parse_params
from tests.hostile import HOSTILE_PATHS, HOSTILE_URLS, NO_CONTROL


def _refused(build: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as err:
        build(*args, **kwargs)
    return str(err.value)


@pytest.mark.parametrize(("path", "why"), HOSTILE_PATHS, ids=[repr(p) for p, _ in HOSTILE_PATHS])
def test_every_path_field_refuses_a_hostile_path(path: str, why: str) -> None:
    for build in (
        lambda: InputRef(path=path),
        lambda: OutputRef(path=path),
        lambda: OutputRef(prefix=path),
        lambda: parse_params("apply_watermark", {"image": path}),
        lambda: MediaJobSpec.model_validate(
            {"operation": "compile_concat", "inputs": [{"path": "a.mp4"}, {"path": path}]}
        ),
    ):
        assert why in _refused(build)


@pytest.mark.parametrize(
    "path",
    [
        "library/alice/clip.mp4",
        "a b/c d.mp4",  # spaces are fine in a file name
        "a..b/..c/d..",  # dots that are not a '..' segment
        "./clip.mp4",
        "famille/\U0001f468\u200d\U0001f469\u200d\U0001f467.jpg",  # ZWJ emoji stays allowed
        "x" * 1024,
    ],
)
def test_ordinary_paths_pass(path: str) -> None:
    assert InputRef(path=path).path == path
    assert OutputRef(prefix=path).prefix == path


@pytest.mark.parametrize(("url", "why"), HOSTILE_URLS, ids=[repr(u) for u, _ in HOSTILE_URLS])
def test_a_hostile_url_is_refused(url: str, why: str) -> None:
    assert why in _refused(InputRef, url=url)


def test_ordinary_urls_pass() -> None:
    for url in ("https://cdn.example.com/a%20b.mp4?sig=x#t=3", "HTTP://example.com"):
        assert InputRef(url=url).url == url


def test_free_text_may_span_lines_but_holds_no_other_control() -> None:
    caption = "first line\n\tsecond line\r\n"
    assert parse_params("publish_post", {"caption": caption}).caption == caption  # type: ignore[attr-defined]
    assert NO_CONTROL in _refused(parse_params, "publish_post", {"caption": "a\x00b"})
    assert NO_CONTROL in _refused(parse_params, "publish_post", {"caption": "a\x1b[31mred"})
    assert NO_CONTROL in _refused(HitlSessionSpec.model_validate, _hitl(alertMessage="\u202e"))


def test_one_line_fields_refuse_newlines() -> None:
    assert NO_CONTROL in _refused(parse_params, "apply_watermark", {"text": "a\nb"})
    assert NO_CONTROL in _refused(
        parse_params, "apply_steganographic_watermark", {"fanId": "fan\x00"}
    )
    assert NO_CONTROL in _refused(parse_params, "publish_post", {"tags": ["ok", "a\rb"]})


def test_tokens_refuse_whitespace_and_lists_their_item_length() -> None:
    assert "whitespace" in _refused(parse_params, "scrape_post_performance", {"postIds": ["1 2"]})
    assert "at most 128" in _refused(
        parse_params, "scrape_post_performance", {"postIds": ["x" * 129]}
    )
    assert "whitespace" in _refused(ContainerSpec, image="busybox latest")
    assert "at most 4096" in _refused(ContainerSpec, image="busybox", args=["x" * 4097])


def test_the_custom_container_gets_anything_but_nul() -> None:
    """argv and environ are the user's business (escape codes and all); execve takes no NUL."""
    assert ContainerSpec(
        image="busybox", args=["\x1b[31m", "a\nb"], env=[{"name": "PS1", "value": "\x1b$ "}]
    )
    assert "NUL" in _refused(ContainerSpec, image="busybox", args=["a\x00b"])
    assert "NUL" in _refused(ContainerSpec, image="busybox", command=["\x00"])
    assert "NUL" in _refused(ContainerSpec, image="busybox", env=[{"name": "X", "value": "\x00"}])


def test_secret_references_are_kubernetes_names() -> None:
    bad = {"name": "X", "valueFrom": {"secretKeyRef": {"name": "Bad_Name", "key": "k"}}}
    assert "pattern" in _refused(ContainerSpec, image="busybox", env=[bad])
    bad_key = _hitl(credentialsSecretRef={"name": "cookies", "key": "a/b"})
    assert "pattern" in _refused(HitlSessionSpec.model_validate, bad_key)


def test_ttl_after_finished_stays_within_what_a_date_can_hold() -> None:
    base = {"operation": "validate", "input": {"path": "a.mp4"}}
    assert MediaJobSpec.model_validate({**base, "ttlSecondsAfterFinished": 2**31 - 1})
    assert "less than or equal" in _refused(
        MediaJobSpec.model_validate, {**base, "ttlSecondsAfterFinished": 2**31}
    )


@pytest.mark.parametrize(
    "ranges", [CONTROL, CONTROL_BUT_LINES, (*CONTROL, *SPACE)], ids=["control", "lines", "space"]
)
def test_a_character_class_refuses_exactly_its_ranges(ranges: Ranges) -> None:
    pattern = re.compile(char_class(ranges))
    refused = {c for c in range(sys.maxunicode + 1) if pattern.match(chr(c))}
    assert refused == {c for lo, hi in ranges for c in range(lo, hi + 1)}


def test_cel_literals_are_ascii_and_decode_to_the_text() -> None:
    """CEL's string escapes are Python's, so unicode_escape reads what CEL will read."""
    for text in (char_class((*CONTROL, *SPACE)), "it's a \\ \U0001f468 \x00"):
        literal = cel_literal(text)
        assert literal.isascii() and literal.isprintable()
        assert "'" not in literal.replace("\\'", "")
        assert codecs.decode(literal, "unicode_escape") == text


def _hitl(**spec: Any) -> dict[str, Any]:
    base = {"creatorProfile": "alice", "platform": "onlyfans", "sessionType": "login_required"}
    return base | spec
