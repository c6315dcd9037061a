"""How the scraper reaches one platform: the operator config's ``platforms`` entries.

The operator holds them (config.py ``platforms``: name -> :class:`PlatformConfig`) and
hands the job's own platform's to the worker in its Task (``platformConfig``), so the
config has one source of truth. Plain data only: the scraper (mediajobs.scraper) acts
on it.

URL templates (page ``path``, a ``goto`` step) and step values may name ``{profile}``,
``{postId}``, ``{caption}``, ``{tags}`` and ``{publishAt}``; in a URL the value is
percent-encoded. A path is joined to ``baseUrl``; an absolute URL is taken as is.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from mediajobs.api.common import ApiModel
from mediajobs.api.strings import WebUrl


class AdapterKind(StrEnum):
    HTTP = "http"  # pages over httpx, parsed
    BROWSER = "browser"  # Debian's Chromium, headless, through Playwright


class LoginWall(ApiModel):
    """How a logged-out session shows itself (besides a 401 or a 403)."""

    url: str | None = Field(
        default=None,
        max_length=4096,
        description="The login page (a path on baseUrl or a URL): being sent there means "
        "the session is logged out.",
    )
    markers: list[str] = Field(
        default_factory=list,
        max_length=32,
        description="Text that only a logged-out page shows ('Log in to continue'): found "
        "in a page, it means the session is logged out.",
    )


class Extraction(ApiModel):
    """What to read from a page (or an upload's answer)."""

    json_ld: bool = Field(
        default=True,
        description="Read schema.org JSON-LD: interactionStatistic counts become metrics "
        "(likes, comments, shares, views, followers...), its name and url the meta.",
    )
    open_graph: bool = Field(
        default=True, description="Read the OpenGraph og:* properties into the meta."
    )
    selectors: dict[str, str] = Field(
        default_factory=dict,
        description="Metric name -> CSS selector; its text is read ('1.2K' is 1200), or an "
        "attribute with 'selector@attr' (e.g. 'a.permalink@href').",
    )
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Metric name -> dotted path in a JSON body ('data.user.followers'; a "
        "number indexes a list).",
    )


class StepKind(StrEnum):
    GOTO = "goto"
    WAIT_FOR = "waitFor"
    CLICK = "click"
    FILL = "fill"
    UPLOAD = "upload"
    EXTRACT = "extract"


class Step(ApiModel):
    """One browser step; exactly one of its fields is set."""

    goto: str | None = Field(default=None, max_length=4096, description="Open this URL.")
    wait_for: str | None = Field(
        default=None, max_length=1024, description="Wait until this CSS selector is visible."
    )
    click: str | None = Field(default=None, max_length=1024, description="Click this selector.")
    fill: dict[str, str] | None = Field(
        default=None, description="Selector -> text to type into it (a template)."
    )
    upload: str | None = Field(
        default=None, max_length=1024, description="Set the job's media file on this file input."
    )
    extract: bool | None = Field(
        default=None,
        description="Read the page as it is now with the page's (or the upload's) extraction.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Step:
        set_ = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(set_) != 1:
            raise ValueError(f"a step does exactly one thing, this one sets {set_ or 'nothing'}")
        return self

    @property
    def kind(self) -> StepKind:
        fields = type(self).model_fields
        name = next(n for n in fields if getattr(self, n) is not None)
        return StepKind(fields[name].alias or name)


class Page(ApiModel):
    """A page (or JSON endpoint) the scraper reads."""

    path: str = Field(
        max_length=4096, description="URL template: a path on baseUrl ('/u/{profile}') or a URL."
    )
    format: Literal["html", "json"] = Field(
        default="html", description="html: parsed; json: read with extract.fields."
    )
    extract: Extraction = Field(default_factory=Extraction)
    post_links: str | None = Field(
        default=None,
        max_length=1024,
        description="The profile's posts: in html, a CSS selector of links to them (the id "
        "is the link's last path segment); in json, the dotted path of a list of ids.",
    )
    steps: list[Step] | None = Field(
        default=None,
        max_length=64,
        description="Browser adapter: what to do on the page (default: goto path, extract).",
    )


def _upload_result() -> Extraction:
    return Extraction(json_ld=False, open_graph=False, fields={"postId": "id", "url": "url"})


class Upload(ApiModel):
    """Where publish_post sends the media: a multipart POST, or a form in the browser."""

    path: str = Field(max_length=4096, description="URL template of the upload endpoint.")
    file_field: str = Field(default="media", description="The multipart field of the file.")
    caption_field: str = Field(default="caption")
    tags_field: str = Field(default="tags", description="Sent once per tag.")
    publish_at_field: str = Field(default="publishAt", description="RFC 3339, when given.")
    result: Extraction = Field(
        default_factory=_upload_result,
        description="Where the answer holds postId and url (JSON fields over HTTP, selectors "
        "in the browser).",
    )
    steps: list[Step] | None = Field(
        default=None,
        max_length=64,
        description="Browser adapter: the upload form's steps (goto, upload, fill, click, "
        "waitFor, extract).",
    )


class PlatformConfig(ApiModel):
    """One platform: which adapter, where its pages are, how a login wall looks."""

    adapter: AdapterKind = AdapterKind.HTTP
    base_url: WebUrl = Field(description="The platform's http(s) root; paths are joined to it.")
    login: LoginWall = Field(default_factory=LoginWall)
    profile: Page | None = Field(default=None, description="scrape_profile's page.")
    post: Page | None = Field(default=None, description="scrape_post_performance's page per post.")
    upload: Upload | None = Field(default=None, description="publish_post's endpoint.")
    user_agent: str = Field(default="mediajobs-scraper", max_length=512)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(
        default=2, ge=0, le=10, description="How often a 429 is retried within the attempt."
    )
    max_retry_wait_seconds: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="The longest Retry-After waited for within the attempt; a longer one "
        "ends it (exit 75) and the operator starts the next no sooner.",
    )

    @model_validator(mode="after")
    def _fits_the_adapter(self) -> PlatformConfig:
        # Said when the operator starts, not when a job first meets it.
        pages = {"profile": self.profile, "post": self.post, "upload": self.upload}
        for key, page in pages.items():
            if page is None:
                continue
            if page.steps is not None and self.adapter is AdapterKind.HTTP:
                raise ValueError(f"{key}.steps are the browser adapter's (adapter: browser)")
            json = isinstance(page, Page) and page.format == "json"
            if json and self.adapter is AdapterKind.BROWSER:
                raise ValueError(f"{key} has format json: JSON endpoints are the http adapter's")
        return self
