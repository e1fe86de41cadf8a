"""Ack latency of `chatops serve` against its floor: signed /diagnose requests over HTTP at a given concurrency.

    python benchmarks/ack_latency.py [--requests 500] [--concurrency 25] [--workers 2] [--runs 3]

Each run sends the same load first to a bare Bolt app (benchmarks/bare_bolt.py: the same Bolt, waitress and
threads, a listener that only acks), then to `chatops serve` on a fresh store, against the stand-ins (their
own process, at a lower priority). Prints, per run and as median (min..max): p50/p95/p99 of the time to
Slack's 200 for both, the bot's over the floor (goal <= 1.3x at p95 and p99), requests lost, and how long
until every incident had its verdict (the bot's workers draining the incidents).
"""

from __future__ import annotations

import argparse

from harness import StandIns, bare_bolt, chatops_serve, percentile, send_signed, spread


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=25)
    parser.add_argument("--workers", type=int, default=2, help="chatops serve --workers")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {}

    def note(name: str, value: float) -> None:
        figures.setdefault(name, []).append(value)

    with StandIns() as stand_ins:
        for run in range(args.runs):
            with bare_bolt(stand_ins) as url:
                floor, floor_lost, _ = send_signed(url, args.requests, args.concurrency)
            with chatops_serve(stand_ins, args.workers) as url:
                before = sum(p.verdict for p in stand_ins.posts())
                bot, lost, first = send_signed(url, args.requests, args.concurrency)
                wanted = before + args.requests
                posts = stand_ins.wait_for(lambda p, n=wanted: sum(x.verdict for x in p) >= n, 600)
            verdicts = [p.time for p in posts if p.verdict][before:]
            drained = max(verdicts) - first if len(verdicts) >= args.requests else float("nan")
            for name, values in (("bare", floor), ("bot", bot)):
                for p in (0.5, 0.95, 0.99):
                    note(f"{name} p{round(p * 100)}", percentile(values, p))
            for p in (95, 99):
                note(f"ratio p{p}", figures[f"bot p{p}"][-1] / figures[f"bare p{p}"][-1])
            note("lost", lost + floor_lost)
            note("drained", drained)
            print(f"run {run + 1}: bare p50/p95/p99 {figures['bare p50'][-1]:.1f}/{figures['bare p95'][-1]:.1f}/"
                  f"{figures['bare p99'][-1]:.1f} ms; bot {figures['bot p50'][-1]:.1f}/{figures['bot p95'][-1]:.1f}/"
                  f"{figures['bot p99'][-1]:.1f} ms; lost {lost}; {len(verdicts)} verdicts after {drained:.1f} s")  # fmt: skip
    print(
        f"{args.requests} signed /diagnose at concurrency {args.concurrency}, {args.workers} workers, {args.runs} runs:"
    )
    for p in (50, 95, 99):
        print(
            f"  p{p}: bare Bolt {spread(figures[f'bare p{p}'], ' ms')}, bot {spread(figures[f'bot p{p}'], ' ms')}"
        )
    print(f"  bot / bare Bolt: p95 {spread(figures['ratio p95'], 'x', 2)}, p99 {spread(figures['ratio p99'], 'x', 2)}"
          "  (goal <= 1.3x)")  # fmt: skip
    print(f"  lost (no 200): {spread(figures['lost'], '', 0)}")
    print(f"  every verdict posted: {spread(figures['drained'], ' s')} after the first request")


if __name__ == "__main__":
    main()
