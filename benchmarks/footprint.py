"""What stays flat as incidents pile up, and how fast the bot starts.

    python benchmarks/footprint.py [--incidents 1000] [--runs 3]

Start-up: `chatops match ...` from the shell until it has printed (goal <= 0.5 s), and `chatops serve` until
/readyz answers 200 with 2 and with 4 workers (goal <= 2 s), and until its worker processes run (they start
beside serving: until then incidents wait in their queue). Each is timed `--runs` times, from the process's
start (the wait polls every 10 ms).

Incidents: `chatops serve` (2 workers) on one SQLite file takes `--incidents` signed /diagnose, then a second
wave as large, against the stand-ins (benchmarks/harness.py). Before, between and after: /readyz and /metrics
latency (200 requests each, goal <= 5 ms and flat), and the store: bytes and rows per incident. After the first
wave every incident is resolved and the retention policy applied as it will be 91 days on (buttons of resolved
incidents go at once, resolved incidents after `store.retention`), so the second wave reuses the freed pages:
the file stays bounded.

DNS: a resolver that takes 5 s to fail (getaddrinfo replaced in this process, the only stand-in here): how long
the first check of an unresolvable host waits with a 1 s timeout, 12 checks of it at once, and a check after
the failure came back (answered from memory).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import socket
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import BIN, StandIns, chatops_serve, percentile, send_signed, spread

from bot.probes.network import Resolver
from bot.store import open_store

TABLES = ("incidents", "timeline", "button_states", "claims")


def startup(runs: int, stand_ins: StandIns) -> None:
    match = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(BIN / "chatops"), "match", "api-gateway 504s since the deploy"],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        match.append(time.perf_counter() - started)
    print(f"chatops match start-up:            {spread(match, ' s', 2)}   goal <= 0.5 s", flush=True)
    for workers in (2, 4):
        ready, up = [], []
        for _ in range(runs):
            started: dict[str, float] = {}
            with chatops_serve(stand_ins, workers, started=started):
                ready.append(started["readyz"])
                up.append(started["workers"])
        print(f"chatops serve --workers {workers}: /readyz 200 after {spread(ready, ' s', 2)} (goal <= 2 s), "
              f"its workers up after {spread(up, ' s', 2)}", flush=True)  # fmt: skip


def endpoint_ms(url: str, path: str, requests: int = 200) -> tuple[float, float]:
    """p50 and p99 of `path` on one keep-alive connection."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        conn.request("GET", path)
        conn.getresponse().read()
        times.append((time.perf_counter() - started) * 1000)
    conn.close()
    times.sort()
    return statistics.median(times), percentile(times, 0.99)


def store_figures(db: Path) -> tuple[int, dict[str, int], int]:
    """The file's bytes (with its write-ahead log), rows per table, and the free pages inside it."""
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return size, rows, free


def wave(stand_ins: StandIns, url: str, count: int, quiet_s: float = 30.0) -> None:
    """`count` /diagnose, returning once every one has its verdict in the thread (or none has come for
    `quiet_s`: the rest are not coming, and the line says how many came)."""
    before = sum(p.verdict for p in stand_ins.posts())
    started = time.perf_counter()
    _, lost, _ = send_signed(url, count, 25)
    done, since = 0, time.monotonic()
    while done < count - lost and time.monotonic() - since < quiet_s:
        time.sleep(1)
        now = sum(p.verdict for p in stand_ins.posts()) - before
        if now != done:
            done, since = now, time.monotonic()
    print(f"  {count} /diagnose: {lost} lost, {done} verdicts after {time.perf_counter() - started:.0f} s",
          flush=True)  # fmt: skip


def report(label: str, url: str, db: Path, incidents: int) -> None:
    readyz, metrics = endpoint_ms(url, "/readyz"), endpoint_ms(url, "/metrics")
    size, rows, free = store_figures(db)
    per = "" if not incidents else f", {size / incidents / 1024:.1f} KiB per incident"
    counts = ", ".join(f"{n} {t}" for t, n in rows.items())
    print(f"{label}\n  /readyz p50 {readyz[0]:.2f} ms p99 {readyz[1]:.2f} ms; /metrics p50 {metrics[0]:.2f} ms "
          f"p99 {metrics[1]:.2f} ms\n  store {size / 1024:.0f} KiB ({free} free pages){per}; rows: {counts}",
          flush=True)  # fmt: skip


def incidents(count: int, stand_ins: StandIns) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "chatops.db"
        url_env = {"CHATOPS_STORE_URL": f"sqlite:///{db}"}
        with chatops_serve(stand_ins, 2, env=url_env) as url:
            report("no incident", url, db, 0)
            wave(stand_ins, url, count)
            report(f"{count} open incidents", url, db, count)
            with open_store(f"sqlite:///{db}") as store:
                for incident in store.list_open(limit=count * 2):
                    store.resolve(incident.id, by="U0BENCH", note="benchmark")
                pruned = store.prune(datetime.now(UTC) + timedelta(days=91))
            print(f"  resolved all and pruned 91 days on: {pruned.incidents} incidents, {pruned.timeline} "
                  f"timeline entries, {pruned.buttons} buttons")  # fmt: skip
            report("after resolve and prune", url, db, 0)
            wave(stand_ins, url, count)
            report(f"a second wave of {count} open incidents", url, db, count)


def dns() -> None:
    def slow_failure(*args: object, **kwargs: object) -> list[object]:
        time.sleep(5)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    real, socket.getaddrinfo = socket.getaddrinfo, slow_failure  # type: ignore[assignment]
    try:
        resolver = Resolver()

        def check() -> float:
            started = time.perf_counter()
            # The check's own timeout, or the failure remembered: both are "could not check".
            with contextlib.suppress(Exception):
                resolver.lookup("db.unresolvable.internal", 5432, timeout=1.0)
            return time.perf_counter() - started

        first = check()
        with ThreadPoolExecutor(12) as pool:
            at_once = list(pool.map(lambda _: check(), range(12)))
        while any(t.name == "dns" for t in threading.enumerate()):  # the lookup itself fails after 5 s
            time.sleep(0.05)
        after = check()
    finally:
        socket.getaddrinfo = real  # type: ignore[assignment]
    print(f"unresolvable host, resolver failing after 5 s, check timeout 1 s: first check {first:.2f} s, "
          f"12 at once {max(at_once):.2f} s at most, after the failure {after * 1000:.2f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with StandIns() as stand_ins:
        startup(args.runs, stand_ins)
        incidents(args.incidents, stand_ins)
    dns()


if __name__ == "__main__":
    main()
