"""Ack latency of `chatops serve`: signed /diagnose requests over HTTP at a given concurrency.

    python benchmarks/ack_latency.py [--requests 500] [--concurrency 25] [--workers 2]

Starts `chatops serve` against the local Slack Web API and the simulated cluster, sends the requests, and
prints p50/p99/max time to Slack's 200 (target p99 <= 100 ms; Slack allows 3000 ms), how many were lost, and
the time from the first request to the first incident thread message.

Three processes share the machine: this load generator, the stand-ins for Slack and the cluster (their own
process, so their work does not delay the timing of responses here), and `chatops serve` with its workers.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

from handlers.shell.payloads import signed, slash_command
from sandbox import FakeKubeApi, config_yaml
from sandbox.serving import free_port
from sandbox.slack_api import TOKEN, FakeSlackApi

SECRET = "bench-signing-secret"


def stand_ins(pipe: Connection) -> None:
    """Serve the Slack Web API and the cluster until told to stop; then report the first thread reply's time."""
    with FakeSlackApi() as slack, FakeKubeApi("crashloop-oom") as cluster:
        pipe.send((slack.api_url, cluster.kubeconfig_path))
        pipe.recv()
        replies = [
            c.time for c in slack.calls("chat.postMessage") if c.params.get("thread_ts") and not c.error
        ]
        pipe.send(min(replies, default=float("nan")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2, help="chatops serve --workers")
    args = parser.parse_args()
    pipe, theirs = multiprocessing.get_context("spawn").Pipe()
    fakes = multiprocessing.get_context("spawn").Process(target=stand_ins, args=(theirs,), daemon=True)
    fakes.start()
    api_url, kubeconfig = pipe.recv()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "chatops.yaml"
        config.write_text(config_yaml(str(Path(folder) / "chatops.db")))
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": api_url,
               "KUBECONFIG": kubeconfig}  # fmt: skip
        chatops = Path(sys.executable).parent / "chatops"
        server = subprocess.Popen([str(chatops), "--config", str(config), "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--threads", "32", "--workers", str(args.workers)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            for _ in range(600):  # until it listens (its workers start first)
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            local = threading.local()  # one keep-alive connection per sender (http.client: cheap on the CPU)

            def send(n: int) -> tuple[float, float, bool]:
                body = slash_command(f"api-gateway pods keep restarting OOMKilled #{n}")
                headers = {k: v[0] for k, v in signed(body, secret=SECRET).headers.items()}
                if not hasattr(local, "conn"):
                    local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                started, clock = time.time(), time.perf_counter()
                try:
                    local.conn.request("POST", "/slack/events", body=body, headers=headers)
                    response = local.conn.getresponse()
                    response.read()
                    ok = response.status == 200
                except (OSError, http.client.HTTPException):
                    local.conn.close()
                    del local.conn
                    ok = False
                return started, (time.perf_counter() - clock) * 1000, ok

            wall = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(pool.map(send, range(args.requests)))
            wall = time.perf_counter() - wall
            time.sleep(2)  # let the first incidents reach their threads
        finally:
            server.terminate()
            server.wait(timeout=60)
    pipe.send("stop")
    first_reply = pipe.recv() - min(r[0] for r in results)
    fakes.join(timeout=10)

    latencies = sorted(r[1] for r in results)
    lost = sum(not r[2] for r in results)
    print(
        f"requests: {args.requests} at concurrency {args.concurrency}, {wall:.1f} s wall, {args.workers} workers"
    )
    print(
        f"ack latency: p50 {statistics.median(latencies):.1f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms, "
        f"max {latencies[-1]:.1f} ms  (target p99 <= 100 ms; Slack allows 3000 ms)"
    )
    print(f"lost (no 200): {lost}")
    print(f"first thread message: {first_reply * 1000:.0f} ms after the first request")


if __name__ == "__main__":
    main()
