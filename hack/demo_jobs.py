"""The demo set of MediaJobs (`make run`, and the e2e tests that check what it shows).

Built from manifests/examples/ as they are, plus:
- every job asks for a fifth of a CPU (`spec.resources.cpu`), so that on a small
  machine several pods fit on the one real node at once; the catalog's default (1-2
  CPUs) would have the scheduler run them one by one;
- a thumbnail of a truncated clip: it fails once, with the worker's reason, no retry;
- scene detection as a queue: `scene-detect` (examples) takes the gpu_ai category's only
  slot (the chart's cap is 1), and three more of the same operation wait behind it and
  run by priority (1 first, 9 last), not in the order they were applied.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "manifests" / "examples"
NAMESPACE = "mediajobs-demo"
CPU = "200m"
FROM_EXAMPLES = (
    "scene_detect",  # first: it holds the gpu_ai slot while the queue below arrives
    "reencode_streaming",
    "create_teaser",
    "thumbnail_generate",
    "apply_watermark",
    "strip_metadata",
    "apply_steganographic_watermark",
    "compile_quad",
)
# Three jobs in the gpu_ai category (cap 1), applied lowest priority first.
QUEUE = (("queue-low", 9), ("queue-mid", 5), ("queue-high", 1))
CORRUPT = "thumbnail-broken"
CORRUPT_INPUT = "inbox/broken.mp4"


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
    return loaded


def _small(job: dict[str, Any]) -> dict[str, Any]:
    job = copy.deepcopy(job)
    job["spec"].setdefault("resources", {})["cpu"] = CPU
    return job


def demo_jobs() -> list[dict[str, Any]]:
    """The MediaJobs, in the order they are applied."""
    jobs = [example(name) for name in FROM_EXAMPLES]
    broken = copy.deepcopy(example("thumbnail_generate"))
    broken["metadata"]["name"] = CORRUPT
    broken["spec"]["input"] = {"path": CORRUPT_INPUT}
    broken["spec"]["output"] = {"path": "thumbnails/broken.jpg"}
    jobs.append(broken)
    for name, priority in QUEUE:
        queued = copy.deepcopy(example("scene_detect"))
        queued["metadata"]["name"] = name
        queued["spec"]["priority"] = priority
        jobs.append(queued)
    return [_small(job) for job in jobs]


def expected_phases() -> dict[str, str]:
    """Where each demo job ends."""
    return {j["metadata"]["name"]: "Failed" if j["metadata"]["name"] == CORRUPT else "Succeeded"
            for j in demo_jobs()}  # fmt: skip
