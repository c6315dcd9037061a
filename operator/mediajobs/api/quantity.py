"""Kubernetes quantities ("2Gi", "500M", "1.5", "250m", "1e9") as numbers.

One parser for the whole operator: jobs/ checks the quantities a spec asks for
with it, scheduling counts them with it.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, DecimalException

_SUFFIX = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
# The API server's grammar: a signed decimal, then an exponent or one suffix.
_QUANTITY = re.compile(
    r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E|[KMGTPE]i))?$"
)


def parse_quantity(value: str | int | float) -> Decimal:
    """A quantity as a Decimal; raises ValueError for anything else."""
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    number, exponent, suffix = match.groups()
    try:
        scale = Decimal(10) ** int(exponent) if exponent else _SUFFIX[suffix or ""]
        return Decimal(number) * scale
    except DecimalException as err:  # an exponent past Decimal's range overflows
        raise ValueError(f"not a Kubernetes quantity: {value!r}") from err


def whole(value: str | int | float) -> int:
    """A quantity rounded up to a whole number (bytes, pods, GPUs)."""
    return math.ceil(parse_quantity(value))
