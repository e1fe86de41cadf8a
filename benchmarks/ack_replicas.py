"""Ack latency with one and with two replicas on PostgreSQL (and one on SQLite, for reference): the same signed
/diagnose load, spread over the replicas as a Service spreads connections.

    python benchmarks/ack_replicas.py [--requests 300] [--concurrency 25] [--workers 2] [--runs 3]
                                      [--postgres-url postgresql://...]

Each run sends the load to `chatops serve` on a fresh SQLite file, then on a fresh PostgreSQL database with one
replica, then with two (POD_NAME and POD_NAMESPACE set, so they elect a leader through the Lease the simulated
API server keeps). The stand-ins (Slack's Web API, the cluster) run in their own process at a lower priority
(benchmarks/harness.py). PostgreSQL is the one at `--postgres-url` (each run makes a database in it), else a
throwaway cluster from this machine's PostgreSQL binaries (tests/postgres_server.py). Before the next setup
starts, every incident of the run has its verdict (or none has come for 30 s: an incident whose work failed
never gets one), so no setup is measured while another drains.

Prints, per run and as median (min..max) over the runs: p50/p95/p99 of the time to Slack's 200 for each
setup, requests lost (no 200), how many incidents got their verdict and how long until the last one.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import psycopg
from harness import ROOT, Post, StandIns, chatops_serve, percentile, send_signed, spread

sys.path.insert(0, str(ROOT / "tests"))
from postgres_server import PostgresServer, find_bindir

QUIET_S = 30.0  # no new verdict for this long: the rest are not coming
SETUPS = ("sqlite, 1 replica", "postgresql, 1 replica", "postgresql, 2 replicas")


@contextmanager
def postgres(url: str | None) -> Iterator[Callable[[], str]]:
    """A function that makes a fresh database and returns its URL: in the server at `url`, or a throwaway one."""
    if url is not None:

        def database() -> str:
            name = f"chatops_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            return url.rsplit("/", 1)[0] + f"/{name}"

        yield database
        return
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("no PostgreSQL binaries (apt-get install postgresql), and no --postgres-url given")
    server = PostgresServer(bindir).start()
    try:
        yield server.database
    finally:
        server.stop()


@contextmanager
def replicas(stand_ins: StandIns, workers: int, store_url: str | None, count: int) -> Iterator[list[str]]:
    """`count` replicas of `chatops serve` on one store (None: each its own SQLite file), once all are ready."""
    with ExitStack() as stack:
        urls = []
        for n in range(count):
            env = {} if store_url is None else {"CHATOPS_STORE_URL": store_url}
            if count > 1:
                env |= {"POD_NAME": f"chatops-bench-{n}", "POD_NAMESPACE": "chatops"}
            urls.append(stack.enter_context(chatops_serve(stand_ins, workers, env=env)))
        yield urls


def settled(stand_ins: StandIns, wanted: int) -> list[Post]:
    """The posts once `wanted` verdicts are in, or once none has come for QUIET_S (an incident whose work failed
    never gets one: the figures say how many came)."""
    last, count, since = stand_ins.posts(), -1, time.monotonic()
    while (now := sum(p.verdict for p in last)) < wanted and time.monotonic() - since < QUIET_S:
        if now != count:
            count, since = now, time.monotonic()
        time.sleep(0.1)
        last = stand_ins.posts()
    return last


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2, help="chatops serve --workers, per replica")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--postgres-url", help="a PostgreSQL server to make the databases in (default: throwaway)"
    )
    args = parser.parse_args()
    figures: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    with StandIns() as stand_ins, postgres(args.postgres_url) as database:
        for run in range(args.runs):
            line = []
            for setup in SETUPS:
                store_url = None if setup.startswith("sqlite") else database()
                count = 2 if setup.endswith("2 replicas") else 1
                with replicas(stand_ins, args.workers, store_url, count) as urls:
                    before = sum(p.verdict for p in stand_ins.posts())
                    acks, lost, first = send_signed(urls, args.requests, args.concurrency)
                    wanted = before + args.requests
                    posts = settled(stand_ins, wanted)
                verdicts = [p.time for p in posts if p.verdict][before:]
                drained = max(verdicts) - first if verdicts else float("nan")
                for p in (0.5, 0.95, 0.99):
                    note(f"{setup} p{round(p * 100)}", percentile(acks, p))
                note(f"{setup} lost", lost)
                note(f"{setup} drained", drained)
                note(f"{setup} verdicts", len(verdicts))
                latest = "/".join(f"{figures[setup + f' p{p}'][-1]:.1f}" for p in (50, 95, 99))
                line.append(
                    f"{setup}: {latest} ms, lost {lost}, {len(verdicts)} verdicts after {drained:.1f} s"
                )
            print(f"run {run + 1}: " + "; ".join(line), flush=True)
    print(f"{args.requests} signed /diagnose at concurrency {args.concurrency}, {args.workers} workers per replica, "
          f"{args.runs} runs; ack p50 / p95 / p99, lost, every verdict posted:")  # fmt: skip
    for setup in SETUPS:
        percentiles = " / ".join(spread(figures[f"{setup} p{p}"], " ms") for p in (50, 95, 99))
        print(f"  {setup:24} {percentiles}; lost {spread(figures[f'{setup} lost'], '', 0)}; "
              f"verdicts {spread(figures[f'{setup} verdicts'], '', 0)} of {args.requests}, the last after "
              f"{spread(figures[f'{setup} drained'], ' s')}")  # fmt: skip


if __name__ == "__main__":
    main()
