"""Many incidents at once: N signed `/diagnose` sent together to `chatops serve`, the Kubernetes API answering
every call after a delay.

    python benchmarks/incidents_at_once.py [--incidents 10] [--kube-delay 1.0] [--workers 2] [--runs 3]

Prints, per run and as median (min..max) over the runs, when each root message and the last verdict were
posted (seconds after the commands were sent) and the last verdict over the first (goal: <= 1.5; every root
message within 1 s).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from harness import StandIns, chatops_serve, diagnose_body, spread


def one_run(stand_ins: StandIns, incidents: int, workers: int) -> tuple[list[float], list[float]]:
    with chatops_serve(stand_ins, workers) as url:
        before = len(stand_ins.posts())
        bodies = [diagnose_body(n) for n in range(incidents)]

        def send(n: int) -> int:
            body, headers = bodies[n]
            return httpx.post(f"{url}/slack/events", content=body, headers=headers, timeout=10).status_code

        sent = time.time()
        with ThreadPoolExecutor(incidents) as pool:
            assert all(code == 200 for code in pool.map(send, range(incidents)))
        posts = stand_ins.wait_for(lambda p: sum(x.verdict for x in p[before:]) >= incidents, timeout=300)[
            before:
        ]
    roots = sorted(p.time - sent for p in posts if p.root)
    verdicts = sorted(p.time - sent for p in posts if p.verdict)
    return roots, verdicts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10)
    parser.add_argument(
        "--kube-delay", type=float, default=1.0, help="seconds the Kubernetes API takes per call"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    last_roots, firsts, lasts, ratios = [], [], [], []
    with StandIns(kube_delay_s=args.kube_delay) as stand_ins:
        for run in range(args.runs):
            roots, verdicts = one_run(stand_ins, args.incidents, args.workers)
            print(f"run {run + 1}: root messages at {', '.join(f'{t:.1f}' for t in roots)} s; "
                  f"verdicts at {', '.join(f'{t:.1f}' for t in verdicts)} s")  # fmt: skip
            last_roots.append(roots[-1])
            firsts.append(verdicts[0])
            lasts.append(verdicts[-1])
            ratios.append(verdicts[-1] / verdicts[0])
    print(f"{args.incidents} /diagnose at once, Kubernetes API answering in {args.kube_delay} s, {args.workers} workers, "
          f"{args.runs} runs:")  # fmt: skip
    print(f"  last root message:  {spread(last_roots, ' s', 2)}  (goal: every root message within 1 s)")
    print(f"  first verdict:      {spread(firsts, ' s', 2)}")
    print(f"  last verdict:       {spread(lasts, ' s', 2)}")
    print(f"  last / first:       {spread(ratios, 'x', 2)}  (goal <= 1.5x)")


if __name__ == "__main__":
    main()
