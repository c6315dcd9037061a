"""The Task an attempt's worker receives (the worker contract, api/task.py)."""

from __future__ import annotations

from mediajobs.api.mediajob import MediaJobSpec, OutputRef
from mediajobs.api.quantity import whole
from mediajobs.api.task import ProgressSink, Task
from mediajobs.catalog import Runner, entry
from mediajobs.config import OperatorConfig
from mediajobs.jobs.naming import COOKIES_KEY
from mediajobs.jobs.placement import Placement

# The pod's writable scratch space: an emptyDir, the root filesystem being read-only.
SCRATCH_DIR = "/tmp"  # noqa: S108
# Where a scraper pod sees its platform session Secret (read-only; jobs/build.py).
SESSION_DIR = "/var/run/mediajobs/session"


def default_output(namespace: str, name: str) -> OutputRef:
    """Where a MediaJob without ``spec.output`` writes: its own prefix on the media volume."""
    return OutputRef(prefix=f"mediajobs/{namespace}/{name}/")


def build_task(
    *,
    name: str,
    namespace: str,
    uid: str,
    spec: MediaJobSpec,
    attempt: int,
    placement: Placement,
    config: OperatorConfig,
    cookies: bool,
) -> Task:
    """One attempt's Task; params go as given, the worker applies the catalog's defaults.
    COOKIES: its pod mounts a platform session Secret (jobs/build.py)."""
    scraper = entry(spec.operation).runner is Runner.SCRAPER
    output = spec.output
    if output is None or (output.path is None and output.prefix is None):
        output = default_output(namespace, name)
    return Task(
        uid=uid,
        namespace=namespace,
        name=name,
        attempt=attempt,
        operation=spec.operation,
        params=dict(spec.params or {}),
        inputs=[spec.input] if spec.input is not None else list(spec.inputs or []),
        output=output,
        media_root=config.media.mount_path,
        scratch_dir=SCRATCH_DIR,
        gpu=placement.gpus > 0,
        creator_profile=spec.creator_profile,
        platform=spec.platform,
        platform_config=config.platforms.get(spec.platform or "") if scraper else None,
        cookies_file=f"{SESSION_DIR}/{COOKIES_KEY}" if cookies else None,
        progress=ProgressSink(redis_url=config.redis_url, stream=config.progress_stream),
        allow_private_urls=config.allow_private_urls,
        max_download_bytes=config.max_download_bytes,
        memory_limit_bytes=whole(placement.memory),  # the container's limit (jobs/build.py)
    )
