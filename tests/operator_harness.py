"""The operator as a real process against the test cluster, watching one namespace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.localcluster import REPO, WAIT_LONG, Kubectl, free_port, wait_for


@dataclass
class OperatorProcess:
    kube: Kubectl
    namespace: str
    workdir: Path
    config: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)  # over os.environ; None unsets
    args: list[str] = field(default_factory=list)  # more `mediajobs operator` flags
    replica: int = 0  # the second operator of a namespace (leader election) logs apart
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log(self) -> Path:
        suffix = f"-{self.replica}" if self.replica else ""
        return self.workdir / f"operator-{self.namespace}{suffix}.log"

    def start(self) -> OperatorProcess:
        self.launch()
        wait_for("the operator to be ready", self._ready, WAIT_LONG)
        return self

    def launch(self) -> OperatorProcess:
        """Start the process without waiting for it to be ready (it may be meant to fail)."""
        config_file = self.workdir / f"operator-{self.namespace}.yaml"
        config_file.write_text(yaml.safe_dump(self.config))
        env = {
            **os.environ,
            "KUBECONFIG": str(self.kube.kubeconfig),
            "PYTHONPATH": str(REPO / "operator"),
            **self.env,
        }
        self.starts += 1
        with self.log.open("ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mediajobs", "operator", "--namespace", self.namespace,
                 "--config", str(config_file), "--http-port", str(self.port), *self.args],
                stdout=out, stderr=subprocess.STDOUT,
                env={k: v for k, v in env.items() if v is not None}, cwd=REPO,
            )  # fmt: skip
        return self

    def exit_status(self, timeout: float = WAIT_LONG) -> int:
        """Wait for the process to end by itself; its exit status."""
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired as err:
            tail = self.log.read_text()[-4000:]
            raise AssertionError(f"the operator still runs:\n{tail}") from err

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"the operator exited:\n{self.log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return bool(r.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            return str(r.read().decode())

    def metric(self, name: str) -> float:
        """The value of the unlabelled metric NAME on /metrics."""
        for line in self.metrics().splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
        raise AssertionError(f"{name} missing")

    def kill(self) -> None:
        """SIGKILL: no clean-up runs, as when a node dies."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
