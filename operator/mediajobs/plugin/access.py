"""The plugin's shell to the API server: logged in like kubectl (kube/login.py: every
kubeconfig kind, `--context`, `--kubeconfig`, $KUBECONFIG, a pod's service account),
requests through the operator's own client (kube/client.py), errors as one line.
"""

from __future__ import annotations

import base64
import contextlib
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

from mediajobs.kube.client import Kube
from mediajobs.kube.errors import ApiError
from mediajobs.kube.login import Login, LoginError, Source
from mediajobs.kube.port import (
    Selection,
    hitlsessions_path,
    mediajobs_path,
    pods_path,
    secrets_path,
)
from mediajobs.plugin.args import LATEST, Globals
from mediajobs.plugin.render import newest

Body = dict[str, Any]
FOLLOW_READ_TIMEOUT = 24 * 3600.0  # a quiet worker is no reason to stop following its log


class PluginError(Exception):
    """What went wrong, in one line; the command exits 1."""


def context_namespace(source: Source) -> str:
    """The namespace commands act in without -n: the kubeconfig context's, a pod's own
    (its service account's namespace file), else "default" (as kubectl decides)."""
    if source.service_account is not None:
        with contextlib.suppress(OSError):
            return (source.service_account / "namespace").read_text().strip() or "default"
        return "default"
    try:
        merged = KubeConfigMerger(source.kubeconfig)
        if merged.config is None:
            return "default"
        loader = KubeConfigLoader(config_dict=merged.config, active_context=source.context)
        return str(loader.current_context["context"].get("namespace") or "default")
    except Exception:
        return "default"


@dataclass
class Cluster:
    kube: Kube
    namespace: str
    all_namespaces: bool
    selector: str | None

    # ---- MediaJobs -------------------------------------------------------------------

    def _scope(self) -> str | None:
        return None if self.all_namespaces else self.namespace

    async def mediajobs(self, *, everywhere: bool | None = None) -> list[Body]:
        scope = (
            None if (self.all_namespaces if everywhere is None else everywhere) else self.namespace
        )
        return await self.kube.list_all(mediajobs_path(scope), Selection(labels=self.selector))

    async def mediajob(self, name: str) -> Body:
        """NAME in the namespace; @latest: the newest MediaJob there."""
        if name == LATEST:
            found = newest(await self.kube.list_all(mediajobs_path(self.namespace)))
            if found is None:
                raise PluginError(f"no MediaJobs in namespace {self.namespace}: no {LATEST}")
            return dict(found)
        found_one = await self.kube.get(mediajobs_path(self.namespace, name))
        if found_one is None:
            raise PluginError(f'mediajob "{name}" not found in namespace {self.namespace}')
        return found_one

    async def patch_spec(self, job: Mapping[str, Any], spec: Mapping[str, Any]) -> Body:
        """Merge SPEC into JOB's spec, only if JOB is still as read (its resourceVersion)."""
        meta = job["metadata"]
        patch = {"metadata": {"resourceVersion": meta["resourceVersion"]}, "spec": dict(spec)}
        try:
            return await self.kube.merge_patch(
                mediajobs_path(meta["namespace"], meta["name"]), patch
            )
        except ApiError as err:
            if err.status == 409:
                raise PluginError(f"mediajob {meta['name']} changed meanwhile: try again") from err
            raise

    async def create_mediajob(self, namespace: str, body: Mapping[str, Any]) -> Body:
        return await self.kube.request("POST", mediajobs_path(namespace), body=dict(body))

    async def events_of(self, obj: Mapping[str, Any]) -> list[Body]:
        meta = obj["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/events"
        return await self.kube.list_all(path, Selection(fields=f"involvedObject.uid={meta['uid']}"))

    # ---- Jobs, pods, logs ------------------------------------------------------------

    async def pods_of_job(self, namespace: str, job_name: str) -> list[Body]:
        return await self.kube.list_all(
            pods_path(namespace), Selection(labels=f"job-name={job_name}")
        )

    @contextlib.asynccontextmanager
    async def log(
        self, namespace: str, pod: str, *, follow: bool
    ) -> AsyncIterator[aiohttp.StreamReader]:
        path = f"{pods_path(namespace)}/{pod}/log"
        params = {"follow": "true"} if follow else {}
        async with self.kube.stream(
            path, params, read_timeout=FOLLOW_READ_TIMEOUT, accept="*/*"
        ) as body:
            yield body

    # ---- HitlSessions ----------------------------------------------------------------

    async def hitlsessions(self) -> list[Body]:
        return await self.kube.list_all(
            hitlsessions_path(self._scope()), Selection(labels=self.selector)
        )

    async def hitlsession(self, name: str) -> Body:
        found = await self.kube.get(hitlsessions_path(self.namespace, name))
        if found is None:
            raise PluginError(f'hitlsession "{name}" not found in namespace {self.namespace}')
        return found

    async def store_secret(self, namespace: str, name: str, key: str, raw: bytes) -> None:
        """Put RAW under KEY of the Secret NAME (made if missing, its other keys kept)."""
        data = {key: base64.b64encode(raw).decode()}
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "Opaque",
            "data": data,
        }
        _, created = await self.kube.create(f"/api/v1/namespaces/{namespace}/secrets", secret)
        if not created:
            await self.kube.merge_patch(secrets_path(namespace, name), {"data": data})

    async def resolve_session(self, session: Mapping[str, Any], method: str) -> Body:
        meta = session["metadata"]
        patch = {"spec": {"resolution": {"method": method}}}
        return await self.kube.merge_patch(
            hitlsessions_path(meta["namespace"], meta["name"]), patch
        )


@contextlib.asynccontextmanager
async def connect(flags: Globals) -> AsyncIterator[Cluster]:
    """A logged-in Cluster for FLAGS; a kubeconfig that cannot log in is a PluginError."""
    login = Login.from_environment(kubeconfig=flags.kubeconfig, context=flags.context)
    namespace = flags.namespace or context_namespace(login.source)
    try:
        async with Kube(login, connections=8) as kube:
            yield Cluster(kube, namespace, flags.all_namespaces, flags.selector)
    except LoginError as err:
        raise PluginError(str(err)) from err


def read_file(path: str) -> bytes:
    """The bytes of PATH ('-': stdin); a missing file is a PluginError."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise PluginError(f"cannot read {path}: {err.strerror}") from err
