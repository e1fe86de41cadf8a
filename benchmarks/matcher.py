"""Matcher quality and speed on the labelled evaluation set (benchmarks/matcher_eval.yaml).

    python benchmarks/matcher.py [--misses]

Prints top-1 and top-3 accuracy over the labelled queries (an abstention counts as a miss), how many of the
texts that fit no playbook were abstained on, and the per-query latency.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import yaml

from bot.config import config_path, load_config
from bot.matcher import Matcher
from bot.playbooks_loader import load_catalog

EVAL = Path(__file__).resolve().parent / "matcher_eval.yaml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="print the queries the matcher got wrong")
    args = parser.parse_args()
    catalog = load_catalog()
    config = load_config(config_path(None), guides=catalog.guides())
    matcher = Matcher(catalog, config.guide_hints())
    queries = yaml.safe_load(EVAL.read_text())["queries"]

    top1 = top3 = labelled = abstained_ok = unlabelled = false_abstain = 0
    latencies = []
    for query in queries:
        guide = config.service(query["service"])[1].guide if query.get("service") else None
        start = time.perf_counter()
        result = matcher.match(query["text"], guide=guide, top=3)
        latencies.append((time.perf_counter() - start) * 1000)
        ids = [] if result.abstained else [m.playbook.id for m in result.matches]
        expect = set(query["expect"])
        if expect:
            labelled += 1
            hit1, hit3 = bool(ids) and ids[0] in expect, bool(expect & set(ids))
            top1 += hit1
            top3 += hit3
            false_abstain += result.abstained
            if args.misses and not hit1:
                got = [f"{m.playbook.id} {m.score:.1f}" for m in result.matches]
                print(
                    f"MISS{' (abstained)' if result.abstained else ''}: {query['text']!r} [{query.get('service')}]"
                    f"\n   want {sorted(expect)}\n   got  {got}"
                )
        else:
            unlabelled += 1
            abstained_ok += result.abstained
            if args.misses and not result.abstained:
                m = result.matches[0]
                print(f"FALSE MATCH: {query['text']!r} -> {m.playbook.id} {m.score:.1f} {m.why}")

    latencies.sort()
    print(
        f"queries: {len(queries)} ({labelled} labelled, {unlabelled} that fit no playbook), {len(catalog)} playbooks"
    )
    print(f"top-1 accuracy:        {top1 / labelled:6.1%}  ({top1}/{labelled})")
    print(f"top-3 accuracy:        {top3 / labelled:6.1%}  ({top3}/{labelled})")
    print(f"false abstentions:     {false_abstain / labelled:6.1%}  ({false_abstain}/{labelled})")
    print(f"abstained on no-fit:   {abstained_ok / unlabelled:6.1%}  ({abstained_ok}/{unlabelled})")
    print(
        f"latency per query:     mean {statistics.mean(latencies):.3f} ms, p50 {latencies[len(latencies) // 2]:.3f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)]:.3f} ms, max {latencies[-1]:.3f} ms"
    )


if __name__ == "__main__":
    main()
