"""`kubectl mediajobs` on the real local cluster, run as kubectl runs it (the installed
`kubectl-mediajobs` executable, found on PATH), with the operator as a real process:
every command, and the errors a person meets (not found, wrong phase, no permission,
a bad kubeconfig), each one line on stderr and a non-zero exit."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.builders import hitlsession, mediajob
from tests.integration.operator_checks import status, wait_phase
from tests.integration.test_login import token, write_kubeconfig
from tests.localcluster import WAIT_LONG, Kubectl, wait_for
from tests.operator_harness import OperatorProcess

pytestmark = pytest.mark.cluster

StartOperator = Callable[..., OperatorProcess]
PLUGIN = Path(sys.executable).parent / "kubectl-mediajobs"  # [project.scripts], installed
CAP_1 = {"limits": {"cpu": {"maxRunning": 1}}}
COOKIE_VALUE = "s3cr3t-session-value"


def plugin(
    ns: Kubectl, *args: str, kubeconfig: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`kubectl mediajobs ARGS -n <the test's namespace>`; CHECK: it must succeed."""
    env = {**os.environ, "KUBECONFIG": str(kubeconfig or ns.kubeconfig)}
    here = [] if "-A" in args else ["-n", str(ns.namespace)]
    argv = [str(PLUGIN), *args, *here]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=False)
    if check:
        assert result.returncode == 0, f"{args} failed: {result.stderr}"
    return result


def fails(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """RESULT's one-line error, which says WORDS; the exit is 1."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def rows(table: str) -> dict[str, list[str]]:
    """A table's rows by their first cell, cells split on runs of 3+ spaces."""
    lines = table.strip().splitlines()[1:]
    return {cells[0]: cells for cells in (re.split(r" {3,}", line) for line in lines)}


def test_list_get_stats_and_latest(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(**CAP_1)
    ns.apply(mediajob("runs").kwok(run_for="300s").labels(team="a").obj())
    wait_phase(ns, "runs", "Running")
    ns.apply(mediajob("waits").spec(priority=3).labels(team="b").obj())
    wait_for("waits at position 1", lambda: status(ns, "waits").get("queuePosition") == 1 or None)

    table = plugin(ns, "list").stdout
    assert table.split()[:8] == [
        "NAME", "OPERATION", "PHASE", "PROGRESS", "POSITION", "REASON", "ATTEMPTS", "AGE",
    ]  # fmt: skip
    got = rows(table)
    assert got["runs"][1:3] == ["validate", "Running"] and got["runs"][-2] == "1"
    assert "░" in got["runs"][3] or "█" in got["runs"][3]  # the progress bar
    assert got["waits"][2:5] == ["Queued", "-", "1"]
    assert "cpu" in got["waits"][5]  # why it waits: the category's cap
    assert list(rows(plugin(ns, "list", "--phase", "queued").stdout)) == ["waits"]
    assert list(rows(plugin(ns, "list", "--category", "gpu_ai").stdout)) == []
    assert list(rows(plugin(ns, "list", "--operation", "validate").stdout)) == ["runs", "waits"]
    assert list(rows(plugin(ns, "list", "-l", "team=a").stdout)) == ["runs"]
    assert plugin(ns, "list", "-o", "name").stdout.split() == [
        "mediajob.mediajobs.dev/runs", "mediajob.mediajobs.dev/waits",
    ]  # fmt: skip
    listed = json.loads(plugin(ns, "list", "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["runs", "waits"]
    wide = plugin(ns, "list", "-o", "wide").stdout
    assert "CATEGORY" in wide and "PRIORITY" in wide
    everywhere = plugin(ns, "list", "-A", "--phase", "Queued").stdout
    assert everywhere.split()[0] == "NAMESPACE" and f"{ns.namespace}   waits" in everywhere

    described = plugin(ns, "get", "runs").stdout
    assert "Phase:          Running" in described and "Admitted" in described  # an Event
    assert plugin(ns, "get", "@latest", "-o", "name").stdout.strip().endswith("/waits")
    assert yaml.safe_load(plugin(ns, "get", "waits", "-o", "yaml").stdout)["spec"]["priority"] == 3
    fails(plugin(ns, "get", "nope", check=False), '"nope" not found', str(ns.namespace))

    # stats, computed: the operator's Service is not in the cluster (it runs as a process);
    # its limits come from a ConfigMap as the chart makes it.
    config = {"limits": {"cpu": {"maxRunning": 1}}, "gpuPools": [{"name": "big", "vramMiB": 24000}]}
    ns.apply({"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "mediajobs", "labels": {"app.kubernetes.io/name": "mediajobs"}},
              "data": {"config.yaml": yaml.safe_dump(config)}})  # fmt: skip
    text = plugin(ns, "stats", "--operator-namespace", str(ns.namespace)).stdout
    assert rows(text)["cpu"][1:] == ["1", "1", "0", "0", "0", "1"]
    assert "big" in text and "24000" in text and "configmap/mediajobs" in text
    figures = json.loads(plugin(ns, "stats", "-o", "json").stdout)
    assert figures["queues"]["cpu"]["limit"] == 5  # no ConfigMap there: the defaults
    assert figures["vram"]["default"]["availableMiB"] == 16000


def test_kubectl_finds_the_plugin(ns: Kubectl) -> None:
    ns.apply(mediajob("x").obj())
    env = {**os.environ, "PATH": f"{PLUGIN.parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        [ns.binary, "mediajobs", "list", f"--kubeconfig={ns.kubeconfig}", "-n", str(ns.namespace)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert list(rows(result.stdout)) == ["x"]
    usage = subprocess.run([str(PLUGIN), "-h"], capture_output=True, text=True, check=True)
    assert usage.stdout.startswith("usage: kubectl mediajobs")


def test_retry_and_resubmit(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("broken").retry(limit=0).kwok(exit_code=1).obj())
    ns.apply(mediajob("slow").kwok(run_for="300s").obj())
    wait_phase(ns, "broken", "Failed")
    wait_phase(ns, "slow", "Running")
    fails(plugin(ns, "retry", "slow", check=False), "slow is Running, not Failed")

    assert "retried" in plugin(ns, "retry", "broken").stdout
    spec = ns.get("mj", "broken")["spec"]
    assert (spec["manualRetries"], spec["priority"]) == (1, 4)
    again = wait_for(
        "the retried job's second run, as attempt 1 again",
        lambda: ((s := status(ns, "broken")).get("runs") == 2 and s) or None,
        WAIT_LONG,
    )
    assert again["attempts"] == 1  # attempts reset
    assert again["failures"] in (0, 1)  # a fresh budget: at most the new attempt's failure
    wait_phase(ns, "broken", "Failed")  # its one attempt spent again
    assert status(ns, "broken")["manualRetries"] == 1

    created = plugin(ns, "resubmit", "broken").stdout.strip()
    name = created.removeprefix("mediajob.mediajobs.dev/").removesuffix(" created")
    assert name.startswith("broken-") and name != "broken-"
    copy = ns.get("mj", name)
    assert copy["spec"]["operation"] == "validate" and copy["spec"]["manualRetries"] == 0
    assert copy["metadata"]["labels"]["kwok.mediajobs.dev/exit-code"] == "1"


def test_pause_resume_cancel_and_wait(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("long").kwok(run_for="300s").obj())
    plugin(ns, "wait", "long", "--for=phase=Running", "--timeout=60s")
    fails(plugin(ns, "resume", "long", check=False), "not paused")
    assert plugin(ns, "pause", "long").stdout.strip() == "mediajob.mediajobs.dev/long paused"
    waited = plugin(ns, "wait", "long", "--for=phase=suspended", "--timeout=60s")
    assert waited.stdout.strip() == "mediajob.mediajobs.dev/long condition met"
    fails(plugin(ns, "pause", "long", check=False), "already paused")
    plugin(ns, "resume", "long")
    plugin(ns, "wait", "long", "--for=phase=Running", "--timeout=60s")
    fails(
        plugin(ns, "wait", "long", "--for=phase=Succeeded", "--timeout=2s", check=False),
        "timed out after 2s",
        "(it is Running)",
    )
    plugin(ns, "cancel", "long")
    plugin(ns, "wait", "long", "--for=phase=Cancelled", "--timeout=60s")
    fails(plugin(ns, "cancel", "long", check=False), "already finished (Cancelled)")
    fails(
        plugin(ns, "wait", "long", "--for=phase=Succeeded", "--timeout=5s", check=False),
        "ended Cancelled",
    )
    result = plugin(ns, "wait", "long", "--for=phase=Done", check=False)
    assert result.returncode == 2 and "unknown phase 'Done'" in result.stderr


def test_logs_name_the_attempt_and_say_why_not(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator(**CAP_1)
    ns.apply(mediajob("first").kwok(run_for="300s").obj())
    wait_phase(ns, "first", "Running")
    ns.apply(mediajob("second").obj())
    wait_phase(ns, "second", "Queued")
    fails(plugin(ns, "logs", "second", check=False), "second has not started an attempt (Queued)")
    job = status(ns, "first")["jobName"]
    wait_for("the attempt's pod", lambda: ns.items("pods", "-l", f"job-name={job}") or None)
    # KWOK's pods have no kubelet to serve logs: the API server's answer, in one line.
    pod = ns.items("pods", "-l", f"job-name={job}")[0]["metadata"]["name"]
    fails(plugin(ns, "logs", "@latest", check=False), "second has not started")
    fails(plugin(ns, "logs", "first", check=False), f"cannot read the log of pod {pod} (attempt 1)")


def test_watch_redraws_as_jobs_change(ns: Kubectl, start_operator: StartOperator) -> None:
    start_operator()
    ns.apply(mediajob("watched").kwok(run_for="300s").obj())
    env = {**os.environ, "KUBECONFIG": str(ns.kubeconfig)}
    proc = subprocess.Popen(
        [str(PLUGIN), "watch", "-n", str(ns.namespace), "--interval", "0.5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline, "")))  # type: ignore[union-attr]
    reader.start()
    try:
        wait_for("watched shown Running", lambda: any("Running" in s for s in seen) or None)
        plugin(ns, "cancel", "watched")
        wait_for("watched shown Cancelled", lambda: any("Cancelled" in s for s in seen) or None)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == 130, proc.stderr.read()  # type: ignore[union-attr]


def cookies_file(tmp_path: Path, cookies: Any) -> Path:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps(cookies))
    return path


def session_phase(ns: Kubectl) -> str | None:
    return ns.get("hitl", "login-alice-fans").get("status", {}).get("phase")  # type: ignore[no-any-return]


def resolve(ns: Kubectl, cookies: Path) -> subprocess.CompletedProcess[str]:
    return plugin(
        ns, "hitl", "resolve", "login-alice-fans", "--cookies-file", str(cookies), check=False
    )


def test_hitl_list_and_resolve(ns: Kubectl, start_operator: StartOperator, tmp_path: Path) -> None:
    op = start_operator()
    ns.apply(hitlsession("login-alice-fans", platform="fans", alertMessage="log in again"))
    wait_for("the session Pending", lambda: session_phase(ns) == "Pending" or None)
    table = rows(plugin(ns, "hitl", "list").stdout)
    assert table["login-alice-fans"][1:5] == ["fans", "alice", "Pending", "0"]
    fails(plugin(ns, "hitl", "resolve", "nope", "--cookies-file", "x", check=False), "not found")

    expired = cookies_file(tmp_path, [{"name": "sid", "value": COOKIE_VALUE, "expires": 1}])
    line = fails(resolve(ns, expired), "1 cookie(s) have expired: 'sid'")
    assert COOKIE_VALUE not in line
    fails(resolve(ns, tmp_path / "none"), "cannot read")

    good = cookies_file(tmp_path, [{"name": "sid", "value": COOKIE_VALUE, "expires": None}])
    done = plugin(ns, "hitl", "resolve", "login-alice-fans", "--cookies-file", str(good),
                  "--method", "manual_cookies")  # fmt: skip
    assert COOKIE_VALUE not in done.stdout + done.stderr
    assert "resolved" in done.stdout
    secret_name = done.stdout.rsplit("secret/", 1)[1].rstrip(")\n")
    secret = ns.get("secret", secret_name)
    stored = json.loads(base64.b64decode(secret["data"]["cookies.json"]))
    assert stored[0]["value"] == COOKIE_VALUE
    assert ns.get("hitl", "login-alice-fans")["spec"]["resolution"] == {"method": "manual_cookies"}
    wait_for("the session Resolved", lambda: session_phase(ns) == "Resolved" or None, WAIT_LONG)
    fails(resolve(ns, good), "is Resolved")
    assert COOKIE_VALUE not in op.log.read_text()


def test_no_permission_is_one_line(ns: Kubectl, tmp_path: Path) -> None:
    """A ServiceAccount that may read MediaJobs but not change them, nor look elsewhere."""
    ns.apply(mediajob("x").obj())
    ns.run("create", "serviceaccount", "viewer")
    ns.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
              "metadata": {"name": "viewer"},
              "rules": [{"apiGroups": ["mediajobs.dev"], "resources": ["mediajobs"],
                         "verbs": ["get", "list"]}]})  # fmt: skip
    ns.run(
        "create",
        "rolebinding",
        "viewer",
        "--role=viewer",
        f"--serviceaccount={ns.namespace}:viewer",
    )
    user = {"token": token(ns, "viewer")}
    config = write_kubeconfig(tmp_path / "viewer.kubeconfig", ns, user, inline_ca=True)
    assert list(rows(plugin(ns, "list", kubeconfig=config).stdout)) == ["x"]
    who = f"system:serviceaccount:{ns.namespace}:viewer"
    fails(
        plugin(ns, "cancel", "x", kubeconfig=config, check=False),
        "forbidden: cannot patch mediajobs.mediajobs.dev x", who,
    )  # fmt: skip
    fails(plugin(ns, "list", "-A", kubeconfig=config, check=False), "cannot list mediajobs")
    fails(plugin(ns, "hitl", "list", kubeconfig=config, check=False), "cannot list hitlsessions")


def test_a_bad_kubeconfig_is_one_line(ns: Kubectl, tmp_path: Path) -> None:
    fails(plugin(ns, "list", kubeconfig=tmp_path / "missing", check=False), "no kubeconfig at")
    broken = tmp_path / "broken"
    broken.write_text("clusters: [this is not a kubeconfig")
    fails(plugin(ns, "list", kubeconfig=broken, check=False))
    config = write_kubeconfig(tmp_path / "k", ns, {"token": "nonsense"}, inline_ca=True)
    fails(plugin(ns, "list", kubeconfig=config, check=False), "unauthorized")
    other = plugin(ns, "list", "--context", "nowhere", check=False)
    fails(other, "nowhere")
    argv = [str(PLUGIN), "list", "-A", "-n", "x"]
    usage = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert usage.returncode == 2 and "-n and -A" in usage.stderr
