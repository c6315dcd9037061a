"""Shared API vocabulary: the group, the enums and the camelCase base model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.alias_generators import to_camel

GROUP = "mediajobs.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

JsonDict = dict[str, JsonValue]


def rule(expression: str, message: str, field_path: str | None = None) -> JsonDict:
    """One CEL validation rule (``x-kubernetes-validations`` entry)."""
    out: JsonDict = {"rule": expression, "message": message}
    if field_path is not None:
        out["fieldPath"] = field_path
    return out


def cel(*rules: JsonDict) -> JsonDict:
    """``json_schema_extra`` carrying CEL rules into the generated CRD."""
    validations: list[JsonValue] = [*rules]
    return {"x-kubernetes-validations": validations}


def immutable(what: str) -> JsonDict:
    return cel(rule("self == oldSelf", f"{what} is immutable once created"))


class ApiModel(BaseModel):
    """Base for every API object: camelCase on the wire, unknown keys rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        use_enum_values=False,
        # A model's validator is built when first used, not at import: the job
        # container validates a Task and a few results, not the whole API.
        defer_build=True,
    )

    def wire(self) -> dict[str, Any]:
        """The object as the API server stores it (camelCase, unset fields omitted)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Operation(StrEnum):
    CONVERT_IMAGE = "convert_image"
    RESIZE_IMAGE = "resize_image"
    CROP_IMAGE = "crop_image"
    RESIZE_VIDEO = "resize_video"
    CROP_VIDEO = "crop_video"
    COMPRESS_VIDEO = "compress_video"
    REENCODE_STREAMING = "reencode_streaming"
    APPLY_WATERMARK = "apply_watermark"
    APPLY_STEGANOGRAPHIC_WATERMARK = "apply_steganographic_watermark"
    CREATE_TEASER = "create_teaser"
    STRIP_METADATA = "strip_metadata"
    THUMBNAIL_GENERATE = "thumbnail_generate"
    COMPILE_GIF = "compile_gif"
    COMPILE_CONCAT = "compile_concat"
    COMPILE_QUAD = "compile_quad"
    SCENE_DETECT = "scene_detect"
    VALIDATE = "validate"
    SCRAPE_PROFILE = "scrape_profile"
    SCRAPE_POST_PERFORMANCE = "scrape_post_performance"
    PUBLISH_POST = "publish_post"
    CUSTOM = "custom"
    # The media library (worker/library/): an index on the volume, moves, compilations.
    SCAN = "scan"
    PUBLIC_SCAN = "public_scan"
    MOVE_TO_LIBRARY = "move_to_library"
    COMPILE_RANDOM = "compile_random"
    COMPILE_MEGA = "compile_mega"
    # The smart operations: highlights without a model, vertical reframing.
    SCENE_EXTRACT = "scene_extract"
    HIGHLIGHT_GENERATE = "highlight_generate"
    CLIP_GENERATE = "clip_generate"
    DIGEST_GENERATE = "digest_generate"
    AUTO_REFRAME = "auto_reframe"


class Category(StrEnum):
    """Resource categories: each has its own concurrency cap and ResourceQuota."""

    CPU = "cpu"
    GPU_ENCODE = "gpu_encode"
    GPU_AI = "gpu_ai"

    @property
    def uses_gpu(self) -> bool:
        return self is not Category.CPU

    @property
    def priority_class(self) -> str:
        """The PriorityClass the worker pod carries; quotas are scoped to it."""
        return "mediajobs-" + self.value.replace("_", "-")


ConditionStatus = Literal["True", "False", "Unknown"]


class Condition(ApiModel):
    """A Kubernetes-style condition (metav1.Condition's shape)."""

    type: str = Field(max_length=316, description="The condition's type, e.g. Complete.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
        max_length=1024,
        description="A CamelCase word saying why, for programs.",
    )
    message: str = Field(default="", max_length=32768, description="A sentence for people.")
    last_transition_time: datetime = Field(description="When status last changed.")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation this condition was set for."
    )
