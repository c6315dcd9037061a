"""`stats`: the operator's own /stats through the API server's service proxy, else the
same figures computed from the MediaJobs, their Jobs' GPU pools and the operator's
ConfigMap (stats.py, pure)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

import yaml

from mediajobs.config import OperatorConfig
from mediajobs.jobs.naming import POOL_LABEL
from mediajobs.kube.client import Kube
from mediajobs.kube.errors import ApiError
from mediajobs.kube.port import Selection, jobs_path
from mediajobs.plugin import render
from mediajobs.plugin.access import Cluster
from mediajobs.plugin.args import Globals
from mediajobs.plugin.commands import emit
from mediajobs.plugin.stats import computed, stats_text

Body = dict[str, Any]
OPERATOR_LABELS = "app.kubernetes.io/name=mediajobs"  # the chart's labels


async def operator_stats(kube: Kube, namespace: str) -> tuple[Body | None, str]:
    """The operator's /stats through the API server's service proxy (None, and why
    not, when there is no such Service or it does not answer)."""
    services = await kube.list_all(
        f"/api/v1/namespaces/{namespace}/services",
        Selection(labels=f"{OPERATOR_LABELS},app.kubernetes.io/component=operator"),
    )
    if not services:
        return None, f"no operator Service in namespace {namespace}"
    name = services[0]["metadata"]["name"]
    path = f"/api/v1/namespaces/{namespace}/services/{name}:http/proxy/stats"
    try:
        return await kube.request("GET", path, forbidden_stops=False), f"service/{name}"
    except ApiError as err:
        return None, f"service/{name} did not answer: {err}"


async def operator_config(kube: Kube, namespace: str) -> tuple[OperatorConfig, str]:
    """The operator's configuration (its chart's ConfigMap), or the defaults."""
    try:
        maps = await kube.list_all(
            f"/api/v1/namespaces/{namespace}/configmaps", Selection(labels=OPERATOR_LABELS)
        )
    except ApiError as err:
        return OperatorConfig(), f"the default limits (the operator's ConfigMap: {err})"
    for cm in maps:
        text = (cm.get("data") or {}).get("config.yaml")
        if text:
            config = OperatorConfig.model_validate(yaml.safe_load(text) or {})
            return config, f"the limits of configmap/{cm['metadata']['name']}"
    return (
        OperatorConfig(),
        f"the default limits (no operator ConfigMap in namespace {namespace})",
    )


async def gpu_pools_of_jobs(kube: Kube, namespace: str | None) -> dict[str, str]:
    """Job name -> the GPU pool it was placed in (its label), for the Jobs that have one."""
    jobs = await kube.list_all(
        jobs_path(namespace), Selection(labels=POOL_LABEL, metadata_only=True)
    )
    return {j["metadata"]["name"]: j["metadata"]["labels"][POOL_LABEL] for j in jobs}


async def stats(cluster: Cluster, flags: Globals, args: argparse.Namespace, out: TextIO) -> int:
    """The operator's own /stats when the API server can proxy to it; else computed."""
    document, said = await operator_stats(cluster.kube, args.operator_namespace)
    if document is not None:
        source = f"the operator's /stats ({said}, through the API server)"
    else:
        config, limits = await operator_config(cluster.kube, args.operator_namespace)
        scope = None if flags.all_namespaces else cluster.namespace
        pools = await gpu_pools_of_jobs(cluster.kube, scope)
        document = computed(await cluster.mediajobs(), config, pools)
        where = "every namespace" if scope is None else f"namespace {scope}"
        source = f"computed from the MediaJobs of {where} and {limits} ({said})"
    if flags.output in ("json", "yaml"):
        emit(out, render.printed(document, flags.output))
    else:
        emit(out, stats_text(document, source))
    return 0
