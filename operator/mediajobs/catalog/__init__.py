"""The operation catalog: for each operation, its params, category and resources.

The VRAM figures and categories follow the reference system's job-type table
(seeds/003): reencode 4000 MiB, compile_quad 4000, scene detection 8000,
compile_random 2000, compile_mega 6000; the CPU operations (scan, public_scan,
move_to_library among them) need none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from mediajobs.api.common import Category, Operation
from mediajobs.catalog import library_params as lp
from mediajobs.catalog import params as p
from mediajobs.catalog import smart_params as sp

if TYPE_CHECKING:  # the CRD generator loads only where CRDs are made, not in a job container
    from mediajobs.api.crd import OperationContract


class Runner(StrEnum):
    """Which container runs the operation."""

    FFMPEG = "ffmpeg"  # the ffmpeg-worker image, `mediajobs worker`
    SCRAPER = "scraper"  # the scraper image (platform sessions, HITL)
    CUSTOM = "custom"  # the user's own spec.container


@dataclass(frozen=True)
class Inputs:
    """How many inputs an operation takes (``spec.input`` is one, ``spec.inputs`` many)."""

    min: int
    max: int

    @property
    def many(self) -> bool:
        return self.max > 1


NONE = Inputs(0, 0)
ONE = Inputs(1, 1)
OPTIONAL_ONE = Inputs(0, 1)


@dataclass(frozen=True)
class Entry:
    operation: Operation
    params: type[p.Params]
    category: Category
    summary: str
    inputs: Inputs = ONE
    vram_mib: int = 0
    cpu: str = "1"
    memory: str = "1Gi"
    runner: Runner = Runner.FFMPEG


def _entries(*entries: Entry) -> Mapping[Operation, Entry]:
    return {e.operation: e for e in entries}


CPU, ENC, AI = Category.CPU, Category.GPU_ENCODE, Category.GPU_AI
Op = Operation

CATALOG: Mapping[Operation, Entry] = _entries(
    Entry(
        Op.CONVERT_IMAGE,
        p.ConvertImageParams,
        CPU,
        "Convert an image to JPEG, PNG or WebP.",
        memory="512Mi",
    ),
    Entry(
        Op.RESIZE_IMAGE, p.ResizeImageParams, CPU, "Resize an image (fit or fill).", memory="512Mi"
    ),
    Entry(Op.CROP_IMAGE, p.CropImageParams, CPU, "Crop an image to a box.", memory="512Mi"),
    Entry(
        Op.RESIZE_VIDEO,
        p.ResizeVideoParams,
        ENC,
        "Resize a video (fit or fill).",
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.CROP_VIDEO,
        p.CropVideoParams,
        ENC,
        "Crop a video to a box.",
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.COMPRESS_VIDEO,
        p.CompressVideoParams,
        ENC,
        "Compress a video by CRF or bitrate.",
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.REENCODE_STREAMING,
        p.ReencodeStreamingParams,
        ENC,
        "Re-encode for web playback: H.264 + AAC, +faststart.",
        vram_mib=4000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.APPLY_WATERMARK,
        p.ApplyWatermarkParams,
        CPU,
        "Overlay a visible text or image watermark.",
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.APPLY_STEGANOGRAPHIC_WATERMARK,
        p.ApplySteganographicWatermarkParams,
        CPU,
        "Embed an invisible per-fan id in an image or video.",
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.CREATE_TEASER,
        p.CreateTeaserParams,
        ENC,
        "Cut a short teaser, optionally faded.",
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.STRIP_METADATA, p.NoParams, CPU, "Remove EXIF, GPS and container tags.", memory="512Mi"
    ),
    Entry(
        Op.THUMBNAIL_GENERATE,
        p.ThumbnailGenerateParams,
        CPU,
        "Grab one frame as an image.",
        memory="512Mi",
    ),
    Entry(Op.COMPILE_GIF, p.CompileGifParams, CPU, "Make a palette-based GIF from a video."),
    Entry(
        Op.COMPILE_CONCAT,
        p.CompileConcatParams,
        ENC,
        "Join videos, normalised to one size and frame rate.",
        inputs=Inputs(2, 64),
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.COMPILE_QUAD,
        p.CompileQuadParams,
        ENC,
        "Four videos in a 2x2 grid.",
        inputs=Inputs(4, 4),
        vram_mib=4000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.SCENE_DETECT,
        p.SceneDetectParams,
        AI,
        "Find scene changes (timestamps).",
        vram_mib=8000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.VALIDATE,
        p.NoParams,
        CPU,
        "Probe the media and report its metadata.",
        cpu="500m",
        memory="256Mi",
    ),
    Entry(
        Op.SCRAPE_PROFILE,
        p.ScrapeProfileParams,
        CPU,
        "Scrape a creator's profile on a platform.",
        inputs=NONE,
        runner=Runner.SCRAPER,
    ),
    Entry(
        Op.SCRAPE_POST_PERFORMANCE,
        p.ScrapePostPerformanceParams,
        CPU,
        "Scrape the performance of posts.",
        inputs=NONE,
        runner=Runner.SCRAPER,
    ),
    Entry(
        Op.PUBLISH_POST, p.PublishPostParams, CPU, "Publish media as a post.", runner=Runner.SCRAPER
    ),
    Entry(
        Op.CUSTOM,
        p.NoParams,
        CPU,
        "Run your own container (spec.container).",
        inputs=OPTIONAL_ONE,
        runner=Runner.CUSTOM,
    ),
    # The media library (worker/library/): the index on the volume, moves, compilations.
    Entry(
        Op.SCAN,
        lp.ScanParams,
        CPU,
        "Index a directory's videos (ffprobe each new or changed file).",
        inputs=NONE,
        memory="512Mi",
    ),
    Entry(
        Op.PUBLIC_SCAN,
        lp.PublicScanParams,
        CPU,
        "Index the public gallery directory (public/).",
        inputs=NONE,
        memory="512Mi",
    ),
    Entry(
        Op.MOVE_TO_LIBRARY,
        lp.MoveToLibraryParams,
        CPU,
        "Move a video into a library directory; never overwrites.",
        cpu="500m",
        memory="256Mi",
    ),
    Entry(
        Op.COMPILE_RANDOM,
        lp.CompileRandomParams,
        ENC,
        "Join videos chosen from the library index by criteria and a seed.",
        inputs=NONE,
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.COMPILE_MEGA,
        lp.CompileMegaParams,
        ENC,
        "Join hundreds of videos from the library index, in chunks.",
        inputs=NONE,
        vram_mib=6000,
        cpu="2",
        memory="2Gi",
    ),
    # The smart operations (the reference's planned GPU-AI types, run here without a model).
    Entry(
        Op.SCENE_EXTRACT,
        sp.SceneExtractParams,
        AI,
        "Split a video at its scene changes, one file per scene.",
        vram_mib=8000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.HIGHLIGHT_GENERATE,
        sp.HighlightGenerateParams,
        AI,
        "Join the liveliest windows (cuts, motion, loudness), crossfaded.",
        vram_mib=8000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.CLIP_GENERATE,
        sp.ClipGenerateParams,
        AI,
        "Cut the liveliest windows into separate clips.",
        vram_mib=6000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.DIGEST_GENERATE,
        sp.DigestGenerateParams,
        AI,
        "A fixed-length digest: the best window of each part, crossfaded.",
        vram_mib=8000,
        cpu="2",
        memory="2Gi",
    ),
    Entry(
        Op.AUTO_REFRAME,
        sp.AutoReframeParams,
        ENC,
        "A vertical (or any aspect) cut that follows the faces.",
        vram_mib=2000,
        cpu="2",
        memory="2Gi",
    ),
)

# Operations that act for a creator on a platform need both named.
NEEDS_PLATFORM = frozenset(e.operation for e in CATALOG.values() if e.runner is Runner.SCRAPER)
# Watermarks are scoped to the creator whose identity they carry.
NEEDS_CREATOR = NEEDS_PLATFORM | {Op.APPLY_WATERMARK, Op.APPLY_STEGANOGRAPHIC_WATERMARK}


def entry(operation: Operation | str) -> Entry:
    return CATALOG[Operation(operation)]


def parse_params(operation: Operation | str, raw: Mapping[str, Any] | None) -> p.Params:
    """The operation's params with defaults applied; raises pydantic.ValidationError."""
    return entry(operation).params.model_validate(dict(raw or {}))


def contracts() -> list[OperationContract]:
    """What the CRD must enforce per operation, in catalog order."""
    from mediajobs.api.crd import OperationContract  # noqa: PLC0415

    return [
        OperationContract(
            name=e.operation.value,
            params=e.params,
            min_inputs=e.inputs.min,
            max_inputs=e.inputs.max,
            needs_creator=e.operation in NEEDS_CREATOR,
            needs_platform=e.operation in NEEDS_PLATFORM,
        )
        for e in CATALOG.values()
    ]
