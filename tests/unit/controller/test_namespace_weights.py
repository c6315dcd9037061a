"""Fair-share weights from namespace labels, through the informer, on the fake API."""

from __future__ import annotations

from typing import Any

import pytest

from mediajobs.kube.port import mediajobs_path, namespaces_path
from mediajobs.scheduling.model import JobKey
from mediajobs.scheduling.weights import WEIGHT_LABEL, parse_weight
from tests.builders import mediajob
from tests.unit.controller.world import World, world

CPU2: dict[str, Any] = {"limits": {"cpu": {"maxRunning": 2}}}


async def label(w: World, namespace: str, value: str | None) -> None:
    """Create NAMESPACE with the weight label VALUE, or set (None: remove) it."""
    with w.api.user():
        if any(n["metadata"]["name"] == namespace for n in w.api.items(namespaces_path())):
            patch = {"metadata": {"labels": {WEIGHT_LABEL: value}}}
            await w.api.merge_patch(namespaces_path(namespace), patch)
        else:
            labels = {} if value is None else {WEIGHT_LABEL: value}
            await w.api.create(
                namespaces_path(), {"metadata": {"name": namespace, "labels": labels}}
            )
    await w.settle()


async def submit(w: World, namespace: str, name: str) -> None:
    with w.api.user():
        await w.api.create(mediajobs_path(namespace), mediajob(name).obj())
    await w.settle()


async def run_one_each(w: World) -> None:
    """a and b run a job each (2/2 slots); a's waiting job is older than b's."""
    for ns in ("a", "b"):
        await submit(w, ns, f"{ns}-run")
    for ns in ("a", "b"):
        await submit(w, ns, f"{ns}-next")


def front(w: World) -> JobKey:
    (key,) = [k for k, wait in w.rec.queues.waits.items() if wait.position == 1]
    return key


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2.0), ("0.5", 0.5), ("1000", 1000.0), ("10.25", 10.25)],
)
def test_a_label_value_is_a_plain_positive_decimal(value: str, expected: float) -> None:
    assert parse_weight(value) == expected


@pytest.mark.parametrize("value", ["0", "0.0", "-1", "nan", "inf", "1e3", "two", "", "1001", ".5"])
def test_anything_else_is_refused_with_a_reason(value: str) -> None:
    reason = parse_weight(value)
    assert isinstance(reason, str) and WEIGHT_LABEL in reason


async def test_a_labelled_namespace_weighs_more_and_goes_first() -> None:
    async with world(scope=(), **CPU2) as w:
        await run_one_each(w)
        assert front(w) == JobKey("a", "a-next")  # equal shares: the older first
        await label(w, "b", "2")
        assert w.rec.queues.limits.fair_share == {"b": 2.0}
        assert front(w) == JobKey("b", "b-next")  # b's 1/2 over weight 2 is below a's 1/2
        await label(w, "b", None)  # it leaves the watch's selection: weight 1 again
        assert w.rec.queues.limits.fair_share == {}
        assert front(w) == JobKey("a", "a-next")


async def test_the_operator_config_wins_over_a_label() -> None:
    async with world(scope=(), fairShare={"weights": {"b": 1}}, **CPU2) as w:
        await run_one_each(w)
        await label(w, "b", "4")
        await label(w, "a", "3")
        assert w.rec.queues.limits.fair_share == {"a": 3.0, "b": 1}
        assert front(w) == JobKey("a", "a-next")


async def test_an_invalid_label_is_ignored_and_said_once_in_a_warning() -> None:
    async with world(scope=(), **CPU2) as w:
        await run_one_each(w)
        await label(w, "b", "lots")
        assert w.rec.queues.limits.fair_share == {}
        (event,) = [e for e in w.api.events if e["reason"] == "InvalidFairShareWeight"]
        assert event["type"] == "Warning"
        assert event["involvedObject"] | {"uid": "-"} == {
            "apiVersion": "v1",
            "kind": "Namespace",
            "name": "b",
            "namespace": "b",
            "uid": "-",
        }
        assert event["message"] == (
            f"{WEIGHT_LABEL}='lots' is not a decimal number such as 2 or 0.5; "
            "namespace b keeps weight 1"
        )
        with w.api.user():  # another change of the namespace: not said again
            await w.api.merge_patch(namespaces_path("b"), {"metadata": {"annotations": {"x": "y"}}})
        await w.settle()
        await label(w, "b", "2")  # fixed: taken
        assert w.rec.queues.limits.fair_share == {"b": 2.0}
        await label(w, "b", "0")  # a new bad value: said, and the label's weight is gone
        assert w.rec.queues.limits.fair_share == {}
        said = [e["message"] for e in w.api.events if e["reason"] == "InvalidFairShareWeight"]
        assert len(said) == 2 and "must be > 0" in said[1]


async def test_namespaces_are_read_by_name_and_metadata_only_and_not_at_all_when_off() -> None:
    async with world(scope=("a", "b"), **CPU2) as w:
        lists = [p for verb, p in w.api.calls if verb == "list" and p == namespaces_path()]
        assert lists == [namespaces_path(), namespaces_path()]  # one per watched namespace
        informers = [i for i in w.rec.informers() if i.path == namespaces_path()]
        assert [i.selection.fields for i in informers] == ["metadata.name=a", "metadata.name=b"]
        assert all(
            i.selection.metadata_only and i.selection.labels == WEIGHT_LABEL for i in informers
        )
        await label(w, "c", "5")  # not watched
        await label(w, "a", "5")
        assert w.rec.queues.limits.fair_share == {"a": 5.0}
    async with world(fairShare={"enabled": False}, **CPU2) as w:
        assert not [p for _, p in w.api.calls if p == namespaces_path()]
