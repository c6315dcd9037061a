"""What scrape_profile, scrape_post_performance and publish_post do, through an adapter.

Each returns the :class:`JobResult`'s ``data``: the platform's metrics and facts, or the
published post's id and URL. Which pages are read comes from the platform config; a
job whose platform lacks the page it needs is refused (exit 2) naming the config key.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mediajobs.api.platform import Page, PlatformConfig
from mediajobs.api.task import Task
from mediajobs.catalog import params as p
from mediajobs.catalog import parse_params
from mediajobs.scraper.adapter import Adapter, Post
from mediajobs.scraper.extract import Extracted
from mediajobs.worker.contract import validation_summary
from mediajobs.worker.errors import InvalidInput, TemporaryFailure
from mediajobs.worker.inputs import media_file

Progress = Callable[[int], None]


def _page(name: str, platform: PlatformConfig, key: str) -> Page:
    page: Page | None = getattr(platform, key)
    if page is None:
        raise InvalidInput(f"platform {name} has no {key} page in the operator config "
                           f"(platforms.{name}.{key})")  # fmt: skip
    return page


def _found(extracted: Extracted) -> dict[str, Any]:
    return {"metrics": extracted.metrics, "meta": extracted.meta}


def scrape_profile(
    task: Task, platform: PlatformConfig, adapter: Adapter, params: p.ScrapeProfileParams
) -> dict[str, Any]:
    name, profile = task.platform or "", task.creator_profile or ""
    found = adapter.read(_page(name, platform, "profile"), {"profile": profile})
    return {"platform": name, "profile": profile, **_found(found),
            "posts": found.post_ids[: params.max_posts]}  # fmt: skip


def scrape_post_performance(
    task: Task,
    platform: PlatformConfig,
    adapter: Adapter,
    params: p.ScrapePostPerformanceParams,
    progress: Progress,
) -> dict[str, Any]:
    name, profile = task.platform or "", task.creator_profile or ""
    post_page = _page(name, platform, "post")
    ids = params.post_ids
    if ids is None:  # the profile's latest posts
        ids = adapter.read(_page(name, platform, "profile"), {"profile": profile}).post_ids
    ids = ids[: params.max_posts]
    posts = []
    for done, post_id in enumerate(ids, start=1):
        found = adapter.read(post_page, {"profile": profile, "postId": post_id})
        posts.append({"id": post_id, **_found(found)})
        progress(done * 100 // len(ids))
    return {"platform": name, "profile": profile, "posts": posts}


def publish_post(
    task: Task, platform: PlatformConfig, adapter: Adapter, params: p.PublishPostParams
) -> dict[str, Any]:
    name, profile = task.platform or "", task.creator_profile or ""
    if platform.upload is None:
        raise InvalidInput(f"platform {name} has no upload endpoint in the operator config "
                           f"(platforms.{name}.upload)")  # fmt: skip
    [source] = task.inputs  # the catalog takes exactly one
    if source.path is None:
        raise InvalidInput("publish_post publishes a file on the media volume, not a URL")
    try:
        root = Path(task.media_root).resolve(strict=True)
    except OSError as err:
        raise TemporaryFailure(f"media volume {task.media_root} is not mounted") from err
    media = media_file(root, source.path)
    publish_at = params.publish_at.isoformat() if params.publish_at is not None else None
    post = Post(caption=params.caption, tags=list(params.tags or []), publish_at=publish_at)
    answer = adapter.publish(platform.upload, media, post, {"profile": profile, **post.values()})
    post_id = answer.metrics.get("postId")
    if post_id is None:
        raise TemporaryFailure(f"{name} accepted the upload but its answer names no post id")
    data: dict[str, Any] = {"platform": name, "profile": profile, "postId": str(post_id),
                            "media": source.path, "bytes": media.stat().st_size}  # fmt: skip
    if "url" in answer.metrics:
        data["url"] = str(answer.metrics["url"])
    return data


def run_operation(
    task: Task, platform: PlatformConfig, adapter: Adapter, progress: Progress
) -> dict[str, Any]:
    """The operation's result data."""
    try:
        params = parse_params(task.operation, task.params)
    except ValidationError as err:
        raise InvalidInput(f"invalid params: {validation_summary(err)}") from err
    # The catalog pairs each operation with its params model: the model says which it is.
    if isinstance(params, p.ScrapeProfileParams):
        return scrape_profile(task, platform, adapter, params)
    if isinstance(params, p.ScrapePostPerformanceParams):
        return scrape_post_performance(task, platform, adapter, params, progress)
    if isinstance(params, p.PublishPostParams):
        return publish_post(task, platform, adapter, params)
    raise InvalidInput(f"mediajobs scrape does not run {task.operation.value}")
