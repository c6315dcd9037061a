"""A MediaJobSchedule whose template is a pipeline (steps), on plain data: each run's
MediaJobs are named after the run and the step, deterministically, with dependsOn and
fromJob naming them; a run is finished when all its steps are; a cycle is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from mediajobs.api.mediajob import Phase
from mediajobs.api.schedule import MediaJobSchedule, MediaJobScheduleSpec, MediaJobScheduleStatus
from mediajobs.lifecycle.schedule import plan, spec_problems
from mediajobs.lifecycle.schedule_records import (
    RUN_ANNOTATION,
    STEP_LABEL,
    Run,
    Schedule,
    group_runs,
    run_bodies,
    run_name,
    step_job_name,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
RUN = "nightly-20261125-1201"


def step(name: str, operation: str = "validate", **spec: Any) -> dict[str, Any]:
    return {"name": name, "spec": {"operation": operation, **spec}}


PIPELINE = [
    step("scan", "scan", params={"directory": "library/uploads"}),
    step("check", input={"path": "inbox/a.mov"}, dependsOn=["scan"]),
    step(
        "teaser",
        "create_teaser",
        input={"fromJob": "check", "output": 0},
        dependsOn=["check", "scan"],
        onDependencyFailure="Skip",
    ),
]


def pipeline(steps: list[dict[str, Any]] = PIPELINE, **fields: Any) -> Schedule:
    spec = MediaJobScheduleSpec.model_validate(
        {"schedule": "* * * * *", "jobTemplate": {"steps": steps}, **fields}
    )
    return Schedule("ns", "nightly", "uid-1", 1, T0, spec, MediaJobScheduleStatus())


def test_each_run_creates_every_step_named_after_the_run_and_wired_together() -> None:
    bodies = run_bodies(pipeline(), T0 + MINUTE)
    names = [b["metadata"]["name"] for b in bodies]
    assert names == [f"{RUN}-scan", f"{RUN}-check", f"{RUN}-teaser"]
    assert bodies == run_bodies(pipeline(), T0 + MINUTE)  # deterministic: a restart re-makes it
    teaser = bodies[2]
    assert teaser["spec"]["dependsOn"] == [f"{RUN}-check", f"{RUN}-scan"]
    assert teaser["spec"]["input"] == {"fromJob": f"{RUN}-check", "output": 0}
    assert teaser["spec"]["onDependencyFailure"] == "Skip"
    assert "dependsOn" not in bodies[0]["spec"]
    for body, name in zip(bodies, ("scan", "check", "teaser"), strict=True):
        assert body["metadata"]["labels"][STEP_LABEL] == name
        assert body["metadata"]["annotations"][RUN_ANNOTATION] == RUN
        assert body["metadata"]["ownerReferences"][0]["uid"] == "uid-1"


def test_step_names_fit_a_mediajob_name() -> None:
    long = step_job_name(run_name("x" * 250, T0), "thumbnail")
    assert len(long) == 253 and long.endswith("-thumbnail")
    assert step_job_name(RUN, "") == RUN  # a run of one MediaJob


def test_a_run_is_finished_when_every_step_is_and_succeeded_when_every_step_did() -> None:
    at, later = T0 + MINUTE, T0 + 2 * MINUTE
    members = [
        Run(f"{RUN}-scan", at, Phase.SUCCEEDED, at),
        Run(f"{RUN}-check", at, Phase.FAILED, at + MINUTE),
        Run(f"{RUN}-teaser", at, Phase.SKIPPED, at + 2 * MINUTE),
        Run(run_name("nightly", later) + "-scan", later, Phase.SUCCEEDED, later),
        Run(run_name("nightly", later) + "-check", later, Phase.RUNNING),
    ]
    assert group_runs("nightly", members) == [
        Run(RUN, at, Phase.FAILED, at + 2 * MINUTE),
        Run(run_name("nightly", later), later, None, later),
    ]


def test_a_pipeline_run_is_active_until_its_last_step_and_pruned_as_one() -> None:
    s = pipeline(failedJobsHistoryLimit=0)
    first = plan(s, [], T0 + MINUTE)
    assert first.create == T0 + MINUTE and first.status is not None
    assert first.status.active == [RUN]
    s = Schedule(s.namespace, s.name, s.uid, 1, T0, s.spec, first.status)
    at = T0 + MINUTE
    running = [Run(f"{RUN}-scan", at, Phase.SUCCEEDED, at), Run(f"{RUN}-check", at)]
    still = plan(s, running, T0 + MINUTE + timedelta(seconds=10))
    assert still.status is None or still.status.active == [RUN]
    done = [Run(f"{RUN}-scan", at, Phase.SUCCEEDED, at), Run(f"{RUN}-check", at, Phase.FAILED, at)]
    ended = plan(s, done, T0 + MINUTE + timedelta(seconds=20))
    assert ended.status is not None and ended.status.active == []
    assert ended.status.failed == 1
    assert ended.delete == [RUN]  # the run, all its MediaJobs (controller/schedules.py)


def test_a_cycle_among_steps_is_refused_naming_it() -> None:
    steps = [
        step("a", dependsOn=["c"]),
        step("b", dependsOn=["a"]),
        step("c", dependsOn=["b"]),
    ]
    assert spec_problems(pipeline(steps).spec) == [
        "jobTemplate.steps: dependsOn makes a cycle: a -> c -> b -> a"
    ]
    step_plan = plan(pipeline(steps), [], T0 + MINUTE)
    assert step_plan.create is None and step_plan.status is not None
    assert "cycle" in (step_plan.status.message or "")


def test_a_steps_params_are_checked() -> None:
    bad = [step("scan", "scan", params={"directory": "x", "no": 1})]
    problems = spec_problems(pipeline(bad).spec)
    assert any("jobTemplate.steps[scan].spec.params" in p for p in problems)


def test_a_step_name_is_a_short_dns_label() -> None:
    with pytest.raises(ValidationError, match=r"steps\.0\.name"):
        MediaJobScheduleSpec.model_validate(
            {"schedule": "* * * * *", "jobTemplate": {"steps": [{"name": "Bad Name", "spec": {}}]}}
        )


def test_the_nightly_pipeline_example_is_valid_and_makes_three_jobs_a_night() -> None:
    path = Path(__file__).resolve().parents[3] / "manifests/examples/nightly_uploads_pipeline.yaml"
    doc = MediaJobSchedule.model_validate(yaml.safe_load(path.read_text()))
    assert spec_problems(doc.spec) == []
    s = Schedule("media", "nightly-uploads", "uid-2", 1, T0, doc.spec, MediaJobScheduleStatus())
    at = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)  # 01:00 in New York
    bodies = run_bodies(s, at)
    assert [b["metadata"]["name"] for b in bodies] == [
        "nightly-uploads-20261126-0600-scan",
        "nightly-uploads-20261126-0600-reel",
        "nightly-uploads-20261126-0600-gif",
    ]
    assert bodies[2]["spec"]["input"] == {"fromJob": "nightly-uploads-20261126-0600-reel"}
