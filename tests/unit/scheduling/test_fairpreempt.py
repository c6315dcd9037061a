"""Fair-share preemption on plain data: who gives a slot back, and why it never swings back."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta

from mediajobs.config import Preemption, PreemptionPolicy
from mediajobs.scheduling.decide import Admit, Decision, Limits, Pool, decide
from mediajobs.scheduling.fairpreempt import Held, balanced_after
from mediajobs.scheduling.model import Active, Candidate, JobKey
from mediajobs.scheduling.preempt import Room
from tests.unit.scheduling.test_decide import AI, CPU, ENC, T0, job, snap

ON = Preemption(policy=PreemptionPolicy.LOWER_PRIORITY, min_runtime_seconds=60)


def limits(
    cpu: int = 4,
    weights: Mapping[str, float] | None = None,
    *,
    fair: bool = True,
    rule: Preemption = ON,
) -> Limits:
    return Limits(
        max_running={CPU: cpu, ENC: 2, AI: 1},
        pools=[Pool("default", 16000)],
        preemption={CPU: rule, ENC: rule, AI: rule},
        fair_share=weights or {},
        fair_preemption=fair,
    )


def running(namespace: str, count: int, priority: int = 5, started: float = -3600) -> list[Active]:
    return [
        job(f"{namespace}-run{i}").ns(namespace).priority(priority).active(started=started - i)
        for i in range(count)
    ]


def waiting(namespace: str, count: int = 1, priority: int = 5) -> list[Candidate]:
    return [
        job(f"{namespace}{i}").ns(namespace).priority(priority).created(i).obj()
        for i in range(count)
    ]


def victims(d: Decision) -> list[tuple[str, str, str]]:
    return [(str(v.active.key), str(v.by.key), v.reason) for v in d.preempt]


def test_a_namespace_over_its_share_gives_one_slot_to_one_under_it() -> None:
    d = decide(snap(waiting("a", 3) + waiting("b", 2), running("a", 4)), limits())
    # a's most recently started job goes (the victim order); b's first job waits for it.
    assert victims(d) == [("a/a-run0", "b/b0", "FairShare")]
    assert d.wait[JobKey("b", "b0")].reason == (
        "cpu: 4/4 running; preempting a/a-run0: waiting for the pods to stop"
    )
    assert d.admit == []


def test_it_is_off_by_default_and_needs_the_category_to_opt_in() -> None:
    candidates, active = waiting("a") + waiting("b"), running("a", 4)
    assert victims(decide(snap(candidates, active), limits(fair=False))) == []
    assert victims(decide(snap(candidates, active), limits(rule=Preemption()))) == []


def test_a_move_that_would_leave_the_receiver_above_the_donor_is_refused() -> None:
    # a 2, b 1 of 3: after a move a would hold 1, b 2: b over a, and the next decision
    # would move it back. Refused. a 3, b 1 of 4: after, 2 and 2: allowed.
    candidates = waiting("a") + waiting("b")
    d = decide(snap(candidates, running("a", 2) + running("b", 1)), limits(cpu=3))
    assert victims(d) == []
    d = decide(snap(candidates, running("a", 3) + running("b", 1)), limits(cpu=4))
    assert victims(d) == [("a/a-run0", "b/b0", "FairShare")]


def test_weights_decide_who_is_over() -> None:
    candidates = waiting("a") + waiting("b")
    active = running("a", 3) + running("b", 1)
    # a weighs 3: holding 3 of 4 is its share; giving one would leave it (2/4)/3 < b's 2/4.
    assert victims(decide(snap(candidates, active), limits(weights={"a": 3}))) == []
    # b weighs 3: b at 1/4 is far under; a gives one though b ends with 2 (2/4/3 < 2/4).
    d = decide(snap(candidates, running("a", 4)), limits(weights={"b": 3}))
    assert victims(d) == [("a/a-run0", "b/b0", "FairShare")]


def test_the_namespace_furthest_over_gives() -> None:
    active = running("a", 2) + running("c", 5)
    d = decide(snap(waiting("b"), active), limits(cpu=7))
    assert victims(d) == [("c/c-run0", "b/b0", "FairShare")]


def test_victim_rules_hold_min_runtime_progress_and_priority() -> None:
    candidates = waiting("b")
    young = running("a", 4, started=-30)  # within minRuntimeSeconds (60)
    assert victims(decide(snap(candidates, young), limits())) == []
    old = running("a", 4)
    done = {a.key: 90 for a in old}  # past protectProgressPercent (80)
    assert victims(decide(snap(candidates, old, progress=done), limits())) == []
    higher = running("a", 4, priority=2)  # fair share never stops more urgent work
    assert victims(decide(snap(candidates, higher), limits())) == []
    # The protected ones are skipped: a's oldest job, unprotected, goes.
    some = {old[0].key: 90}
    assert victims(decide(snap(candidates, old, progress=some), limits())) == [
        ("a/a-run1", "b/b0", "FairShare")
    ]


def test_priority_preemption_comes_first() -> None:
    active = [*running("a", 3), job("low").ns("a").priority(9).active()]
    d = decide(snap(waiting("b"), active), limits())
    assert victims(d) == [("a/low", "b/b0", "LowerPriority")]


def test_jobs_already_leaving_and_their_preemptors_count_where_they_are_going() -> None:
    # a 4 of 4, one of them already stopping for b's first job: a counts 3, b 1. b's
    # second job would leave a 2 and b 2: allowed; with a stopping two, not (1 < 3).
    active = running("a", 4)
    stopping = {active[0].key: JobKey("b", "b0")}
    waits = waiting("b", 2)
    d = decide(snap(waits, active, stopping=stopping), limits())
    assert victims(d) == []  # b0, the head, waits for its victim: nobody else preempts
    d = decide(snap(waits[1:], active, stopping=stopping), limits())
    assert victims(d) == [("a/a-run1", "b/b1", "FairShare")]


def test_balanced_after_counts_vram_where_it_is_the_larger_share() -> None:
    # gpu_encode, 4 slots, 16000 MiB: a runs 2 jobs of 6000 MiB, b one of 1000.
    big = job("a-big").ns("a").gpu(ENC, 6000).active("default")
    c = job("b1").ns("b").gpu(ENC, 1000).obj()
    room = Room(c, "default", 1, 0)
    held = Held({"a": 2, "b": 1}, {"a": 12000, "b": 1000}, 4, 16000, {})
    # a after: max(1/4, 6000/16000) = 0.375; b after: max(2/4, 2000/16000) = 0.5.
    assert not balanced_after(held, big, room)
    held = Held({"a": 3, "b": 0}, {"a": 15000, "b": 0}, 4, 16000, {})
    assert balanced_after(held, big, room)  # a after: 9000/16000; b after: 1/4


def test_repeated_decisions_converge_and_a_slot_never_moves_back() -> None:
    """The whole loop on plain data: each decision's victim stops (waits again), its
    preemptor starts, nothing else changes. Moves end, no namespace ever takes back
    from one it gave to, and in the end the namespace next in line could take from no
    one (equal weights: every two namespaces hold within one slot of each other)."""
    rng = random.Random(19)
    for trial in range(60):
        cap = rng.randint(2, 9)
        names = ["a", "b", "c"][: rng.randint(2, 3)]
        equal = trial % 2 == 0
        weights = {ns: 1.0 if equal else rng.choice([1.0, 2.0, 0.5]) for ns in names}
        holders = [rng.choice(names[:1] * 3 + names) for _ in range(cap)]
        active = [
            job(f"{ns}-r{i}").ns(ns).active(started=-3600 - i) for i, ns in enumerate(holders)
        ]
        queue = [job(f"{ns}-w{i}").ns(ns).created(i).obj() for ns in names for i in range(cap)]
        moves: set[tuple[str, str]] = set()
        for step in range(cap * 3):
            now = T0 + timedelta(hours=step)
            d = decide(snap(queue, active, now=now), limits(cap, weights))
            if not d.preempt:
                break
            (v,) = d.preempt
            donor, receiver = v.active.key.namespace, v.by.key.namespace
            assert (receiver, donor) not in moves, (trial, step)
            moves.add((donor, receiver))
            active = [a for a in active if a.key != v.active.key] + [Admit(v.by, None).active(now)]
            queue = [c for c in queue if c.key != v.by.key]
        else:
            raise AssertionError(f"trial {trial}: still preempting after {cap * 3} moves")
        held = Counter(a.key.namespace for a in active)
        (head,) = [k.namespace for k, w in d.wait.items() if w.position == 1]
        for other in names:
            if other != head:
                after = (held[other] - 1) / weights[other]
                assert after < (held[head] + 1) / weights[head], (trial, held, weights)
        if equal:
            assert max(held[ns] for ns in names) - min(held[ns] for ns in names) <= 1, trial
