"""Fan-out of one playbook's probes: 12 HTTP checks against local servers answering in 50 ms .. 2 s.

    python benchmarks/diagnose_fanout.py [--runs N]

Prints the wall time of the run, the slowest probe's latency, their ratio (target <= 1.2), the sequential sum
for comparison, and the engine's own overhead per probe (time a probe took beyond its server's delay).
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
from bot.runner import RunLimits, Runner

DELAYS_MS = [50, 80, 120, 200, 300, 450, 600, 800, 1000, 1300, 1600, 2000]


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    server = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    steps = [
        {"probe": "http.check", "id": f"p{ms}", "params": {"url": f"{url}/{ms}", "latency_warn_ms": 5000}}
        for ms in DELAYS_MS
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
    runner = Runner(limits=RunLimits(probe_timeout_s=10, deadline_s=30))

    walls, overheads = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        diagnosis = runner.run(playbook, "bench", service)
        walls.append((time.perf_counter() - started) * 1000)
        assert all(f.status.value == "ok" for f in diagnosis.findings), [
            f.summary for f in diagnosis.findings
        ]
        overheads += [f.duration_ms - int(f.step[1:]) for f in diagnosis.findings]
    server.shutdown()

    slowest, sequential = max(DELAYS_MS), sum(DELAYS_MS)
    wall = statistics.median(walls)
    print(f"probes: {len(DELAYS_MS)}, server latencies {min(DELAYS_MS)}..{slowest} ms, runs: {args.runs}")
    print(f"wall time (median):     {wall:8.1f} ms  (min {min(walls):.1f}, max {max(walls):.1f})")
    print(f"slowest probe latency:  {slowest:8.1f} ms")
    print(f"ratio wall/slowest:     {wall / slowest:8.3f}  (target <= 1.2)")
    print(f"sequential sum:         {sequential:8.1f} ms  ({sequential / wall:.1f}x the concurrent run)")
    print(
        f"engine overhead/probe:  {statistics.median(overheads):8.2f} ms median, {max(overheads):.2f} ms max "
        "(probe time beyond its server's delay: client, parsing, redaction)"
    )


if __name__ == "__main__":
    main()
