"""The informer on the in-memory fake: selections, PartialObjectMetadata, its lists."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from mediajobs.kube.errors import ApiError
from mediajobs.kube.port import Selection, mediajobs_path, namespaces_path
from mediajobs.kube.watch import Informer
from tests.builders import mediajob
from tests.fakes.api import FakeApi
from tests.fakes.clock import FakeClock

NS = "ns"
TURNS = 50  # event-loop turns for the informer to take what the fake has sent


async def turns() -> None:
    for _ in range(TURNS):
        await asyncio.sleep(0)  # a turn of the loop, not a wait for time


async def test_a_field_selected_metadata_only_informer_sees_objects_come_and_go() -> None:
    api = FakeApi(FakeClock())
    seen: list[tuple[str, str, Mapping[str, Any]]] = []
    informer = Informer(
        api,
        mediajobs_path(NS),
        lambda kind, obj: seen.append((kind, obj["metadata"]["name"], obj)),
        Selection(fields="status.phase=Running", metadata_only=True),
    )
    with api.user():
        await api.create(mediajobs_path(NS), mediajob("before").obj())
        await api.merge_patch(
            mediajobs_path(NS, "before") + "/status", {"status": {"phase": "Running"}}
        )
        await api.create(mediajobs_path(NS), mediajob("a").obj())
    task = asyncio.create_task(informer.run())
    try:
        await informer.synced.wait()
        assert [(k, n) for k, n, _ in seen] == [("ADDED", "before")]
        with api.user():
            status = mediajobs_path(NS, "a") + "/status"
            await api.merge_patch(status, {"status": {"phase": "Running", "progress": 0}})
            await api.merge_patch(status, {"status": {"progress": 50}})
            await api.merge_patch(status, {"status": {"phase": "Succeeded"}})
        await turns()
        assert [(k, n) for k, n, _ in seen[1:]] == [
            ("ADDED", "a"),  # into the selection
            ("MODIFIED", "a"),
            ("DELETED", "a"),  # out of it
        ]
        assert all(obj["kind"] == "PartialObjectMetadata" for _, _, obj in seen)
        assert all(set(obj) == {"apiVersion", "kind", "metadata"} for _, _, obj in seen)
        assert informer.lists == 1
    finally:
        task.cancel()


async def test_an_optional_informer_refused_by_rbac_ends_synced_and_a_required_one_raises() -> None:
    api = FakeApi(FakeClock())
    api.fail("list", "namespaces", status=403, times=2)
    optional = Informer(api, namespaces_path(), lambda kind, obj: None, optional=True)
    await optional.run()  # returns: nothing of it to watch
    assert optional.synced.is_set() and optional.lists == 0
    required = Informer(api, namespaces_path(), lambda kind, obj: None)
    with pytest.raises(ApiError) as refused:
        await required.run()
    assert refused.value.status == 403 and not required.synced.is_set()
