"""The Argo CD health checks (manifests/argocd/resource_customizations), run by Lua.

Each health_test.yaml is run as Argo CD's own tests run it (every testdata file,
its expected status and message), under Lua 5.1 and 5.4. The testdata must be
valid API objects, and the MediaJob script is also fed the statuses the
operator's own transitions write (lifecycle/statuses.py), so neither the
fixtures nor the script can drift from the API.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mediajobs.api.hitl import HitlPhase, HitlSession, HitlSessionStatus, ResolutionMethod
from mediajobs.api.mediajob import JobResult, MediaJob, OutputFile, Phase
from mediajobs.jobs.outcome import Outcome, OutcomeKind
from mediajobs.lifecycle import statuses
from mediajobs.lifecycle.dependencies import (
    AwaitDependencies,
    DependenciesMet,
    DependencyFailed,
    SkipDependent,
)
from mediajobs.lifecycle.records import Record
from mediajobs.scheduling.decide import Wait
from tests.localcluster import REPO
from tests.unit.argocd.lua import CUSTOMIZATIONS, INTERPRETERS, Health, health
from tests.unit.lifecycle.test_plan import record

MEDIAJOB = CUSTOMIZATIONS / "mediajobs.dev" / "MediaJob"
HITL = CUSTOMIZATIONS / "mediajobs.dev" / "HitlSession"
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

# What each phase means to Argo CD (the issue's table).
MEDIAJOB_HEALTH = {
    None: "Progressing",
    Phase.PENDING: "Progressing",
    Phase.QUEUED: "Progressing",
    Phase.RUNNING: "Progressing",
    Phase.BACKING_OFF: "Progressing",
    Phase.SUCCEEDED: "Healthy",
    Phase.FAILED: "Degraded",
    Phase.CANCELLED: "Degraded",
    Phase.SUSPENDED: "Suspended",
    Phase.WAITING_FOR_HUMAN: "Suspended",
    Phase.SKIPPED: "Healthy",  # onDependencyFailure Skip: the failed dependency is Degraded
}
HITL_HEALTH = {
    HitlPhase.PENDING: "Suspended",  # it waits for a person, not for the cluster
    HitlPhase.IN_PROGRESS: "Suspended",
    HitlPhase.RESOLVED: "Healthy",
    HitlPhase.CANCELLED: "Degraded",
    HitlPhase.EXPIRED: "Degraded",
}
# What each phase's message must show of the status.
HITL_SHOWS = {
    HitlPhase.PENDING: "for alice (1 job(s) waiting); expires at 2026-11-29T09:00:00Z",
    HitlPhase.IN_PROGRESS: "login in progress",
    HitlPhase.RESOLVED: "resolved by oauth",
    HitlPhase.CANCELLED: "cancelled",
    HitlPhase.EXPIRED: "expired at 2026-11-29T09:00:00Z",
}


def cases(kind_dir: Path) -> list[tuple[Path, Path, Health]]:
    tests = yaml.safe_load((kind_dir / "health_test.yaml").read_text())["tests"]
    return [
        (kind_dir / "health.lua", kind_dir / t["inputPath"], Health(**t["healthStatus"]))
        for t in tests
    ]


ALL_CASES = cases(MEDIAJOB) + cases(HITL)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
@pytest.mark.parametrize(
    ("script", "fixture", "expected"),
    ALL_CASES,
    ids=[str(c[1].relative_to(CUSTOMIZATIONS)) for c in ALL_CASES],
)
def test_health_test_yaml(script: Path, fixture: Path, expected: Health, interpreter: str) -> None:
    assert health(script, yaml.safe_load(fixture.read_text()), interpreter) == expected


@pytest.mark.parametrize("kind_dir", [MEDIAJOB, HITL], ids=lambda p: p.name)
def test_every_testdata_file_is_tested_and_is_a_valid_object(kind_dir: Path) -> None:
    listed = {fixture for _, fixture, _ in cases(kind_dir)}
    assert listed == set((kind_dir / "testdata").glob("*.yaml"))
    model = MediaJob if kind_dir is MEDIAJOB else HitlSession
    for fixture in listed:
        model.model_validate(yaml.safe_load(fixture.read_text()))


def test_the_testdata_covers_every_phase() -> None:
    def phases(kind_dir: Path) -> set[str | None]:
        return {
            (yaml.safe_load(f.read_text()).get("status") or {}).get("phase")
            for _, f, _ in cases(kind_dir)
        }

    assert phases(MEDIAJOB) == set(MEDIAJOB_HEALTH)
    assert phases(HITL) == {*HITL_HEALTH, None}


def body(rec: Record) -> dict[str, Any]:
    """The MediaJob as the API server serves it once REC's status is written."""
    return {
        "apiVersion": "mediajobs.dev/v1alpha1",
        "kind": "MediaJob",
        "metadata": {"name": rec.key.name, "namespace": rec.key.namespace, "generation": 1},
        "spec": rec.spec.wire(),
        "status": rec.status.wire(),
    }


def walk() -> list[tuple[Record, str]]:
    """A job's life through every phase, as the operator's transitions write it:
    (the record once written, a text the health message must show)."""
    spec = {"retry": {"limit": 1, "backoff": {"seconds": 60}}}
    out: list[tuple[Record, str]] = []

    def step(rec: Record, transition: statuses.Transition, shows: str) -> Record:
        rec = statuses.applied(rec, transition)
        out.append((rec, shows))
        return rec

    fresh = record(spec)
    out.append((fresh, "waiting for the operator"))
    wait = Wait(2, "cpu: 1/1 running")
    rec = step(fresh, statuses.queued(fresh, wait, T0), "queued at position 2: cpu: 1/1 running")
    rec = step(rec, statuses.admitted(rec, 1, 1, "mj-1", T0), "running: 0% done")
    rec = step(rec, statuses.not_starting(rec, "ErrImagePull", "no such image"), "no such image")
    rec = step(rec, statuses.not_starting(rec, None, None), "running: 0% done")
    rec = step(rec, statuses.progressed(45), "running: 45% done")
    oom = Outcome(OutcomeKind.RETRYABLE, "OOMKilled", "the worker ran out of memory")
    rec = step(rec, statuses.finished(rec, oom, T0), "retrying after 2026-11-29T09:01:00Z")
    rec = step(rec, statuses.suspended(rec, T0), "suspended by spec.suspend")
    rec = step(rec, statuses.admitted(rec, 2, 2, "mj-2", T0), "running")
    login = Outcome(OutcomeKind.LOGIN_REQUIRED, "LoginRequired", "onlyfans asks for a login")
    rec = step(rec, statuses.finished(rec, login, T0), "onlyfans asks for a login")
    rec = step(rec, statuses.admitted(rec, 3, 3, "mj-3", T0), "running")
    out_file = OutputFile(path="out/clip.mp4", bytes=1, sha256="0" * 64)
    done = Outcome(
        OutcomeKind.SUCCEEDED, "Succeeded", "succeeded: 1 output", JobResult(outputs=[out_file])
    )
    step(rec, statuses.finished(rec, done, T0), "succeeded: 1 output")
    broken = statuses.applied(fresh, statuses.admitted(fresh, 1, 1, "mj-1", T0))
    step(broken, statuses.finished(broken, oom, T0), "the worker ran out of memory")
    last = statuses.applied(broken, statuses.finished(broken, oom, T0))
    last = statuses.applied(last, statuses.admitted(last, 2, 2, "mj-2", T0))
    step(
        last,
        statuses.finished(last, oom, T0),
        "retry limit 1 reached: the worker ran out of memory",
    )
    step(
        fresh,
        statuses.invalid(fresh, "input path escapes the media volume", T0),
        "escapes the media",
    )
    step(fresh, statuses.cancelled(fresh, T0), "cancelled by spec.cancel")
    piped = record({"dependsOn": ["validate"]})
    waits = statuses.dependency(piped, AwaitDependencies(("validate",)), T0)
    rec = step(piped, waits, "waiting for validate to succeed")
    step(rec, statuses.dependency(rec, DependenciesMet("dependencies succeeded"), T0), "waiting")
    skip = SkipDependent("skipped: dependency validate failed")
    step(rec, statuses.dependency(rec, skip, T0), "skipped: dependency validate failed")
    failed = DependencyFailed("dependency validate failed")
    step(rec, statuses.dependency(rec, failed, T0), "dependency validate failed")
    return out


@pytest.mark.parametrize("interpreter", INTERPRETERS)
def test_statuses_the_operator_writes(interpreter: str) -> None:
    seen = set()
    for rec, shows in walk():
        said = health(MEDIAJOB / "health.lua", body(rec), interpreter)
        assert said.status == MEDIAJOB_HEALTH[rec.phase], (rec.phase, said)
        assert shows in said.message, (rec.phase, said)
        seen.add(rec.phase)
    assert seen == set(MEDIAJOB_HEALTH)


@pytest.mark.parametrize("interpreter", INTERPRETERS)
@pytest.mark.parametrize("phase", list(HitlPhase))
def test_every_hitl_phase(phase: HitlPhase, interpreter: str) -> None:
    resolved = phase is HitlPhase.RESOLVED
    session = HitlSession.model_validate(
        {
            "metadata": {"name": "alice-onlyfans", "namespace": "media"},
            "spec": {
                "creatorProfile": "alice",
                "platform": "onlyfans",
                "sessionType": "2fa_required",
            },
        }
    )
    session.status = HitlSessionStatus(
        phase=phase,
        expires_at=T0,
        waiting_jobs=["scrape-alice"],
        resolution_method=ResolutionMethod.OAUTH if resolved else None,
        resolved_at=T0 if resolved else None,
    )
    said = health(HITL / "health.lua", session.wire(), interpreter)
    assert said.status == HITL_HEALTH[phase]
    assert HITL_SHOWS[phase] in said.message


def test_the_argocd_cm_patch_carries_each_script_verbatim() -> None:
    check = subprocess.run(
        [sys.executable, str(REPO / "hack" / "argocd_cm.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    data = yaml.safe_load((CUSTOMIZATIONS.parent / "argocd-cm-patch.yaml").read_text())["data"]
    assert data == {
        f"resource.customizations.health.mediajobs.dev_{d.name}": (d / "health.lua").read_text()
        for d in (MEDIAJOB, HITL)
    }
