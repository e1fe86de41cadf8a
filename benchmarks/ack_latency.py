"""Ack latency of `chatops serve`: signed /diagnose requests over HTTP at a given concurrency.

    python benchmarks/ack_latency.py [--requests 500] [--concurrency 25]

Starts `chatops serve` against the local Slack Web API and the simulated cluster, sends the requests, and
prints p50/p99/max time to Slack's 200 (target p99 <= 100 ms; Slack allows 3000 ms), how many were lost, and
the time from a request to its incident's first thread message.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.sandbox import FakeKubeApi, config_yaml
from bot.sandbox.serving import free_port
from bot.sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi

SECRET = "bench-signing-secret"


def command_body(n: int) -> str:
    return urlencode({"command": "/diagnose", "text": f"api-gateway pods keep restarting OOMKilled #{n}",
                      "channel_id": CHANNEL_ID, "channel_name": "incidents", "user_id": "U0ALICE",
                      "team_id": "T0SANDBOX", "response_url": "https://hooks.slack.com/commands/1/2",
                      "trigger_id": f"{n}.1.x"})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=25)
    args = parser.parse_args()
    verifier = SignatureVerifier(SECRET)
    with (
        tempfile.TemporaryDirectory() as folder,
        FakeSlackApi() as slack,
        FakeKubeApi("crashloop-oom") as cluster,
    ):
        config = Path(folder) / "chatops.yaml"
        config.write_text(config_yaml(str(Path(folder) / "chatops.db")))
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": slack.api_url, "KUBECONFIG": cluster.kubeconfig_path}  # fmt: skip
        chatops = Path(sys.executable).parent / "chatops"
        server = subprocess.Popen([str(chatops), "--config", str(config), "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--threads", "32"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}/slack/events"
        try:
            for _ in range(300):
                try:
                    httpx.get(url.replace("/slack/events", "/healthz"), timeout=0.5)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=args.concurrency))

            def send(n: int) -> tuple[float, float, bool]:
                body = command_body(n)
                stamp = str(int(time.time()))
                headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": stamp,
                           "X-Slack-Signature": verifier.generate_signature(timestamp=stamp, body=body)}  # fmt: skip
                started = time.perf_counter()
                try:
                    ok = client.post(url, content=body, headers=headers).status_code == 200
                except httpx.HTTPError:
                    ok = False
                return started, (time.perf_counter() - started) * 1000, ok

            seen: list[float] = []

            def watch() -> None:  # when the first thread message lands in the local Slack
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and not seen:
                    if any(m.thread_ts for m in slack.messages(CHANNEL_ID)):
                        seen.append(time.perf_counter())
                    time.sleep(0.005)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            wall = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(pool.map(send, range(args.requests)))
            wall = time.perf_counter() - wall
            watcher.join()
            first_thread = (seen[0] if seen else float("nan")) - min(r[0] for r in results)
        finally:
            server.terminate()
            server.wait(timeout=30)

    latencies = sorted(r[1] for r in results)
    lost = sum(not r[2] for r in results)
    print(f"requests: {args.requests} at concurrency {args.concurrency}, {wall:.1f} s wall")
    print(
        f"ack latency: p50 {statistics.median(latencies):.1f} ms, p99 {latencies[int(len(latencies) * 0.99) - 1]:.1f} ms, "
        f"max {latencies[-1]:.1f} ms  (target p99 <= 100 ms; Slack allows 3000 ms)"
    )
    print(f"lost (no 200): {lost}")
    print(f"first thread message: {first_thread * 1000:.0f} ms after the first request")


if __name__ == "__main__":
    main()
