"""Where and with what a MediaJob runs: its effective category and resources.

The catalog gives each operation a category, CPU, memory and VRAM;
``spec.category`` and ``spec.resources`` override them. GPUs follow the
category, and a mismatch is an invalid spec (fail once, never retried):

- a GPU category (``gpu_encode``, ``gpu_ai``) holds at least one GPU: 1 by
  default, ``resources.gpu`` to ask for more, never 0 (the category's cap and
  VRAM budget exist to share GPUs; to run without one, say ``category: cpu``);
- the ``cpu`` category holds no GPU and no VRAM, so ``resources.gpu`` or
  ``resources.vramMiB`` above 0 there is invalid: its quota and cap do not
  count GPUs, and nothing would steer the pod to a GPU node.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediajobs.api.common import Category
from mediajobs.api.mediajob import MediaJobSpec
from mediajobs.api.quantity import parse_quantity
from mediajobs.catalog import entry


class PlacementError(ValueError):
    """The spec asks for resources that cannot be placed; the message names the field."""


@dataclass(frozen=True)
class Placement:
    category: Category
    cpu: str  # a Kubernetes quantity
    memory: str  # a Kubernetes quantity
    gpus: int
    vram_mib: int


def _quantity(field: str, value: int | str) -> str:
    """VALUE, checked now: a bad quantity would only fail later, as a 422 on the Job create."""
    text = str(value)
    try:
        amount = parse_quantity(text)
    except ValueError:
        raise PlacementError(
            f"spec.resources.{field}: {text!r} is not a Kubernetes quantity"
        ) from None
    if amount < 0:
        raise PlacementError(f"spec.resources.{field}: {text!r} is negative")
    return text


def placement_for(spec: MediaJobSpec) -> Placement:
    """The effective category and resources; raises PlacementError on an invalid combination."""
    catalog = entry(spec.operation)
    category = spec.category or catalog.category
    wanted = spec.resources
    cpu = _quantity("cpu", catalog.cpu if wanted is None or wanted.cpu is None else wanted.cpu)
    memory = _quantity(
        "memory", catalog.memory if wanted is None or wanted.memory is None else wanted.memory
    )
    gpus = wanted.gpu if wanted is not None else None
    vram = wanted.vram_mib if wanted is not None else None
    if not category.uses_gpu:
        if gpus or vram:
            raise PlacementError(
                "spec.resources: gpu and vramMiB need a GPU category (gpu_encode or gpu_ai); "
                "category cpu runs without a GPU"
            )
        return Placement(category, cpu, memory, gpus=0, vram_mib=0)
    if gpus == 0:
        raise PlacementError(
            f"spec.resources.gpu: category {category.value} needs at least one GPU; "
            "set category: cpu to run without one"
        )
    return Placement(
        category,
        cpu,
        memory,
        gpus=1 if gpus is None else gpus,
        vram_mib=catalog.vram_mib if vram is None else vram,
    )
