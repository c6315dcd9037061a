"""A fake social platform on 127.0.0.1 (or HOST: the e2e tests' pods reach it on the node's
veth): real HTTP, served from a thread, every request kept.

Logged in means the ``sid`` cookie holds :data:`SESSION` (``EXPIRED_SESSION`` is one the
platform has revoked: it redirects to /login like a missing one). Pages:

- ``/u/<profile>``: a profile with JSON-LD (followers, posts), OpenGraph, a
  ``.followers`` count written "12.3K" and links to three posts; ``/p/<id>``: a post
  with JSON-LD likes/comments/shares and OpenGraph.
- ``/js/u/<profile>``: the same facts written into the page only by JavaScript.
- ``/api/users/<profile>``: JSON; ``POST /api/posts``: a multipart upload answered with
  ``{"id", "url"}``; ``/upload``: a form that posts it from JavaScript.
- ``/walled/u/<profile>``: 200 with a "Log in to continue" page; ``/forbidden/...``: 403.
- ``/echo``: a page that writes the Cookie header it got into its og:description.
- ``/slow``: answers only when the server stops (a platform that hangs).
- ``limit(prefix, times, retry_after)``: the next TIMES requests under PREFIX get a 429.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.cookies import SimpleCookie
from typing import Any

SESSION = "sess-7f3a9c2e1b5d4f60a8e2c9d1"  # the cookie value that must never be shown
EXPIRED_SESSION = "sess-revoked-0000"
LOGIN_MARKER = "Log in to continue"
RUN_LIMIT_S = 120  # how long /slow hangs at most


@dataclass
class Seen:
    at: float  # time.monotonic()
    method: str
    path: str
    cookie: str | None


@dataclass
class Platform:
    base: str = ""
    requests: list[Seen] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)

    def limit(self, prefix: str, times: int, retry_after: int) -> None:
        with self.lock:
            self.limits[prefix] = (times, retry_after)

    def seen(self, prefix: str) -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]


def _profile_html(profile: str, base: str) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "ProfilePage",
        "mainEntity": {
            "@type": "Person",
            "name": profile.title(),
            "identifier": profile,
            "interactionStatistic": [
                {"@type": "InteractionCounter", "interactionType": "https://schema.org/FollowAction",
                 "userInteractionCount": 12345},
                {"@type": "InteractionCounter", "interactionType": "https://schema.org/WriteAction",
                 "userInteractionCount": 3},
            ],
        },
    }  # fmt: skip
    links = "".join(f'<a class="post" href="/p/{i}">post {i}</a>' for i in ("p1", "p2", "p3"))
    return f"""<!doctype html><html><head>
<meta property="og:title" content="{profile} on Fakeplace">
<meta property="og:url" content="{base}/u/{profile}">
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><h1>{profile}</h1><span class="followers">12.3K followers</span>{links}</body></html>"""


def _post_html(post_id: str, base: str) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "SocialMediaPosting",
        "headline": f"Post {post_id}",
        "datePublished": "2026-11-30T12:00:00Z",
        "interactionStatistic": [
            {"@type": "InteractionCounter", "interactionType": {"@type": "LikeAction"},
             "userInteractionCount": 42},
            {"@type": "InteractionCounter", "interactionType": "https://schema.org/ShareAction",
             "userInteractionCount": 7},
        ],
        "commentCount": 5,
    }  # fmt: skip
    return f"""<!doctype html><html><head>
<meta property="og:url" content="{base}/p/{post_id}">
<meta property="og:type" content="article">
<script type="application/ld+json">{json.dumps(ld)}</script></head>
<body><p class="views">1,204 views</p></body></html>"""


_JS_PROFILE = """<!doctype html><html><head><title>loading</title></head>
<body><div id="app">Loading...</div>
<script>
setTimeout(function () {
  document.getElementById('app').innerHTML =
    '<span class="followers">777</span><span class="likes">1.5K</span>' +
    '<a class="post" href="/p/j1">j1</a><a class="post" href="/p/j2">j2</a>';
}, 50);
</script></body></html>"""

_UPLOAD_FORM = """<!doctype html><html><body>
<form id="f"><input type="file" id="media" name="media"><textarea id="caption"></textarea>
<button id="send" type="button">Publish</button></form><div id="done"></div>
<script>
document.getElementById('send').onclick = async function () {
  const data = new FormData();
  data.append('media', document.getElementById('media').files[0]);
  data.append('caption', document.getElementById('caption').value);
  const answer = await (await fetch('/api/posts', {method: 'POST', body: data})).json();
  document.getElementById('done').innerHTML = '<span id="post-id">' + answer.id + '</span>' +
    '<a class="permalink" href="' + answer.url + '">view</a>';
};
</script></body></html>"""

_LOGIN = f"<!doctype html><html><body><h1>{LOGIN_MARKER}</h1><form></form></body></html>"


class _Handler(http.server.BaseHTTPRequestHandler):
    platform: Platform

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _session(self) -> str | None:
        raw = self.headers.get("Cookie")
        if raw is None:
            return None
        morsel = SimpleCookie(raw).get("sid")
        return morsel.value if morsel is not None else None

    def _reply(self, status: int, body: str, content_type: str = "text/html; charset=utf-8",
               headers: dict[str, str] | None = None) -> None:  # fmt: skip
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> bool:
        """Keep the request; answer a 429 (and return False) when a limit says so."""
        p = self.platform
        with p.lock:
            p.requests.append(Seen(time.monotonic(), self.command, self.path,
                                   self.headers.get("Cookie")))  # fmt: skip
            for prefix, (times, wait) in p.limits.items():
                if self.path.startswith(prefix) and times > 0:
                    p.limits[prefix] = (times - 1, wait)
                    self._reply(429, "slow down", headers={"Retry-After": str(wait)})
                    return False
        return True

    def _logged_in(self) -> bool:
        if self._session() == SESSION:
            return True
        self.send_response(302)
        self.send_header("Location", "/login?next=" + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_GET(self) -> None:
        if not self._record():
            return
        path = self.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if path == "/login" or parts[0] == "walled":
            self._reply(200, _LOGIN)
        elif parts[0] == "forbidden":
            self._reply(403, "no")
        elif path == "/slow":
            self.platform.stopping.wait(RUN_LIMIT_S)
            self._reply(503, "too late")
        elif path == "/echo":
            cookie = self.headers.get("Cookie", "")
            self._reply(200, f'<html><head><meta property="og:description" content="{cookie}">'
                             "</head><body></body></html>")  # fmt: skip
        elif self._logged_in():
            self._member_page(path, parts)

    def _member_page(self, path: str, parts: list[str]) -> None:
        base = self.platform.base
        if path == "/upload":
            self._reply(200, _UPLOAD_FORM)
        elif parts[:1] == ["u"] and len(parts) == 2:
            self._reply(200, _profile_html(parts[1], base))
        elif parts[:1] == ["p"] and len(parts) == 2:
            self._reply(200, _post_html(parts[1], base))
        elif parts[:2] == ["js", "u"]:
            self._reply(200, _JS_PROFILE)
        elif parts[:2] == ["api", "users"] and len(parts) == 3:
            doc = {"data": {"user": {"name": parts[2], "followers": 999, "following": "1.1K",
                                     "posts": [{"id": "a1"}, {"id": "a2"}]}}}  # fmt: skip
            self._reply(200, json.dumps(doc), "application/json")
        else:
            self._reply(404, "not here")

    def do_POST(self) -> None:
        if not self._record() or not self._logged_in():
            return
        if self.path != "/api/posts":
            self._reply(404, "not here")
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + body)
        fields: dict[str, list[Any]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if part.get_filename() is not None:
                value: Any = {"filename": part.get_filename(), "bytes": len(payload),
                              "sha256": hashlib.sha256(payload).hexdigest()}  # fmt: skip
            else:
                value = payload.decode()
            fields.setdefault(str(name), []).append(value)
        with self.platform.lock:
            post_id = f"post-{len(self.platform.uploads) + 1}"
            self.platform.uploads.append(fields)
        answer = {"id": post_id, "url": f"{self.platform.base}/p/{post_id}"}
        self._reply(201, json.dumps(answer), "application/json")


@contextmanager
def serve(host: str = "127.0.0.1") -> Iterator[Platform]:
    platform = Platform()
    handler = type("Handler", (_Handler,), {"platform": platform})
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    platform.base = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform
    finally:
        platform.stopping.set()
        server.shutdown()
        server.server_close()
