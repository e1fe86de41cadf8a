"""Fan-out of one playbook's probes: 12 HTTP checks against local servers answering in 50 ms .. 2 s, then 12
all answering in 500 ms (where the engine's overhead cannot hide behind one slow probe), then the logs check
of a 3-pod deployment with the simulated API server answering each call in 200 ms.

    python benchmarks/diagnose_fanout.py [--runs N]

Prints the wall time of each run, the slowest probe's latency, their ratio (target <= 1.2), the sequential sum
for comparison, and the engine's own overhead per probe (time a probe took beyond its server's delay). The
end-to-end case, through `chatops serve`, the store and the Slack stand-in, is benchmarks/incidents_at_once.py.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

from bot.config import Service
from bot.playbooks_loader import load_file
from bot.probes.base import Clients, ProbeContext
from bot.registry import PROBES
from bot.runner import RunLimits, Runner
from sandbox.kube_api import CONTEXT, NAMESPACE, FakeKubeApi

SPREAD_MS = [50, 80, 120, 200, 300, 450, 600, 800, 1000, 1300, 1600, 2000]
EQUAL_MS = [500] * 12


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(int(self.path.strip("/")) / 1000)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = (
        64  # all 12 probes connect at once: the default backlog of 5 drops some (SYN retry: +1 s)
    )


def fanout(runner: Runner, url: str, delays: list[int], runs: int) -> None:
    """One playbook of an HTTP check per delay, run `runs` times: wall time against the slowest server."""
    steps = [
        {"probe": "http.check", "id": f"p{n}_{ms}", "params": {"url": f"{url}/{ms}", "latency_warn_ms": 5000}}
        for n, ms in enumerate(delays)
    ]
    playbook_data = {
        "id": "bench/fanout", "title": "Fan-out", "summary": "12 probes.", "source": {"guide": "bench", "section": "x"},
        "symptoms": ["x"], "diagnostics": steps, "severity": {"default": "SEV-3"},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fanout.yaml"
        path.write_text(yaml.safe_dump(playbook_data))
        playbook, problems = load_file(path)
    assert playbook is not None, problems
    service = Service.model_validate({"guide": "bench", "team": "t"})

    walls, overheads = [], []
    for _ in range(runs):
        started = time.perf_counter()
        diagnosis = runner.run(playbook, "bench", service)
        walls.append((time.perf_counter() - started) * 1000)
        assert all(f.status.value == "ok" for f in diagnosis.findings), [
            f.summary for f in diagnosis.findings
        ]
        overheads += [f.duration_ms - int(f.step.split("_")[1]) for f in diagnosis.findings]

    slowest, sequential = max(delays), sum(delays)
    wall = statistics.median(walls)
    print(f"{len(delays)} probes, server latencies {min(delays)}..{slowest} ms, runs: {runs}")
    print(f"  wall time (median):     {wall:8.1f} ms  (min {min(walls):.1f}, max {max(walls):.1f})")
    print(f"  slowest probe latency:  {slowest:8.1f} ms")
    print(f"  ratio wall/slowest:     {wall / slowest:8.3f}  (target <= 1.2)")
    print(f"  sequential sum:         {sequential:8.1f} ms  ({sequential / wall:.1f}x the concurrent run)")
    print(
        f"  engine overhead/probe:  {statistics.median(overheads):8.2f} ms median, {max(overheads):.2f} ms max "
        "(probe time beyond its server's delay: client, parsing, redaction)"
    )


def pod_logs(runs: int, delay_s: float = 0.2) -> None:
    """The logs check of a 3-pod deployment, the API server answering every call after `delay_s`: one list,
    then the three reads at once, so about two round trips rather than four."""
    service = Service.model_validate({"guide": "bench", "team": "t", "kubernetes": {
        "context": CONTEXT, "namespace": NAMESPACE, "deployment": "api-gateway"}})  # fmt: skip
    spec = PROBES["k8s.logs"]
    walls = []
    with FakeKubeApi("crashloop-oom") as cluster:
        cluster.delay_s = delay_s
        for _ in range(runs):
            ctx = ProbeContext("api-gateway", service, Clients(kubeconfig=cluster.kubeconfig_path),
                               time.monotonic() + 30)  # fmt: skip
            started = time.perf_counter()
            result = spec.run(ctx, spec.params.model_validate({}))
            walls.append((time.perf_counter() - started) * 1000)
        reads = sum(r.path.endswith("/log") for r in cluster.requests) // runs
    print(f"logs check, 3 pods ({reads} log reads), {delay_s * 1000:.0f} ms per API call, runs: {runs}: "
          f"{statistics.median(walls):.0f} ms median (min {min(walls):.0f}, max {max(walls):.0f}); one after "
          f"another would be {(1 + reads) * delay_s * 1000:.0f} ms; {result.summary}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    runner = Runner(limits=RunLimits(probe_timeout_s=10, deadline_s=30))
    fanout(runner, url, SPREAD_MS, args.runs)
    fanout(runner, url, EQUAL_MS, args.runs)  # no slow probe for the engine's overhead to hide behind
    server.shutdown()
    pod_logs(args.runs)


if __name__ == "__main__":
    main()
