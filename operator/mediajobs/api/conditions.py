"""Kubernetes-style condition setters: pure, clock passed in, report whether anything changed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from mediajobs.api.common import Condition, ConditionStatus

MESSAGE_LIMIT = 1024


class ConditionType(StrEnum):
    ADMITTED = "Admitted"
    RUNNING = "Running"
    COMPLETE = "Complete"
    FAILED = "Failed"
    WAITING_FOR_HUMAN = "WaitingForHuman"
    DEPENDENCIES_MET = "DependenciesMet"


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """TEXT on one line, cut to LIMIT characters (with an ellipsis when cut)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def set_condition(
    conditions: Sequence[Condition],
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    now: datetime,
    generation: int | None,
) -> tuple[list[Condition], bool]:
    """CONDITIONS with TYPE set; lastTransitionTime moves only when the status does."""
    message = one_line(message)
    current = next((c for c in conditions if c.type == type_), None)
    if (
        current is not None
        and (current.status, current.reason, current.message) == (status, reason, message)
        and current.observed_generation == generation
    ):
        return list(conditions), False
    transition = (
        now if current is None or current.status != status else current.last_transition_time
    )
    updated = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message,
        last_transition_time=transition,
        observed_generation=generation,
    )
    if current is None:
        return [*conditions, updated], True
    return [updated if c.type == type_ else c for c in conditions], True


def is_true(conditions: Sequence[Condition], type_: str) -> bool:
    return any(c.type == type_ and c.status == "True" for c in conditions)
