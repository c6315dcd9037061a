"""The pure Job layer: MediaJob attempt -> ``batch/v1`` Job, Job/Pod status -> outcome.

Plain data in, plain data out: no kopf, no client, no clock. The controller
calls :func:`placement_for` (an invalid spec raises PlacementError),
:func:`build_job` to create an attempt's Job, and :func:`outcome` on every
event of that Job or its pods.
"""

from mediajobs.jobs.build import build_job, suspend_patch
from mediajobs.jobs.naming import job_labels, job_name
from mediajobs.jobs.outcome import Outcome, OutcomeKind, outcome, parse_termination_message
from mediajobs.jobs.placement import Placement, PlacementError, placement_for
from mediajobs.jobs.task import build_task

__all__ = [
    "Outcome",
    "OutcomeKind",
    "Placement",
    "PlacementError",
    "build_job",
    "build_task",
    "job_labels",
    "job_name",
    "outcome",
    "parse_termination_message",
    "placement_for",
    "suspend_patch",
]
