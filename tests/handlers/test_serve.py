"""`chatops serve` as deployed: a real HTTP server; Slack's signed requests over HTTP; health, readiness, metrics.

One server for the module (it takes seconds to start and stop): each test asserts on what its own requests
changed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from processes import TEST_WORKER_NICE

from handlers.shell.payloads import SIGNING_SECRET, signed, slash_command
from sandbox import FakeKubeApi, config_yaml
from sandbox.serving import free_port
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeSlackApi]]:
    tmp_path = tmp_path_factory.mktemp("serve")
    config = tmp_path / "chatops.yaml"
    config.write_text(config_yaml(str(tmp_path / "chatops.db")))
    port = free_port()
    with FakeSlackApi() as slack, FakeKubeApi("crashloop-oom") as cluster:
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": slack.api_url, "KUBECONFIG": cluster.kubeconfig_path}  # fmt: skip
        exe = Path(sys.executable).parent / "chatops"
        log = (tmp_path / "serve.log").open("w")
        server = subprocess.Popen(
            [str(exe), "--config", str(config), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--worker-nice", str(TEST_WORKER_NICE)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):  # wait until it listens (bounded)
                try:
                    httpx.get(f"{url}/healthz", timeout=0.5)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            yield url, slack
        finally:
            server.terminate()
            server.wait(timeout=10)
            log.close()


def post(url: str, body: str, **kwargs: object) -> httpx.Response:
    request = signed(body, **kwargs)  # type: ignore[arg-type]
    headers = {k: v[0] for k, v in request.headers.items()}
    return httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=5)


def requests_counted(metrics: str) -> float:
    return next(float(line.split()[1]) for line in metrics.splitlines()
                if line.startswith("chatops_ack_seconds_count "))  # fmt: skip


def test_a_signed_command_over_http_opens_the_incident(served: tuple[str, FakeSlackApi]) -> None:
    url, slack = served
    response = post(url, slash_command("api-gateway pods keep restarting, OOMKilled since the last deploy"))
    assert response.status_code == 200
    assert "Opening an incident for `api-gateway`" in response.text
    end = time.monotonic() + 30
    while time.monotonic() < end and not any(
        "Problem confirmed" in m.text for m in slack.messages(CHANNEL_ID)
    ):
        time.sleep(0.1)
    assert any("Problem confirmed" in m.text for m in slack.messages(CHANNEL_ID))
    metrics = httpx.get(f"{url}/metrics").text  # the incident was opened by a worker process
    assert 'chatops_incidents_open{severity="none"} 1.0' in metrics
    assert 'chatops_incidents_open{severity="SEV-1"} 0.0' in metrics
    assert 'chatops_probe_results_total{probe="k8s.pods",status="critical"} ' in metrics, (
        "counted by the worker"
    )
    assert 'chatops_probe_seconds_count{probe="k8s.pods"} ' in metrics


def test_unsigned_requests_get_401_and_nothing_runs(served: tuple[str, FakeSlackApi]) -> None:
    url, slack = served
    posted = len(slack.calls("chat.postMessage"))
    body = slash_command("api-gateway 504s")
    assert post(url, body, secret="wrong").status_code == 401
    assert httpx.post(f"{url}/slack/events", content=body, timeout=5).status_code == 401
    assert len(slack.calls("chat.postMessage")) == posted


def test_health_readiness_and_metrics(served: tuple[str, FakeSlackApi]) -> None:
    url, _ = served
    assert httpx.get(f"{url}/healthz").text == "ok\n"
    ready = httpx.get(f"{url}/readyz")
    assert ready.status_code == 200, "ready while its worker processes start: acks need none of them"
    end = time.monotonic() + 60  # the workers start in the background; bounded
    while ready.json()["workers"] == "starting" and time.monotonic() < end:
        time.sleep(0.05)
        ready = httpx.get(f"{url}/readyz")
    # One replica on SQLite: no Lease, and it leads (under the name its container goes by).
    assert ready.json() == {"status": "ready", "problems": [], "workers": "up", "replica": socket.gethostname(),
                            "leading": True,
                            "leader": socket.gethostname(), "lease": None}  # fmt: skip
    before = requests_counted(httpx.get(f"{url}/metrics").text)
    post(url, slash_command("api-gateway 504s"), secret="wrong")
    metrics = httpx.get(f"{url}/metrics").text
    assert "# TYPE chatops_ack_seconds histogram" in metrics
    assert requests_counted(metrics) == before + 1
    assert f'chatops_leader{{replica="{socket.gethostname()}"}} 1.0' in metrics


@pytest.mark.parametrize("reach", ["a token Slack refuses", "Slack unreachable"])
def test_serve_refuses_to_start_with_a_token_slack_does_not_confirm(tmp_path: Path, reach: str) -> None:
    config = tmp_path / "chatops.yaml"
    config.write_text(config_yaml(str(tmp_path / "chatops.db")))
    with FakeSlackApi() as slack:
        token, api_url = ("xoxb-0000-not-this-workspace", slack.api_url) if reach.startswith("a token") else (
            TOKEN, f"http://127.0.0.1:{free_port()}/api/")  # fmt: skip
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
        }
        run = subprocess.run([str(Path(sys.executable).parent / "chatops"), "--config", str(config), "serve",
                              "--host", "127.0.0.1", "--port", str(free_port())],
                             env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 2
    assert "chatops: Slack did not confirm the bot token (auth.test at " in run.stderr
    assert "Traceback" not in run.stderr
    assert ("invalid_auth" if reach.startswith("a token") else "Connection refused") in run.stderr
