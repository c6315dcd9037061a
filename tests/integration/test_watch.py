"""kube/watch.py's Informer against the real API server: list, watch, resume, relist."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import pytest

from mediajobs.kube.client import Kube
from mediajobs.kube.login import Login
from mediajobs.kube.port import Selection, mediajobs_path
from mediajobs.kube.watch import Informer
from tests.builders import mediajob
from tests.localcluster import WAIT_SHORT, Kubectl

Seen = list[tuple[str, str]]


@contextlib.asynccontextmanager
async def client(ns: Kubectl, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Kube]:
    async with Kube(Login.from_environment(kubeconfig=str(ns.kubeconfig))) as kube:
        yield kube


def configmap(name: str, *, labelled: bool = True, value: str = "1") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"watched": "yes"} if labelled else {}},
        "data": {"value": value},
    }


async def until_seen(seen: Seen, wanted: tuple[str, str]) -> None:
    async def arrived() -> None:
        while wanted not in seen:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(arrived(), WAIT_SHORT)


@contextlib.asynccontextmanager
async def running(informer: Informer) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(informer.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_list_then_watch_then_resume_from_an_old_version(
    ns: Kubectl, monkeypatch: pytest.MonkeyPatch
) -> None:
    for manifest in (configmap("a"), configmap("b"), configmap("other", labelled=False)):
        ns.apply(manifest)
    seen: Seen = []
    async with client(ns, monkeypatch) as kube:
        informer = Informer(
            kube,
            f"/api/v1/namespaces/{ns.namespace}/configmaps",
            lambda kind, body: seen.append((kind, body["metadata"]["name"])),
            Selection(labels="watched=yes"),
        )
        async with running(informer):
            await asyncio.wait_for(informer.synced.wait(), WAIT_SHORT)
            assert sorted(seen) == [("ADDED", "a"), ("ADDED", "b")]  # the selector holds

            ns.apply(configmap("c"))
            await until_seen(seen, ("ADDED", "c"))
            ns.apply(configmap("a", value="2"))
            await until_seen(seen, ("MODIFIED", "a"))
            ns.run("delete", "configmap", "b")
            await until_seen(seen, ("DELETED", "b"))

        # Stopped, c goes; the informer comes back with an old resourceVersion. A
        # long-running API server has compacted it away: 410 Gone, so the informer
        # lists again and reports what the new list lacks as DELETED. A young one
        # still serves it and replays the events since. Either way c's deletion
        # arrives and the watch goes on.
        ns.run("delete", "configmap", "c")
        informer.version = "1"
        seen.clear()
        async with running(informer):
            await until_seen(seen, ("DELETED", "c"))
            ns.apply(configmap("d"))
            await until_seen(seen, ("ADDED", "d"))


async def test_a_refused_first_list_stops_the_informer(
    ns: Kubectl, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client(ns, monkeypatch) as kube:
        informer = Informer(kube, "/apis/mediajobs.dev/v1alpha1/nosuchresource", print)
        with pytest.raises(Exception, match="404"):
            await asyncio.wait_for(informer.run(), WAIT_SHORT)
        assert not informer.synced.is_set()


async def test_a_field_selection_of_partial_metadata(
    ns: Kubectl, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the bench watches (status.phase, labels only): an object that comes into the
    selection is ADDED, one that leaves it DELETED, each as its metadata alone."""
    ns.apply(mediajob("a").obj())
    seen: Seen = []
    kinds: set[str] = set()

    def on_event(kind: str, body: Mapping[str, Any]) -> None:
        seen.append((kind, body["metadata"]["name"]))
        kinds.add(str(body.get("kind")))
        assert "spec" not in body and "status" not in body

    async with client(ns, monkeypatch) as kube:
        informer = Informer(
            kube,
            mediajobs_path(ns.namespace),
            on_event,
            Selection(fields="status.phase=Running", metadata_only=True),
        )
        async with running(informer):
            await asyncio.wait_for(informer.synced.wait(), WAIT_SHORT)
            assert seen == []
            status = mediajobs_path(ns.namespace, "a") + "/status"
            await kube.merge_patch(status, {"status": {"phase": "Running"}})
            await until_seen(seen, ("ADDED", "a"))
            await kube.merge_patch(status, {"status": {"phase": "Succeeded"}})
            await until_seen(seen, ("DELETED", "a"))
        assert kinds == {"PartialObjectMetadata"}
        assert informer.lists == 1
