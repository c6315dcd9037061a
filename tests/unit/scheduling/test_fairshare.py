"""Fair share across namespaces on plain data: weights, DRF shares, ties, reasons."""

from __future__ import annotations

from collections.abc import Mapping

from mediajobs.scheduling.decide import Decision, Limits, Pool, decide
from mediajobs.scheduling.model import Active, Candidate, JobKey
from tests.unit.scheduling.test_decide import AI, CPU, ENC, job, snap


def limits(cpu: int = 5, weights: Mapping[str, float] | None = None) -> Limits:
    return Limits(
        max_running={CPU: cpu, ENC: 2, AI: 2},
        pools=[Pool("default", 16000)],
        fair_share=weights if weights is not None else {},
    )


def order(d: Decision) -> list[str]:
    """Admitted first, then the waiting in their positions."""
    admitted = [str(a.candidate.key) for a in d.admit]
    waiting = sorted(d.wait.items(), key=lambda kv: kv[1].position)
    return admitted + [str(k) for k, _ in waiting]


def running(namespace: str, count: int) -> list[Active]:
    return [job(f"{namespace}-run{i}").ns(namespace).active() for i in range(count)]


def many(namespace: str, count: int, start: float = 0, priority: int = 5) -> list[Candidate]:
    return [
        job(f"{namespace}{i}").ns(namespace).priority(priority).created(start + i).obj()
        for i in range(count)
    ]


def test_the_next_slot_goes_to_the_namespace_with_the_lowest_share() -> None:
    # a holds 4 of 5 slots and has older jobs waiting; b's first job takes the free slot.
    candidates = many("a", 3) + many("b", 2, start=100)
    d = decide(snap(candidates, running("a", 4)), limits())
    assert order(d) == ["b/b0", "b/b1", "a/a0", "a/a1", "a/a2"]  # b at 2/5 is still below a
    assert d.wait[JobKey("a", "a0")].reason == (
        "waiting for fair share: namespace a holds 4/5 slots (cpu: 5/5 running)"
    )
    assert d.wait[JobKey("b", "b1")].reason == "cpu: 5/5 running"  # its turn: not passed over


def test_off_it_is_one_line_by_priority_and_age() -> None:
    candidates = many("a", 3) + many("b", 2, start=100)
    d = decide(snap(candidates, running("a", 4)), Limits({CPU: 5, ENC: 2, AI: 2}, [Pool("p", 1)]))
    assert order(d) == ["a/a0", "a/a1", "a/a2", "b/b0", "b/b1"]


def test_priority_comes_before_fair_share() -> None:
    candidates = [*many("a", 2, priority=1), *many("b", 2, start=100, priority=5)]
    d = decide(snap(candidates, running("a", 4)), limits())
    assert order(d) == ["a/a0", "a/a1", "b/b0", "b/b1"]


def test_weights_divide_the_share() -> None:
    # a holds 2, b 1 of 4 slots; a's weight 4 makes its share 0.5/4 (then 0.75/4) < b's 0.25.
    actives = running("a", 2) + running("b", 1)
    candidates = many("a", 2) + many("b", 2)
    d = decide(snap(candidates, actives), limits(cpu=4, weights={"a": 4}))
    assert order(d) == ["a/a0", "a/a1", "b/b0", "b/b1"]
    d = decide(snap(candidates, actives), limits(cpu=4))  # equal weights: b first
    assert order(d) == ["b/b0", "a/a0", "b/b1", "a/a1"]


def test_equal_shares_fall_back_to_age_then_uid() -> None:
    candidates = [
        job("x").ns("b").created(5).uid("u2").obj(),
        job("y").ns("a").created(5).uid("u1").obj(),
        job("z").ns("c").created(1).obj(),
    ]
    d = decide(snap(candidates, []), limits(cpu=1))
    assert order(d) == ["c/z", "a/y", "b/x"]


def test_vram_counts_when_it_is_the_larger_share() -> None:
    # gpu_encode: a and b run one job each (1/4 slots); a's holds 12000 of 16000 MiB (0.75),
    # b's 2000 (0.125): the dominant shares differ by VRAM, and b goes first though younger.
    actives = [
        job("a-big").ns("a").gpu(ENC, 12000).active("default"),
        job("b-small").ns("b").gpu(ENC, 2000).active("default"),
    ]
    candidates = [
        job("a1").ns("a").gpu(ENC, 1000).created(0).obj(),
        job("b1").ns("b").gpu(ENC, 1000).created(10).obj(),
    ]
    lim = Limits({CPU: 5, ENC: 4, AI: 2}, [Pool("default", 16000)], fair_share={})
    d = decide(snap(candidates, actives), lim)
    assert order(d) == ["b/b1", "a/a1"]


def test_positions_count_each_admission_as_running_so_namespaces_alternate() -> None:
    candidates = many("a", 3) + many("b", 3, start=100)
    d = decide(snap(candidates, running("c", 5)), limits())
    assert order(d) == ["a/a0", "b/b0", "a/a1", "b/b1", "a/a2", "b/b2"]
    assert [d.wait[JobKey(k.split("/")[0], k.split("/")[1])].position for k in order(d)] == [
        1, 2, 3, 4, 5, 6,
    ]  # fmt: skip


def test_one_namespace_keeps_the_plain_order() -> None:
    candidates = many("a", 4)
    assert order(decide(snap(candidates, []), limits(cpu=2))) == ["a/a0", "a/a1", "a/a2", "a/a3"]
