"""Admission decisions on plain data (the clock is a parameter)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from mediajobs.api.common import Category
from mediajobs.api.mediajob import Backoff
from mediajobs.scheduling.backoff import retry_delay
from mediajobs.scheduling.decide import Limits, Pool, Snapshot, Wait, decide
from mediajobs.scheduling.model import Active, Candidate, Demand, JobKey, Quota

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CPU, ENC, AI = Category.CPU, Category.GPU_ENCODE, Category.GPU_AI
LIMITS = Limits(max_running={CPU: 5, ENC: 2, AI: 1}, pools=[Pool("default", 16000)])


class CandidateBuilder:
    def __init__(self, name: str) -> None:
        self._c = Candidate(
            JobKey("ns", name), uid=f"uid-{name}", priority=5, created=T0, demand=Demand(CPU)
        )

    def ns(self, namespace: str) -> CandidateBuilder:
        self._c = replace(self._c, key=JobKey(namespace, self._c.key.name))
        return self

    def priority(self, priority: int) -> CandidateBuilder:
        self._c = replace(self._c, priority=priority)
        return self

    def created(self, seconds: float) -> CandidateBuilder:
        self._c = replace(self._c, created=T0 + timedelta(seconds=seconds))
        return self

    def uid(self, uid: str) -> CandidateBuilder:
        self._c = replace(self._c, uid=uid)
        return self

    def gpu(self, category: Category, vram: int, gpus: int = 1) -> CandidateBuilder:
        self._c = replace(self._c, demand=Demand(category, gpus=gpus, vram_mib=vram))
        return self

    def memory(self, mib: int) -> CandidateBuilder:
        self._c = replace(self._c, demand=replace(self._c.demand, memory_bytes=mib << 20))
        return self

    def obj(self) -> Candidate:
        return self._c

    def active(self, pool: str | None = None, started: float = -3600) -> Active:
        """Running since STARTED seconds from T0 (an hour before, by default)."""
        c = self._c
        return Active(c.key, c.demand, pool, c.priority, T0 + timedelta(seconds=started))


def job(name: str) -> CandidateBuilder:
    return CandidateBuilder(name)


def names(admits: list[object]) -> list[str]:
    return [a.candidate.key.name for a in admits]  # type: ignore[attr-defined]


def snap(candidates: list[Candidate], active: list[Active] | None = None, **kw: object) -> Snapshot:
    return Snapshot(
        candidates=candidates,
        active=active or [],
        quotas=kw.pop("quotas", {}),
        now=kw.pop("now", T0),
        **kw,
    )  # type: ignore[arg-type]


def test_priority_then_age_then_uid() -> None:
    candidates = [
        job("late-high").priority(1).created(30).obj(),
        job("low").priority(9).obj(),
        job("early-high").priority(1).created(10).obj(),
        job("tie-b").priority(3).uid("b").obj(),
        job("tie-a").priority(3).uid("a").obj(),
        job("mid").priority(5).obj(),
        job("last").priority(6).obj(),
    ]
    decision = decide(snap(candidates), LIMITS)
    assert names(decision.admit) == ["early-high", "late-high", "tie-a", "tie-b", "mid"]
    assert decision.wait[JobKey("ns", "last")].position == 1
    assert decision.wait[JobKey("ns", "low")].position == 2
    assert decision.wait[JobKey("ns", "low")].reason == "cpu: 5/5 running"


def test_categories_are_independent() -> None:
    active = [job(f"cpu{i}").active() for i in range(5)]
    decision = decide(snap([job("c").obj(), job("e").gpu(ENC, 4000).obj()], active), LIMITS)
    assert names(decision.admit) == ["e"]
    assert decision.admit[0].pool == "default"
    assert decision.wait[JobKey("ns", "c")].reason == "cpu: 5/5 running"


def test_vram_is_shared_between_gpu_categories() -> None:
    active = [
        job("ai").gpu(AI, 8000).active("default"),
        job("enc").gpu(ENC, 4000).active("default"),
    ]
    decision = decide(snap([job("big").gpu(ENC, 6000).obj()], active), LIMITS)
    assert decision.admit == []
    assert decision.wait[JobKey("ns", "big")].reason == (
        "gpu_encode: 1/2 running; VRAM 12000/16000 MiB; needs 6000 MiB"
    )


def test_the_head_of_a_category_is_not_overtaken() -> None:
    active = [
        job("ai").gpu(AI, 8000).active("default"),
        job("enc").gpu(ENC, 4000).active("default"),
    ]
    big = job("big").gpu(ENC, 6000).priority(1).obj()
    small = job("small").gpu(ENC, 2000).priority(9).obj()
    decision = decide(snap([small, big], active), LIMITS)
    assert decision.admit == []
    assert [decision.wait[c.key].position for c in (big, small)] == [1, 2]


def test_second_pool_takes_what_the_first_cannot() -> None:
    limits = replace(LIMITS, pools=[Pool("a", 8000), Pool("b", 16000)])
    active = [job("x").gpu(ENC, 6000).active("a")]
    decision = decide(snap([job("y").gpu(ENC, 4000).obj()], active), limits)
    assert [a.pool for a in decision.admit] == ["b"]


def test_a_full_namespace_quota_holds_only_that_namespace() -> None:
    quotas = {("ns", ENC): Quota("gpu-encode", pods=1, gpus=1)}
    active = [job("running").gpu(ENC, 2000).active("default")]
    first = job("first").gpu(ENC, 2000).priority(1).obj()
    other = job("other").ns("elsewhere").gpu(ENC, 2000).priority(9).obj()
    decision = decide(snap([first, other], active, quotas=quotas), LIMITS)
    assert names(decision.admit) == ["other"]
    assert decision.wait[first.key].reason == "ResourceQuota gpu-encode: pods 1/1 used"


def test_quota_usage_shown_by_the_api_counts_too() -> None:
    quotas = {("ns", CPU): Quota("cpu", pods=2, used_pods=2)}  # pods the operator did not start
    decision = decide(snap([job("a").obj()], quotas=quotas), LIMITS)
    assert decision.wait[JobKey("ns", "a")].reason == "ResourceQuota cpu: pods 2/2 used"


def test_quota_memory() -> None:
    quotas = {("ns", CPU): Quota("cpu", memory_bytes=3 << 30)}
    decision = decide(
        snap([job("a").memory(2048).obj(), job("b").memory(2048).created(1).obj()], quotas=quotas),
        LIMITS,
    )
    assert names(decision.admit) == ["a"]
    assert decision.wait[JobKey("ns", "b")].reason == "ResourceQuota cpu: memory MiB 2048/3072 used"


@pytest.mark.parametrize(
    ("candidate", "quotas", "reason"),
    [
        (
            job("huge").gpu(AI, 20000).obj(),
            {},
            "needs 20000 MiB VRAM; the largest GPU pool has 16000 MiB",
        ),
        (
            job("no-gpu").gpu(ENC, 1000, gpus=2).obj(),
            {("ns", ENC): Quota("q", gpus=1)},
            "needs 2 GPUs; ResourceQuota q allows 1",
        ),
        (
            job("closed").obj(),
            {("ns", CPU): Quota("q", pods=0)},
            "needs 1 pods; ResourceQuota q allows 0",
        ),
    ],
)
def test_a_job_that_can_never_fit_is_rejected(
    candidate: Candidate, quotas: dict[tuple[str, Category], Quota], reason: str
) -> None:
    decision = decide(snap([candidate], quotas=quotas), LIMITS)
    assert decision.reject == {candidate.key: reason}
    assert decision.admit == [] and decision.wait == {}


def test_disabled_category_rejects() -> None:
    limits = replace(LIMITS, max_running={CPU: 0, ENC: 2, AI: 1})
    decision = decide(snap([job("a").obj()]), limits)
    assert decision.reject[JobKey("ns", "a")] == "category cpu admits no jobs (its limit is 0)"


def test_rate_limit_spaces_starts_and_says_when_to_wake() -> None:
    limits = replace(LIMITS, min_start_interval={CPU: 6.0})
    decision = decide(snap([job("a").obj(), job("b").created(1).obj()]), limits)
    assert names(decision.admit) == ["a"]
    assert decision.wait[JobKey("ns", "b")].reason == "cpu: rate limit of 10 starts/min"
    assert decision.wake_at == T0 + timedelta(seconds=6)
    later = snap([job("b").created(1).obj()], last_start={CPU: T0 - timedelta(seconds=7)})
    assert names(decide(later, limits).admit) == ["b"]


def test_platform_rate_spaces_its_starts_and_holds_no_one_else() -> None:
    limits = replace(LIMITS, platform_starts_per_minute={"fans": 2.0})
    fans = [replace(job(n).created(i).obj(), platform="fans") for i, n in enumerate("abc")]
    other = [replace(job("d").created(5).obj(), platform="tube"), job("e").created(6).obj()]
    buckets = limits.platform_buckets()
    decision = decide(snap([*fans, *other], platform_starts=buckets), limits)
    assert names(decision.admit) == ["a", "d", "e"]
    reason = "platform fans: rate limit of 2 starts/min"
    assert [decision.wait[JobKey("ns", n)] for n in "bc"] == [Wait(1, reason), Wait(2, reason)]
    assert decision.wake_at == T0 + timedelta(seconds=30)
    assert buckets["fans"].take(None, T0.timestamp())  # the pass spent on a copy
    # The reconciler spent it for a's start: b starts 30 s later, then c 30 s after b.
    later = snap(fans[1:], now=T0 + timedelta(seconds=30), platform_starts=buckets)
    assert names(decide(later, limits).admit) == ["b"]


@pytest.mark.parametrize(
    ("failures", "delay"), [(1, 120), (2, 240), (3, 480), (6, 3600), (20, 3600)]
)
def test_retry_delay_grows_and_is_capped(failures: int, delay: float) -> None:
    assert retry_delay(failures, Backoff()) == delay


def test_retry_delay_needs_a_failure() -> None:
    with pytest.raises(ValueError, match="at least one failure"):
        retry_delay(0, Backoff())
