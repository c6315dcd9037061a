"""The alerts and the dashboard the chart ships read only what the operator exports.

Every PromQL expression in charts/mediajobs/files (the PrometheusRule groups and
the Grafana dashboard's targets) is parsed (promql-parser), and each series it
selects, each label it matches or groups by and each label value it matches on
must appear on /metrics as the operator renders it for a busy queue.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import promql_parser as promql
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.localcluster import REPO
from tests.unit.controller.test_metrics import busy, scrape
from tests.unit.controller.world import world

FILES = REPO / "charts" / "mediajobs" / "files"
RULES = FILES / "prometheus-rules.yaml"
DASHBOARD = FILES / "grafana-dashboard.json"
# Grafana's own variables, as a range a query could be given.
GRAFANA_RANGES = re.compile(r"\$__(rate_interval|interval|range)\b")
# Labels Prometheus adds to every scraped series, and the histogram bucket label.
SCRAPE_LABELS = {"instance", "job", "namespace", "pod", "service", "endpoint", "le"}


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_targets() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(p["title"], t["expr"]) for p in panels for t in p["targets"]]


EXPRESSIONS = [(r["alert"], r["expr"]) for r in rules()] + [
    (title, GRAFANA_RANGES.sub("5m", expr)) for title, expr in dashboard_targets()
]


async def busy_scrape() -> str:
    async with world(limits={"cpu": {"maxRunning": 1}}) as w:
        await busy(w)
        return scrape(w)


@pytest.fixture(scope="module")
def exported() -> dict[str, dict[str, set[str]]]:
    """Per sample name on /metrics: each label and the values it takes."""
    text = asyncio.run(busy_scrape())
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = out[sample.name]
            for name, value in sample.labels.items():
                labels[name].add(value)
    return out


def selectors(expr: promql.Expr) -> Iterator[promql.VectorSelector]:
    found: list[promql.VectorSelector] = []
    promql.walk(expr, lambda n: found.append(n) if isinstance(n, promql.VectorSelector) else None)
    return iter(found)


def grouping_labels(expr: promql.Expr) -> set[str]:
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql.AggregateExpr) and node.modifier is not None:
            found.update(node.modifier.labels)

    promql.walk(expr, visit)
    return found


@pytest.mark.parametrize(("where", "expr"), EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_every_series_is_exported(
    where: str, expr: str, exported: dict[str, dict[str, set[str]]]
) -> None:
    parsed = promql.parse(expr)  # a syntax error raises ValueError
    labels: dict[str, set[str]] = defaultdict(set)
    for selector in selectors(parsed):
        assert selector.name in exported, f"{where}: {selector.name} is not on /metrics"
        series = exported[selector.name]
        for key, values in series.items():
            labels[key] |= values
        for matcher in selector.matchers.matchers:
            assert matcher.name in series, f"{where}: {selector.name} has no {matcher.name}"
            if matcher.op == promql.MatchOp.Equal:
                assert matcher.value in series[matcher.name], f"{where}: {matcher}"
    unknown = grouping_labels(parsed) - set(labels) - SCRAPE_LABELS
    assert not unknown, f"{where}: grouped by labels the series lack: {unknown}"


def test_the_reference_alerts_and_ours() -> None:
    by_name = {r["alert"]: r for r in rules()}
    assert set(by_name) == {
        "MediaJobQueueBacklog",
        "MediaJobsStuckRunning",
        "MediaJobFailureRate",
        "MediaJobWaitingForLogin",
    }
    backlog, stuck = by_name["MediaJobQueueBacklog"], by_name["MediaJobsStuckRunning"]
    assert (backlog["expr"], backlog["for"]) == ("sum(media_jobs_pending) > 50", "30m")
    assert stuck["for"] == "10m"
    assert by_name["MediaJobWaitingForLogin"]["expr"].endswith("> 3600")
    for rule in rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_dashboard_shows_what_the_issue_asks() -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["uid"] == "mediajobs"
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
    text = json.dumps(board["panels"])
    for wanted in (
        "media_jobs_waiting",  # queue depth per category
        "media_jobs_running",
        "media_vram_used_mb_by_pool",
        "media_vram_available_mb_by_pool",
        "media_job_admission_wait_seconds_bucket",
        "media_job_duration_seconds_bucket",
        "media_job_failures_total",
    ):
        assert wanted in text
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
