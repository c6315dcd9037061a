"""Fair-share weights: from a namespace's label and the operator config (pure).

A namespace's weight is the value of its ``mediajobs.dev/fair-share-weight``
label, a plain decimal > 0 (``2``, ``0.5``); the operator config's
``fairShare.weights`` wins where it names the namespace. The config is the
cluster operator's one reviewed say, where a label is whoever may edit the
namespace: an override must be possible without relabelling, and a label must
not quietly undo what the config says. A namespace with neither weighs 1. A
label that is not such a number is ignored (the namespace weighs what it would
without it) and said once, with the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

WEIGHT_LABEL = "mediajobs.dev/fair-share-weight"
MAX_WEIGHT = 1000.0  # beyond this a share rounds to nothing: a typo, not a policy

_DECIMAL = re.compile(r"[0-9]{1,6}(\.[0-9]{1,6})?")


def parse_weight(value: str) -> float | str:
    """The weight a label value gives, or why it gives none (a sentence)."""
    if not _DECIMAL.fullmatch(value):
        return f"{WEIGHT_LABEL}={value!r} is not a decimal number such as 2 or 0.5"
    weight = float(value)
    if not (math.isfinite(weight) and 0 < weight <= MAX_WEIGHT):
        return f"{WEIGHT_LABEL}={value!r} must be > 0 and <= {MAX_WEIGHT:g}"
    return weight


def effective(labelled: Mapping[str, float], configured: Mapping[str, float]) -> dict[str, float]:
    """The weights admission uses: the labels', overridden by the config's."""
    return {**labelled, **configured}
