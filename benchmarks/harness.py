"""What the benchmarks share: the stand-ins in their own process, `chatops serve` and a bare Bolt app as
subprocesses, signed load, and figures as "median (min..max)" over repetitions.

The stand-ins (Slack's Web API, the cluster) run at a lower CPU priority than the server measured: in
production they are other machines, so their work must not be billed to the bot's latency.
"""

from __future__ import annotations

import http.client
import itertools
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import httpx

from handlers.shell.payloads import signed, slash_command
from sandbox import config_yaml
from sandbox.serving import free_port

SECRET = "bench-signing-secret"
ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Post:
    """A chat.postMessage the Slack stand-in answered: when, and whether it was a root or a verdict."""

    time: float
    root: bool
    verdict: bool


def _serve_stand_ins(pipe: Connection, scenario: str, kube_delay_s: float) -> None:
    from sandbox import FakeKubeApi
    from sandbox.slack_api import FakeSlackApi

    os.nice(10)
    with FakeSlackApi() as slack, FakeKubeApi(scenario) as cluster:
        cluster.delay_s = kube_delay_s
        pipe.send((slack.api_url, cluster.kubeconfig_path))
        # Each call is read once and each post sent once: the posts are asked for every 50 ms, and the runs of a
        # benchmark make tens of thousands of calls (reading and sending them all each time slowed every run down).
        read = 0
        while (command := pipe.recv()) != "stop":
            assert command == "posts"
            calls = slack.calls(since=read)  # in the order made
            read += len(calls)
            pipe.send([Post(c.time, not c.params.get("thread_ts"), "*Verdict:*" in json.dumps(c.params.get("blocks")))
                       for c in calls if c.method == "chat.postMessage" and not c.error])  # fmt: skip


class StandIns:
    """The Slack Web API and the simulated cluster (answering each call after `kube_delay_s`), in a process."""

    def __init__(self, scenario: str = "crashloop-oom", kube_delay_s: float = 0.0) -> None:
        self._pipe, theirs = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_serve_stand_ins, args=(theirs, scenario, kube_delay_s), daemon=True
        )
        self._process.start()
        self._posts: list[Post] = []
        self.api_url, self.kubeconfig = self._pipe.recv()

    def posts(self) -> list[Post]:
        self._pipe.send("posts")
        self._posts += self._pipe.recv()  # those made since the last time
        return list(self._posts)

    def wait_for(self, done: Callable[[list[Post]], bool], timeout: float) -> list[Post]:
        """The posts once `done(posts)` holds (or the timeout passed)."""
        end = time.monotonic() + timeout
        while not done(posts := self.posts()) and time.monotonic() < end:
            time.sleep(0.05)
        return posts

    def close(self) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=10)

    def __enter__(self) -> StandIns:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_until(url: str, status: int = 200, timeout: float = 60) -> float:
    """Seconds until `url` answers `status` (polled every 10 ms)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(url, timeout=0.5).status_code == status:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.01)
    raise TimeoutError(f"{url} did not answer {status} within {timeout} s")


def _workers_up(url: str, timeout: float = 60) -> None:
    end = time.perf_counter() + timeout
    while httpx.get(f"{url}/readyz", timeout=5).json().get("workers") != "up":
        if time.perf_counter() > end:
            raise TimeoutError(f"the workers of {url} did not start within {timeout} s")
        time.sleep(0.01)


@contextmanager
def chatops_serve(
    stand_ins: StandIns,
    workers: int = 2,
    *extra: str,
    env: Mapping[str, str] | None = None,
    started: dict[str, float] | None = None,
) -> Iterator[str]:
    """`chatops serve` on a fresh store against the stand-ins, once ready and its workers up; yields its URL.
    `env` adds to its environment (`CHATOPS_STORE_URL` for a shared store, `POD_NAME` and `POD_NAMESPACE` for
    a replica); `started` gets the seconds from the start until /readyz answered 200 and until the workers ran."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "chatops.yaml"
        config.write_text(config_yaml(str(Path(folder) / "chatops.db")))
        port = free_port()
        log = (
            Path(tempfile.gettempdir()) / f"chatops-bench-{port}.log"
        )  # kept: what went wrong in a run, if anything
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-sandbox-bot-token", "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": stand_ins.api_url, "KUBECONFIG": stand_ins.kubeconfig, **(env or {})}  # fmt: skip
        server = subprocess.Popen([str(BIN / "chatops"), "--config", str(config), "serve", "--host", "127.0.0.1",
                                   "--port", str(port), "--threads", "32", "--workers", str(workers), *extra],
                                  env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        clock = time.perf_counter()
        try:
            ready = wait_until(f"{url}/readyz")
            _workers_up(url)  # ready before its workers run: the load must not meet their start-up
            if started is not None:
                started.update(readyz=ready, workers=time.perf_counter() - clock)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=120)


@contextmanager
def bare_bolt(stand_ins: StandIns) -> Iterator[str]:
    """The floor: the same Bolt on the same waitress, a /diagnose listener that only acks."""
    port = free_port()
    env = dict(os.environ)
    server = subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "bare_bolt.py"), str(port), stand_ins.api_url],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(f"{url}/healthz")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def diagnose_body(n: int) -> tuple[str, dict[str, str]]:
    body = slash_command(f"api-gateway pods keep restarting OOMKilled #{n}")
    return body, {k: v[0] for k, v in signed(body, secret=SECRET).headers.items()}


def send_signed(url: str | Sequence[str], requests: int, concurrency: int) -> tuple[list[float], int, float]:
    """Signed /diagnose commands: ack latencies in ms (sorted), how many got no 200, and when the first left.

    Several URLs (replicas) share the senders in turn, each sender keeping its connection to one of them, as
    a Kubernetes Service balances connections rather than requests."""
    urls = [url] if isinstance(url, str) else list(url)
    hosts = [u.removeprefix("http://").split(":") for u in urls]
    bodies = [
        diagnose_body(n) for n in range(requests)
    ]  # signed up front: the load generator's CPU is shared
    local = threading.local()  # one keep-alive connection per sender (http.client: cheap on the CPU)
    senders = itertools.count()

    def send(n: int) -> tuple[float, bool]:
        if not hasattr(local, "conn"):
            if not hasattr(local, "host"):
                local.host = hosts[next(senders) % len(hosts)]
            local.conn = http.client.HTTPConnection(local.host[0], int(local.host[1]), timeout=10)
        body, headers = bodies[n]
        clock = time.perf_counter()
        try:
            local.conn.request("POST", "/slack/events", body=body, headers=headers)
            response = local.conn.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            local.conn.close()
            del local.conn
            ok = False
        return (time.perf_counter() - clock) * 1000, ok

    first = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(send, range(requests)))
    return sorted(r[0] for r in results), sum(not r[1] for r in results), first


def percentile(sorted_values: Sequence[float], p: float) -> float:
    return sorted_values[max(0, int(len(sorted_values) * p) - 1)]


def spread(values: Sequence[float], unit: str = "", digits: int = 1) -> str:
    """The median and the range of repetitions: `12.3 ms (11.9..13.0)`."""
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} ({min(values):.{digits}f}..{max(values):.{digits}f})"
