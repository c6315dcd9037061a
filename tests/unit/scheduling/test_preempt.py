"""Preemption decisions on plain data: who is stopped, in which order, and who never is."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from mediajobs.api.common import Category
from mediajobs.config import Preemption, PreemptionPolicy
from mediajobs.scheduling.decide import Decision, Limits, Pool, decide
from mediajobs.scheduling.model import Active, Candidate, JobKey
from tests.unit.scheduling.test_decide import AI, CPU, ENC, T0, job, snap

ON = Preemption(policy=PreemptionPolicy.LOWER_PRIORITY, min_runtime_seconds=60)


def limits(
    *,
    cpu: int = 2,
    enc: int = 2,
    ai: int = 1,
    rule: Preemption = ON,
    off: tuple[Category, ...] = (),
    pools: tuple[Pool, ...] = (Pool("default", 16000),),
) -> Limits:
    never = Preemption()
    return Limits(
        max_running={CPU: cpu, ENC: enc, AI: ai},
        pools=list(pools),
        preemption={c: never if c in off else rule for c in Category},
    )


def victims(decision: Decision) -> list[str]:
    return [v.active.key.name for v in decision.preempt]


def run(
    candidates: list[Candidate],
    active: list[Active],
    lim: Limits | None = None,
    **kw: object,
) -> Decision:
    return decide(snap(candidates, active, **kw), lim or limits())


def test_a_full_category_preempts_its_lowest_priority_job_and_the_preemptor_waits() -> None:
    active = [job("p8").priority(8).active(), job("p9").priority(9).active()]
    d = run([job("urgent").priority(1).obj(), job("next").priority(2).obj()], active)
    assert victims(d) == ["p9"]  # one: the job behind waits for the category, it preempts none
    assert d.wait[JobKey("ns", "next")].reason == "cpu: 2/2 running"
    assert [v.by.key.name for v in d.preempt] == ["urgent"]
    assert d.admit == []
    wait = d.wait[JobKey("ns", "urgent")]
    assert wait.reason == "cpu: 2/2 running; preempting ns/p9: waiting for the pods to stop"


def test_never_is_the_default_and_a_never_category_is_not_preempted() -> None:
    active = [job("p9").priority(9).active(), job("p8").priority(8).active()]
    assert victims(run([job("u").priority(1).obj()], active, limits(off=(CPU,)))) == []
    assert victims(decide(snap([job("u").priority(1).obj()], active), limits_default())) == []


def limits_default() -> Limits:
    return Limits(max_running={CPU: 2, ENC: 2, AI: 1}, pools=[Pool("default", 16000)])


def test_only_strictly_lower_priority_jobs_are_victims() -> None:
    active = [job("a").priority(3).active(), job("b").priority(3).active()]
    assert victims(run([job("same").priority(3).obj()], active)) == []
    assert victims(run([job("higher").priority(2).obj()], active)) == ["a"]  # a tie: the key


@pytest.mark.parametrize(
    ("running", "expected"),
    [
        # lowest priority first
        ([("a", 7, -600, 10), ("b", 9, -600, 10)], "b"),
        # then the most recently started
        ([("a", 8, -900, 10), ("b", 8, -300, 10)], "b"),
        # then the least progress
        ([("a", 8, -600, 40), ("b", 8, -600, 20)], "b"),
        # then the key: deterministic
        ([("b", 8, -600, 20), ("a", 8, -600, 20)], "a"),
    ],
)
def test_victim_order(running: list[tuple[str, int, float, int]], expected: str) -> None:
    active = [job(n).priority(p).active(started=s) for n, p, s, _ in running]
    progress = {JobKey("ns", n): pct for n, _, _, pct in running}
    d = run([job("u").priority(1).obj()], active, progress=progress)
    assert victims(d) == [expected]


def test_min_runtime_and_near_end_protect_a_job() -> None:
    active = [
        job("just-started").priority(9).active(started=-30),  # under minRuntime (60 s)
        job("nearly-done").priority(9).active(),
        job("older").priority(8).active(started=-7200),
    ]
    progress = {JobKey("ns", "nearly-done"): 80}  # protectProgressPercent 80: at it is enough
    d = run([job("u").priority(1).obj()], active, limits(cpu=3), progress=progress)
    assert victims(d) == ["older"]
    protected = active[:2]
    d = run([job("u").priority(1).obj()], protected, limits(cpu=2), progress=progress)
    assert victims(d) == []
    assert d.wait[JobKey("ns", "u")].reason == "cpu: 2/2 running"


def test_min_runtime_is_measured_at_the_decision() -> None:
    active = [job("v").priority(9).active(started=-59)]
    assert victims(run([job("u").priority(1).obj()], active, limits(cpu=1))) == []
    later = replace(snap([job("u").priority(1).obj()], active), now=T0 + timedelta(seconds=1))
    assert victims(decide(later, limits(cpu=1))) == ["v"]


def test_vram_is_freed_across_gpu_encode_and_gpu_ai_in_the_same_pool() -> None:
    # gpu_ai has a free slot, but the pool's VRAM is held by two low-priority encodes.
    active = [
        job("enc-a").priority(9).gpu(ENC, 6000).active("default"),
        job("enc-b").priority(8).gpu(ENC, 6000).active("default"),
        job("ai-hi").priority(2).gpu(AI, 4000).active("default"),
    ]
    d = run([job("ai").priority(1).gpu(AI, 8000).obj()], active, limits(enc=2, ai=2))
    # 16000 - 16000 used; 8000 needed: both encodes (one alone frees 6000) — fewest is 2,
    # but at most 1 victim per admission by default.
    assert victims(d) == []
    rule = Preemption(policy=PreemptionPolicy.LOWER_PRIORITY, max_victims_per_admission=2)
    d = run([job("ai").priority(1).gpu(AI, 8000).obj()], active, limits(enc=2, ai=2, rule=rule))
    assert sorted(victims(d)) == ["enc-a", "enc-b"]
    assert "VRAM 16000/16000 MiB" in d.wait[JobKey("ns", "ai")].reason


def test_the_fewest_victims_win_over_the_preferred_order() -> None:
    # Victim order prefers the 2000 MiB job (priority 9), but one 8000 MiB job suffices.
    rule = Preemption(policy=PreemptionPolicy.LOWER_PRIORITY, max_victims_per_admission=3)
    active = [
        job("small").priority(9).gpu(ENC, 2000).active("default"),
        job("small2").priority(9).gpu(ENC, 2000).active("default"),
        job("big").priority(7).gpu(ENC, 8000).active("default"),
        job("mid").priority(6).gpu(AI, 4000).active("default"),
    ]
    d = run([job("ai").priority(1).gpu(AI, 8000).obj()], active, limits(enc=4, ai=2, rule=rule))
    assert victims(d) == ["big"]


def test_a_victim_in_another_pool_frees_no_vram() -> None:
    pools = (Pool("a", 8000), Pool("b", 8000))
    active = [
        job("in-a").priority(9).gpu(ENC, 8000).active("a"),
        job("in-b").priority(5).gpu(ENC, 8000).active("b"),
    ]
    d = run([job("u").priority(3).gpu(AI, 8000).obj()], active, limits(enc=2, ai=1, pools=pools))
    assert victims(d) == ["in-a"]
    # in-a is protected: in-b (pool b) is the only way, and priority 5 is lower than 3.
    young = [job("in-a").priority(9).gpu(ENC, 8000).active("a", started=0), active[1]]
    d = run([job("u").priority(3).gpu(AI, 8000).obj()], young, limits(enc=2, ai=1, pools=pools))
    assert victims(d) == ["in-b"]


def test_a_cpu_job_never_preempts_a_gpu_job() -> None:
    active = [
        job("c").priority(5).active(started=0),  # protected
        job("enc").priority(9).gpu(ENC, 4000).active("default"),
    ]
    d = run([job("u").priority(1).obj()], active, limits(cpu=1))
    assert victims(d) == []


def test_no_chain_a_preemptor_that_a_waiting_higher_job_could_preempt_is_not_admitted() -> None:
    # ai-urgent (priority 1) waits on gpu_ai's cap and cannot preempt (its category's jobs
    # are protected); enc-mid (priority 4) would take VRAM from enc-low, and then be
    # preempted in turn by ai-urgent once a gpu_ai slot frees: it waits instead.
    active = [
        job("ai-run").priority(2).gpu(AI, 4000).active("default", started=0),
        job("enc-low").priority(9).gpu(ENC, 12000).active("default"),
    ]
    candidates = [
        job("ai-urgent").priority(1).gpu(AI, 4000).obj(),
        job("enc-mid").priority(4).gpu(ENC, 4000).obj(),
    ]
    d = run(candidates, active, limits(enc=2, ai=1))
    assert victims(d) == []
    alone = run([candidates[1]], active, limits(enc=2, ai=1))
    assert victims(alone) == ["enc-low"]


def test_stopping_victims_are_not_chosen_again_and_their_preemptor_waits_for_them() -> None:
    active = [job("p9").priority(9).active(), job("p8").priority(8).active()]
    stopping = {JobKey("ns", "p9"): JobKey("ns", "urgent")}
    candidates = [job("urgent").priority(1).obj(), job("p9").priority(9).obj()]
    d = run(candidates, active, stopping=stopping)
    assert victims(d) == []  # no second victim for the same admission
    assert d.wait[JobKey("ns", "urgent")].reason == (
        "cpu: 2/2 running; preempting ns/p9: waiting for the pods to stop"
    )
    assert (
        d.wait[JobKey("ns", "p9")].reason == "preempted by ns/urgent: waiting for its pods to stop"
    )
    # Once its pods have stopped, the slot is free: the preemptor is admitted, p9 waits.
    d = run(candidates, active[1:])
    assert [a.candidate.key.name for a in d.admit] == ["urgent"]
    assert JobKey("ns", "p9") in d.wait


def test_the_same_snapshot_gives_the_same_victims() -> None:
    active = [job(f"v{i}").priority(8).active(started=-1000 - 100 * (i % 3)) for i in range(6)]
    first = run([job("u").priority(1).obj()], active, limits(cpu=6))
    again = run([job("u").priority(1).obj()], list(reversed(active)), limits(cpu=6))
    assert victims(first) == victims(again) == ["v0"]


def test_a_victim_of_no_known_preemptor_is_waited_for_and_no_other_is_chosen() -> None:
    # After a restart, p9 was found stopping for a preemptor no longer known: the urgent
    # job at the head waits for that slot, p8 stays, and p9 itself waits (its pods stop).
    p9, p8 = job("p9").priority(9).active(), job("p8").priority(8).active()
    stopping = {p9.key: None}
    d = run(
        [job("urgent").priority(1).obj(), job("p9").priority(9).obj()], [p8, p9], stopping=stopping
    )
    assert victims(d) == []
    assert d.wait[JobKey("ns", "urgent")].reason == "cpu: 2/2 running"
    assert d.wait[JobKey("ns", "p9")].reason == "preempted: waiting for its pods to stop"
    # A GPU victim's VRAM is waited for by both GPU categories.
    enc = job("enc").priority(9).gpu(ENC, 8000).active("default")
    ai = job("ai").priority(1).gpu(AI, 8000).obj()
    lim = limits(ai=2)
    d = run(
        [ai],
        [enc, job("enc2").priority(9).gpu(ENC, 8000).active("default")],
        lim,
        stopping={enc.key: None},
    )
    assert victims(d) == []
