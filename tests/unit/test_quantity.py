"""api/quantity.py: the API server's quantity grammar, as numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mediajobs.api.quantity import parse_quantity, whole


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", Decimal(2)),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("250m", Decimal("0.25")),
        ("100n", Decimal("1e-7")),
        ("3u", Decimal("3e-6")),
        ("2k", Decimal(2000)),
        ("500M", Decimal(500_000_000)),
        ("2Gi", Decimal(2 * 2**30)),
        ("1Ki", Decimal(1024)),
        ("1e9", Decimal(10**9)),
        ("5E-3", Decimal("0.005")),
        ("-1", Decimal(-1)),
        (4, Decimal(4)),
    ],
)
def test_quantities(text: str | int, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text",
    # The last is past Decimal's range: it overflows, and must say so as a ValueError.
    ["", "Gi", "2GB", "2 Gi", "1.2.3", "2gi", "0x10", "1e", "2ki", "1e99999999999"],
)
def test_not_quantities(text: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_whole_rounds_up() -> None:
    assert whole("1500m") == 2
    assert whole("1Gi") == 2**30
    assert whole("0.1") == 1
