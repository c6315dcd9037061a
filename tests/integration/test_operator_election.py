"""Two operator replicas on the real cluster: one leads through a Lease, the other takes over."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from tests.builders import mediajob
from tests.integration.operator_checks import JobSampler, all_finished, phases, wait_phase
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

StartOperator = Callable[..., OperatorProcess]
LEASE_SECONDS = 15.0
CAP = 3
JOBS = 200


def test_the_standby_takes_over_a_killed_leader_without_double_admission(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    config = {"limits": {"cpu": {"maxRunning": CAP}}, "leaderElection": {"enabled": True}}
    leader = start_operator(**config)  # no Lease yet: it takes one at once
    standby = start_operator(**config)
    assert leader.stats()["leader"] is True
    assert standby.stats()["leader"] is False
    assert (leader.metric("mediajobs_leader"), standby.metric("mediajobs_leader")) == (1, 0)
    lease = ns.get("lease", "mediajobs-operator")
    assert lease["spec"]["holderIdentity"] == leader.stats()["holder"]

    names = [f"j{i:03d}" for i in range(JOBS)]
    items = [mediajob(n).kwok(run_for="1s").obj() for n in names]
    with JobSampler(ns) as sampler:
        ns.apply({"apiVersion": "v1", "kind": "List", "items": items})
        wait_for(
            "the flow to be under way",
            lambda: Counter(phases(ns).values())["Succeeded"] >= 20,
            WAIT_LONG,
        )
        leader.kill()
        killed_at = time.monotonic()
        created = len(ns.items("jobs"))  # the dead leader creates no more

        wait_for("the standby to admit", lambda: len(ns.items("jobs")) > created, LEASE_SECONDS * 3)
        took_over = time.monotonic() - killed_at
        assert standby.stats()["leader"] is True
        assert standby.metric("mediajobs_leader") == 1
        final = all_finished(ns, names, timeout=WAIT_LONG * 6)
    print(f"took over in {took_over:.1f} s; peak {sampler.peak['cpu']}; {sampler.samples} samples")
    assert took_over <= LEASE_SECONDS + 2
    assert set(final.values()) == {"Succeeded"}
    assert sampler.peak["cpu"] <= CAP
    assert sampler.samples > 50
    # No duplicate Job: exactly one Job (attempt 1) per MediaJob.
    per_attempt = Counter(
        (
            j["metadata"]["labels"]["mediajobs.dev/mediajob"],
            j["metadata"]["labels"]["mediajobs.dev/attempt"],
        )
        for j in ns.items("jobs")
    )
    assert set(per_attempt) == {(n, "1") for n in names}
    assert set(per_attempt.values()) == {1}


def test_a_leader_stopped_cleanly_hands_over_within_a_retry_period(
    ns: Kubectl, start_operator: StartOperator
) -> None:
    config = {"leaderElection": {"enabled": True}}
    leader = start_operator(**config)
    standby = start_operator(**config)
    began = time.monotonic()
    leader.stop()  # SIGTERM: it releases the Lease
    wait_for("the standby to lead", lambda: standby.stats()["leader"], LEASE_SECONDS)
    assert time.monotonic() - began < LEASE_SECONDS / 2  # not a lease duration
    spec = ns.get("lease", "mediajobs-operator")["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == (standby.stats()["holder"], 1)
    ns.apply(mediajob("after").kwok(run_for="1s").obj())
    wait_phase(ns, "after", "Succeeded")
