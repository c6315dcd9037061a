"""MediaJobSchedules with the operator as a real process on the local cluster.

The operator's schedules run on a clock the test gives it (MEDIAJOBS_TEST_CLOCK,
clock.py's ScaledClock): it runs ten times as fast, so a `* * * * *` schedule comes
due every 6 seconds of real time at instants the test knows, and an operator
restarted with the same setting goes on from the same time. The runs' templates say
`suspend: true`, so they stay active (Suspended) and the reconciler runs nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mediajobs.clock import TEST_CLOCK_ENV
from mediajobs.lifecycle.schedule_records import SCHEDULE_UID_LABEL, SCHEDULED_AT, run_name
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
RATE = 10.0
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
ANY_TIME = datetime(2030, 1, 1, tzinfo=UTC)
NAME = "every-minute"


@dataclass(frozen=True)
class OperatorClock:
    """The operator's schedule time: ANCHOR at the Unix time REAL, RATE times as fast.
    Operators start in seconds or, on a busy machine, in twenty: a test picks its first
    scheduled time once they are ready (next_minute)."""

    real: float
    anchor: datetime

    @classmethod
    def started(cls) -> OperatorClock:
        return cls(time.time(), datetime(2030, 1, 1, tzinfo=UTC))

    def next_minute(self) -> datetime:
        """A minute boundary far enough ahead to apply a schedule before it (4 s real)."""
        return (self.now() + 40 * SECOND).replace(second=0, microsecond=0) + MINUTE

    @property
    def env(self) -> dict[str, str | None]:
        return {TEST_CLOCK_ENV: f"{self.real},{self.anchor.timestamp()},{RATE}"}

    def now(self) -> datetime:
        return self.anchor + timedelta(seconds=(time.time() - self.real) * RATE)

    def wait_until(self, t: datetime) -> None:
        wait_for(f"the operator's clock to pass {t}", lambda: self.now() > t or None, WAIT_LONG)


def manifest(first: datetime, **spec: Any) -> dict[str, Any]:
    """A `* * * * *` schedule whose first time is FIRST (its startDate: the cluster's
    creation times are real, the operator's schedule time is not)."""
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJobSchedule",
        "metadata": {"name": NAME},
        "spec": {
            "schedule": "* * * * *",
            "startDate": stamp(first - 30 * SECOND),
            "jobTemplate": {
                "metadata": {"labels": {"team": "library"}},
                "spec": {"operation": "scan", "params": {"directory": "lib"}, "suspend": True},
            },
            **spec,
        },
    }


def runs(ns: Kubectl) -> dict[str, dict[str, Any]]:
    return {m["metadata"]["name"]: m for m in ns.items("mediajobs", "-l", SCHEDULE_UID_LABEL)}


def status(ns: Kubectl) -> dict[str, Any]:
    return ns.get("mjs", NAME).get("status") or {}


def reasons(ns: Kubectl) -> list[str]:
    events = ns.items("events", f"--field-selector=involvedObject.name={NAME}")
    return [e["reason"] for e in events]


def wait_status(ns: Kubectl, what: str, probe: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    def probed() -> dict[str, Any] | None:
        current = status(ns)
        return current if probe(current) else None

    return wait_for(what, probed, WAIT_LONG)


def stamp(t: datetime) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%SZ}"


def check_ledger(ns: Kubectl, first: datetime) -> dict[str, Any]:
    """Every minute from FIRST to lastScheduleTime was started once or skipped, never both,
    never twice; each run is named after its time and owned by the schedule."""
    current = status(ns)
    last = datetime.fromisoformat(current["lastScheduleTime"])
    found = runs(ns)
    times = [
        datetime.fromisoformat(m["metadata"]["annotations"][SCHEDULED_AT]) for m in found.values()
    ]
    assert len(times) == len(set(times))
    assert {run_name(NAME, t) for t in times} == set(found)
    instants = int((last - first) / MINUTE) + 1
    assert current["runs"] == len(found)
    assert current["runs"] + current.get("skipped", 0) == instants, (current, sorted(found))
    uid = ns.get("mjs", NAME)["metadata"]["uid"]
    for m in found.values():
        assert m["metadata"]["ownerReferences"][0]["uid"] == uid
        assert m["metadata"]["labels"]["team"] == "library"
    return current


def test_runs_are_named_after_their_time_once_across_operators_and_restarts(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    clock = OperatorClock.started()
    one = start_operator(env=clock.env)
    two = start_operator(env=clock.env)  # a second operator at the same instants
    start = clock.next_minute()
    ns.apply(manifest(start))
    first = run_name(NAME, start)
    wait_for(f"run {first}", lambda: first in runs(ns) or None, WAIT_LONG)
    wait_status(ns, "two runs", lambda s: s.get("runs", 0) >= 2)
    check_ledger(ns, start)
    # Each run announced once: the operator whose create met the other's run says nothing.
    assert reasons(ns).count("RunCreated") == len(runs(ns))
    # Both operators die where they stand; one comes back on the same clock.
    one.kill()
    two.kill()
    before = status(ns)["runs"]
    one.start()
    wait_status(ns, "a run after the restart", lambda s: s.get("runs", 0) > before + 1)
    current = check_ledger(ns, start)
    assert current["nextScheduleTime"] > current["lastScheduleTime"]
    assert current["activeCount"] == len(current["active"]) == current["runs"]
    table = ns.run("get", "mjs").stdout.split("\n")[0].split()
    assert table == ["NAME", "SCHEDULE", "SUSPEND", "ACTIVE", "LAST", "NEXT", "AGE"]


def test_forbid_skips_while_a_run_is_active(ns: Kubectl, start_operator: StartOperator) -> None:
    clock = OperatorClock.started()
    start_operator(env=clock.env)
    start = clock.next_minute()
    ns.apply(manifest(start, concurrencyPolicy="Forbid"))
    first = run_name(NAME, start)
    wait_status(ns, "a run skipped by Forbid", lambda s: s.get("skipped", 0) >= 1)
    assert list(runs(ns)) == [first]
    assert "RunSkipped" in reasons(ns)
    # The active run ends (cancelled): the next time starts a run again.
    ns.run("patch", "mj", first, "--type=merge", "-p", json.dumps({"spec": {"cancel": True}}))
    current = wait_status(ns, "a second run", lambda s: s.get("runs", 0) == 2)
    wait_status(ns, "the cancelled run counted", lambda s: s.get("failed") == 1)
    assert first not in (current.get("active") or [])
    check_ledger(ns, start)


def test_suspend_and_resume(ns: Kubectl, start_operator: StartOperator) -> None:
    clock = OperatorClock.started()
    start_operator(env=clock.env)
    start = clock.next_minute()
    ns.apply(manifest(start, suspend=True))
    current = wait_status(ns, "Suspended", lambda s: s.get("conditions") is not None)
    ready = next(c for c in current["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "Suspended")
    assert "nextScheduleTime" not in current
    clock.wait_until(start + 2 * MINUTE)
    ns.run("patch", "mjs", NAME, "--type=merge", "-p", json.dumps({"spec": {"suspend": False}}))
    resumed = clock.now()
    current = wait_status(ns, "a run after the resume", lambda s: s.get("runs", 0) >= 1)
    assert runs(ns), "no run"
    times = [
        datetime.fromisoformat(m["metadata"]["annotations"][SCHEDULED_AT])
        for m in runs(ns).values()
    ]
    assert min(times) > resumed - timedelta(seconds=RATE * 3)  # nothing made up
    assert current.get("skipped", 0) == 0


def test_a_bad_cron_value_is_said(ns: Kubectl, start_operator: StartOperator) -> None:
    clock = OperatorClock.started()
    start_operator(env=clock.env)
    ns.apply(manifest(clock.next_minute(), schedule="61 * * * *", timeZone="Mars/Olympus_Mons"))
    current = wait_status(ns, "InvalidSpec", lambda s: s.get("conditions") is not None)
    ready = next(c for c in current["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "InvalidSpec")
    assert "bad minute" in current["message"] and "IANA" in current["message"]
    wait_for("the InvalidSpec Event", lambda: "InvalidSpec" in reasons(ns) or None)


@pytest.mark.parametrize(
    ("spec", "said"),
    [
        ({"schedule": "every day"}, "five fields"),
        ({"schedule": "@fortnightly"}, "unknown macro"),
        ({"schedules": ["@daily"]}, "exactly one of schedule and schedules"),
        ({"concurrencyPolicy": "Sometimes"}, "Unsupported value"),
        ({"endDate": "2020-01-01T00:00:00Z"}, "endDate must be after startDate"),
        (
            {"jobTemplate": {"spec": {"operation": "scan", "params": {"crf": 20}}}},
            "scan does not take param(s): crf",
        ),
    ],
)
def test_apply_refuses_what_the_schema_can(ns: Kubectl, spec: dict[str, Any], said: str) -> None:
    result = ns.apply(manifest(ANY_TIME, **spec), check=False)
    assert result.returncode != 0 and said in result.stderr, result.stderr


def test_template_may_change(ns: Kubectl) -> None:
    """A MediaJob's operation is immutable; a schedule's template is not."""
    ns.apply(manifest(ANY_TIME))
    changed = manifest(ANY_TIME)
    changed["spec"]["jobTemplate"]["spec"] = {"operation": "public_scan"}
    ns.apply(changed)
    assert ns.get("mjs", NAME)["spec"]["jobTemplate"]["spec"]["operation"] == "public_scan"
