"""The ``http`` adapter: pages over httpx with the session's cookies, parsed here.

Redirects are followed by hand (at most 5), each checked first: one to the login page
means logged out and is not followed. Every connection goes to a vetted address
(guard.py); the Cookie header is made per request for that request's URL (cookies.py),
so a redirect to another host never carries the platform's cookies. No proxy from the
environment (it would bypass the address check). httpx's own request log is silenced:
this module logs only what it did, never a header.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urljoin

import httpx

from mediajobs.api.platform import Page, Upload
from mediajobs.scraper.adapter import MAX_BODY_BYTES, MAX_REDIRECTS, Context, Post
from mediajobs.scraper.cookies import cookie_header
from mediajobs.scraper.extract import Extracted, from_html, from_json
from mediajobs.scraper.guard import VettedTransport
from mediajobs.scraper.responses import check_answer, check_redirect
from mediajobs.scraper.retry import with_retries
from mediajobs.scraper.urls import page_url
from mediajobs.worker.download import check_url
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, redact_url

log = logging.getLogger("mediajobs.scraper")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})

for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class HttpAdapter:
    def __init__(self, context: Context) -> None:
        self._ctx = context
        platform = context.platform
        self._client = httpx.Client(
            transport=VettedTransport(context.allow_private),
            timeout=platform.timeout_seconds,
            headers={"User-Agent": platform.user_agent},
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self._client.close()

    def _body(self, response: httpx.Response) -> bytes:
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise InvalidInput(
                    f"{self._ctx.platform_name}'s answer is over {MAX_BODY_BYTES} bytes"
                )
        return bytes(body)

    def _send(self, request: httpx.Request) -> tuple[httpx.Response, str]:
        """One request and its redirects: the final response and its body, checked."""
        ctx = self._ctx
        for _ in range(MAX_REDIRECTS + 1):
            url = str(request.url)
            cookies = cookie_header(ctx.cookies, url, ctx.platform.base_url)
            if cookies is not None:
                request.headers["Cookie"] = cookies
            log.info("%s %s", request.method, redact_url(url))
            try:
                response = self._client.send(request, stream=True)
                try:
                    location = response.headers.get("Location")
                    if response.status_code in _REDIRECTS and location:
                        target = urljoin(url, location)
                        check_redirect(ctx.platform_name, ctx.platform, target)
                        check_url(target)
                        # 303, and any redirect of a POST, continue as a GET (as browsers do).
                        request = self._client.build_request("GET", target)
                        continue
                    body = self._body(response).decode(response.encoding or "utf-8", "replace")
                finally:
                    response.close()
            except httpx.TransportError as err:
                reason = type(err).__name__
                raise TemporaryFailure(
                    f"{ctx.platform_name} unreachable: {reason} ({redact_url(url)})"
                ) from err
            check_answer(
                ctx.platform_name,
                ctx.platform,
                status=response.status_code,
                url=url,
                body=body,
                retry_after_header=response.headers.get("Retry-After"),
                now=ctx.now(),
            )
            return response, body
        raise InvalidInput(f"{ctx.platform_name}: more than {MAX_REDIRECTS} redirects")

    def read(self, page: Page, values: Mapping[str, str]) -> Extracted:
        url = page_url(self._ctx.platform.base_url, page.path, values)

        def get() -> tuple[httpx.Response, str]:
            return self._send(self._client.build_request("GET", url))

        _, body = with_retries(get, self._ctx.platform)
        if page.format == "json":
            return from_json(body, page.extract, page.post_links)
        return from_html(body, page.extract, page.post_links)

    def publish(
        self, upload: Upload, media: Path, post: Post, values: Mapping[str, str]
    ) -> Extracted:
        url = page_url(self._ctx.platform.base_url, upload.path, values)
        form: list[tuple[str, str]] = [(upload.caption_field, post.caption)]
        form += [(upload.tags_field, tag) for tag in post.tags]
        if post.publish_at is not None:
            form.append((upload.publish_at_field, post.publish_at))

        def send() -> tuple[httpx.Response, str]:
            with media.open("rb") as f:
                files = {upload.file_field: (media.name, f, "application/octet-stream")}
                request = self._client.build_request("POST", url, data=dict(_grouped(form)),
                                                     files=files)  # fmt: skip
                return self._send(request)

        _, body = with_retries(send, self._ctx.platform)
        return from_json(body, upload.result)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Form pairs as httpx's ``data`` takes them: a repeated field as a list."""
    out: dict[str, str | list[str]] = {}
    for key, value in pairs:
        previous = out.get(key)
        if previous is None:
            out[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            out[key] = [previous, value]
    return out
