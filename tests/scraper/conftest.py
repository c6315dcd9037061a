"""The scraper tier: `mediajobs scrape` as a real subprocess against the fake platform.

Every run asserts that the session cookie's value appears nowhere in what the worker
printed or left in its termination message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import mediajobs
from mediajobs.api.task import TerminationMessage
from tests.scraper.fake_platform import LOGIN_MARKER, SESSION, Platform, serve

REPO_OPERATOR = Path(mediajobs.__file__).resolve().parents[1]
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    with serve() as fake:
        yield fake


def http_platform(base: str, **changes: Any) -> dict[str, Any]:
    """The fake platform as the operator config describes it, for the http adapter."""
    return {
        "adapter": "http",
        "baseUrl": base,
        "login": {"url": "/login", "markers": [LOGIN_MARKER]},
        "profile": {"path": "/u/{profile}", "postLinks": "a.post",
                    "extract": {"selectors": {"followersShown": ".followers"}}},
        "post": {"path": "/p/{postId}", "extract": {"selectors": {"views": ".views"}}},
        "upload": {"path": "/api/posts"},
        "timeoutSeconds": 20,
        "maxRetries": 2,
        "maxRetryWaitSeconds": 5,
    } | changes  # fmt: skip


JS_PROFILE = {
    "path": "/js/u/{profile}",
    "postLinks": "a.post",
    "extract": {"selectors": {"followers": ".followers", "likes": ".likes"}},
    "steps": [{"goto": "/js/u/{profile}"}, {"waitFor": ".followers"}, {"extract": True}],
}


def browser_platform(base: str, **changes: Any) -> dict[str, Any]:
    return http_platform(base, adapter="browser", profile=JS_PROFILE) | changes


def cookies_json(value: str = SESSION, expires: float | None = None) -> str:
    cookie = {"name": "sid", "value": value, "path": "/", "httpOnly": True,
              "expires": expires if expires is not None else time.time() + 3600}  # fmt: skip
    return json.dumps({"cookies": [cookie], "origins": []})


@dataclass
class Run:
    code: int
    message: TerminationMessage
    stdout: str
    stderr: str

    @property
    def data(self) -> dict[str, Any]:
        assert self.code == 0, (self.message.error, self.stderr[-2000:])
        assert self.message.result is not None and self.message.result.data is not None
        return self.message.result.data

    @property
    def error(self) -> str:
        assert self.code != 0, "the scraper succeeded"
        assert self.message.error is not None
        return self.message.error


Scrape = Callable[..., Run]


@pytest.fixture
def scrape(tmp_path: Path) -> Scrape:
    """Run `python -m mediajobs.scraper` on one task; the cookies file is written first
    (cookies=None: no file at all); ON_START is called with the running process."""
    media = tmp_path / "media"
    media.mkdir(exist_ok=True)

    def run(
        operation: str,
        platform_config: dict[str, Any] | None,
        *,
        params: dict[str, Any] | None = None,
        inputs: list[dict[str, str]] | None = None,
        cookies: str | None = cookies_json(),
        on_start: Callable[[subprocess.Popen[str]], None] | None = None,
        **fields: Any,
    ) -> Run:
        cookie_file = tmp_path / "session" / "cookies.json"
        cookie_file.parent.mkdir(exist_ok=True)
        cookie_file.unlink(missing_ok=True)
        if cookies is not None:
            cookie_file.write_text(cookies)
        name = f"s-{uuid.uuid4().hex[:8]}"
        task = {
            "uid": str(uuid.uuid4()), "namespace": "scraper-tests", "name": name,
            "operation": operation, "params": params or {}, "inputs": inputs or [],
            "output": {"prefix": f"out/{name}"}, "mediaRoot": str(media),
            "scratchDir": str(tmp_path), "creatorProfile": "alice", "platform": "fakeplace",
            "platformConfig": platform_config, "cookiesFile": str(cookie_file),
            "allowPrivateUrls": True,
        } | fields  # fmt: skip
        termination = tmp_path / f"{name}.termination"
        path = os.pathsep.join(filter(None, [str(REPO_OPERATOR), os.environ.get("PYTHONPATH")]))
        env = os.environ | {
            "MEDIAJOB_TASK": json.dumps({k: v for k, v in task.items() if v is not None}),
            "MEDIAJOB_TERMINATION_LOG": str(termination),
            "PYTHONPATH": path,
        }
        with subprocess.Popen(
            [sys.executable, "-m", "mediajobs.scraper"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ) as proc:  # fmt: skip
            if on_start is not None:
                on_start(proc)
            stdout, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
        text = termination.read_text()
        for where, said in (("stdout", stdout), ("stderr", stderr), ("message", text)):
            assert SESSION not in said, f"the session cookie leaked into the {where}"
        return Run(proc.returncode, TerminationMessage.model_validate_json(text), stdout, stderr)

    return run


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    root.mkdir(exist_ok=True)
    return root
