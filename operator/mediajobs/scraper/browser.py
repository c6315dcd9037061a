"""The ``browser`` adapter: Debian's Chromium, headless, driven by Playwright's sync API.

For pages that need JavaScript. No browser is downloaded: Playwright launches
``/usr/bin/chromium`` (``MEDIAJOBS_CHROMIUM`` overrides it) with a fresh profile in the
scratch directory and the flags that keep it off the network except for the page's own
requests. The session's cookies go into the browser's cookie jar (Chromium then sends
each only where its domain allows). Every request Chromium is about to send is vetted
first (guard.py: the same address rules as the http adapter); Chromium resolves the
name again itself, so unlike the http adapter this check is not pinned to the address.

Steps (api/platform.py ``Step``) run in order: goto, waitFor, click, fill, upload,
extract. A page without steps is ``goto path`` then ``extract``; an extract step is added
at the end when none is given. Each navigation is checked like an HTTP answer
(responses.py: login wall, 429 with Retry-After retried within the attempt, errors).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Request, Route, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from mediajobs.api.platform import Extraction, Page, Step, StepKind, Upload
from mediajobs.scraper.adapter import Context, Post
from mediajobs.scraper.cookies import browser_cookies
from mediajobs.scraper.errors import LoginRequired
from mediajobs.scraper.extract import Extracted, from_html
from mediajobs.scraper.guard import vet_url
from mediajobs.scraper.responses import check_answer, check_redirect, login_marker
from mediajobs.scraper.retry import with_retries
from mediajobs.scraper.urls import page_url, render
from mediajobs.worker.errors import InvalidInput, TemporaryFailure, WorkerError, redact_url

log = logging.getLogger("mediajobs.scraper")

CHROMIUM_ENV = "MEDIAJOBS_CHROMIUM"
CHROMIUM = "/usr/bin/chromium"
# Headless, unsandboxed (the pod is the sandbox: no privileges to make one), none of
# Chromium's own traffic (updates, sync, field trials, safe browsing), and its shared
# memory in /tmp (a pod's /dev/shm is 64 MiB).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


class BrowserAdapter:
    def __init__(self, context: Context) -> None:
        self._ctx = context
        self._refused: InvalidInput | None = None
        self._profile = tempfile.mkdtemp(prefix="chromium-", dir=context.scratch_dir)
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch_persistent_context(
                self._profile,
                executable_path=os.environ.get(CHROMIUM_ENV, CHROMIUM),
                headless=True,
                args=FLAGS,
                user_agent=context.platform.user_agent,
                accept_downloads=False,
                service_workers="block",  # their requests would not pass through route()
            )
        except PlaywrightError as err:
            self._pw.stop()
            shutil.rmtree(self._profile, ignore_errors=True)
            raise TemporaryFailure(f"Chromium did not start: {_first_line(err)}") from err
        self._browser.set_default_timeout(context.platform.timeout_seconds * 1000)
        self._browser.route("**/*", self._vet)
        self._browser.add_cookies(
            browser_cookies(context.cookies, context.platform.base_url)  # type: ignore[arg-type]
        )
        self._page = self._browser.pages[0] if self._browser.pages else self._browser.new_page()

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()
            shutil.rmtree(self._profile, ignore_errors=True)

    def _vet(self, route: Route, request: Request) -> None:
        try:
            vet_url(request.url, self._ctx.allow_private)
        except InvalidInput as err:
            self._refused = self._refused or err
            route.abort("blockedbyclient")
            return
        except TemporaryFailure:
            route.abort("namenotresolved")
            return
        route.continue_()

    # ------------------------------------------------------------ checks

    def _check_page(self) -> str:
        """The page's HTML, once it is known not to be a login wall."""
        ctx = self._ctx
        check_redirect(ctx.platform_name, ctx.platform, self._page.url)
        html = self._page.content()
        marker = login_marker(ctx.platform, html)
        if marker is not None:
            raise LoginRequired(f"login required: {ctx.platform_name}'s page says {marker[:80]!r}")
        return html

    def _goto(self, url: str) -> None:
        ctx = self._ctx

        def once() -> None:
            log.info("browser: GET %s", redact_url(url))
            response = self._page.goto(url, wait_until="load")
            status = response.status if response is not None else 200
            retry = response.headers.get("retry-after") if response is not None else None
            check_answer(
                ctx.platform_name,
                ctx.platform,
                status=status,
                url=self._page.url,
                body=self._page.content() if status < 400 else "",
                retry_after_header=retry,
                now=ctx.now(),
            )

        with_retries(once, ctx.platform)

    # ------------------------------------------------------------ steps

    def _step(
        self,
        step: Step,
        values: Mapping[str, str],
        extraction: Extraction,
        post_links: str | None,
        media: Path | None,
    ) -> Extracted | None:
        page, kind = self._page, step.kind
        if kind is StepKind.GOTO and step.goto is not None:
            self._goto(page_url(self._ctx.platform.base_url, step.goto, values))
        elif kind is StepKind.WAIT_FOR and step.wait_for is not None:
            try:
                page.wait_for_selector(step.wait_for, state="visible")
            except PlaywrightTimeout:
                self._check_page()  # a login wall explains it better than a timeout
                raise
        elif kind is StepKind.CLICK and step.click is not None:
            page.click(step.click)
        elif kind is StepKind.FILL and step.fill is not None:
            for selector, text in step.fill.items():
                page.fill(selector, render(text, values, in_url=False))
        elif kind is StepKind.UPLOAD and step.upload is not None:
            if media is None:
                raise InvalidInput("platform config: an upload step belongs in upload.steps")
            page.set_input_files(step.upload, str(media))
        elif kind is StepKind.EXTRACT:
            return from_html(self._check_page(), extraction, post_links)
        return None

    def _run(
        self,
        steps: list[Step],
        values: Mapping[str, str],
        extraction: Extraction,
        post_links: str | None = None,
        media: Path | None = None,
    ) -> Extracted:
        if not any(s.kind is StepKind.EXTRACT for s in steps):
            steps = [*steps, Step(extract=True)]
        out = Extracted()
        current = "start"
        try:
            for step in steps:
                current = step.kind.value
                found = self._step(step, values, extraction, post_links, media)
                if found is not None:
                    out.merge(found)
        except WorkerError:
            raise
        except PlaywrightTimeout as err:
            raise TemporaryFailure(
                f"{self._ctx.platform_name}: the {current} step timed out ({_first_line(err)})"
            ) from err
        except PlaywrightError as err:
            if self._refused is not None:
                raise self._refused from err
            raise TemporaryFailure(
                f"{self._ctx.platform_name}: the {current} step failed: {_first_line(err)}"
            ) from err
        return out

    def read(self, page: Page, values: Mapping[str, str]) -> Extracted:
        steps = page.steps if page.steps is not None else [Step(goto=page.path)]
        return self._run(steps, values, page.extract, page.post_links)

    def publish(
        self, upload: Upload, media: Path, post: Post, values: Mapping[str, str]
    ) -> Extracted:
        if upload.steps is None:
            raise InvalidInput("platform config: the browser adapter publishes by upload.steps")
        return self._run(upload.steps, values, upload.result, media=media)
