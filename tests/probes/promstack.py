"""A real Prometheus and Alertmanager for tests, on free loopback ports with temporary directories.

Prometheus scrapes a tiny /metrics server of the test's own (job `api-gateway`) and a closed port (job
`payments`, so one target is down), evaluates an always-firing alert every second and sends it to the
Alertmanager. `start()` returns once both are ready *and* the data the tests read is there (the first
scrapes are done and the alert reached Alertmanager), polling with a bounded timeout, never a fixed sleep.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakes.http_server import RecordingServer

PROMETHEUS, ALERTMANAGER = "prometheus", "prometheus-alertmanager"
READY_TIMEOUT_S = 40

METRICS = """\
# TYPE http_requests_total counter
http_requests_total{service="api-gateway",code="200"} 950
http_requests_total{service="api-gateway",code="503"} 50
# TYPE http_request_duration_p95_seconds gauge
http_request_duration_p95_seconds{service="api-gateway",route="/v1/chat"} 2.4
http_request_duration_p95_seconds{service="api-gateway",route="/health"} 0.01
"""

RULES = """\
groups:
  - name: tests
    interval: 1s
    rules:
      - alert: APIGatewayHighErrorRate
        expr: vector(1)
        labels: {service: api-gateway, severity: critical}
        annotations: {summary: 5xx ratio above 5% for 5 minutes}
"""


def missing_binaries() -> list[str]:
    return [name for name in (PROMETHEUS, ALERTMANAGER) if shutil.which(name) is None]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PromStack:
    """Start with `start()`, stop with `stop()`; URLs are set once started."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="promstack-")))
    metrics: RecordingServer = field(default_factory=RecordingServer)
    closed: socket.socket = field(default_factory=socket.socket)  # bound, never listening: refuses
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    prometheus_url: str = ""
    alertmanager_url: str = ""

    @property
    def closed_target(self) -> str:
        return f"127.0.0.1:{self.closed.getsockname()[1]}"

    def start(self) -> PromStack:
        self.metrics.route("/metrics", text=METRICS, headers={"Content-Type": "text/plain; version=0.0.4"})
        self.metrics.start()
        self.closed.bind(("127.0.0.1", 0))
        am_port, prom_port = free_port(), free_port()
        self.alertmanager_url = f"http://127.0.0.1:{am_port}"
        self.prometheus_url = f"http://127.0.0.1:{prom_port}"
        self._spawn(ALERTMANAGER, self._alertmanager_args(am_port))
        self._spawn(PROMETHEUS, self._prometheus_args(prom_port, am_port))
        self._wait("Prometheus and Alertmanager ready", self._ready)
        self._wait("first scrapes and the alert in Alertmanager", self._has_data)
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.metrics.stop()
        self.closed.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.workdir.glob("*.log")))

    # --- set-up ---

    def _alertmanager_args(self, port: int) -> list[str]:
        config = self.workdir / "alertmanager.yml"
        config.write_text("route: {receiver: blackhole, group_wait: 1s}\nreceivers: [{name: blackhole}]\n")
        return [
            f"--config.file={config}",
            f"--storage.path={self.workdir / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port
            "--log.level=warn",
        ]

    def _prometheus_args(self, port: int, am_port: int) -> list[str]:
        (self.workdir / "rules.yml").write_text(RULES)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(self.workdir / "rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{am_port}"]}]}]},
            "scrape_configs": [
                {
                    "job_name": "api-gateway",
                    "static_configs": [{"targets": [f"127.0.0.1:{self.metrics.port}"]}],
                },
                {"job_name": "payments", "static_configs": [{"targets": [self.closed_target]}]},
            ],
        }
        (self.workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        return [
            f"--config.file={self.workdir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.workdir / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--rules.alert.resend-delay=1s",  # the first alert may go out before the Alertmanager is known
            "--log.level=warn",
        ]

    def _spawn(self, binary: str, args: list[str]) -> None:
        log = open(self.workdir / f"{binary}.log", "wb")  # noqa: SIM115 - the child writes to it
        try:
            self.processes.append(
                subprocess.Popen([binary, *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
            )
        finally:
            log.close()

    # --- readiness ---

    def _wait(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    command = (
                        " ".join(map(str, process.args))
                        if isinstance(process.args, list)
                        else str(process.args)
                    )
                    raise RuntimeError(f"{command} exited ({process.returncode}):\n{self.logs()}")
            if condition():
                return
            time.sleep(0.1)  # polling interval, not a timing assertion
        raise RuntimeError(f"timed out after {READY_TIMEOUT_S} s waiting for {what}:\n{self.logs()}")

    def _ready(self) -> bool:
        return all(
            _fetch(f"{url}/-/ready") is not None for url in (self.prometheus_url, self.alertmanager_url)
        )

    def _has_data(self) -> bool:
        targets = _fetch(f"{self.prometheus_url}/api/v1/targets?state=active")
        health = sorted(t["health"] for t in (targets or {}).get("data", {}).get("activeTargets", []))
        series = _fetch(f"{self.prometheus_url}/api/v1/query?query=http_requests_total")
        scraped = bool(series and series["data"]["result"])
        alerts = _fetch(f"{self.alertmanager_url}/api/v2/alerts")
        return health == ["down", "up"] and scraped and bool(alerts)


def _fetch(url: str) -> Any:
    """GET a URL and parse JSON (None when not answering yet); '/-/ready' answers plain text."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            body = response.read()
    except OSError:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode()
