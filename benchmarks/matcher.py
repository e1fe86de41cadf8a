"""Matcher quality and speed on the labelled evaluation sets.

    python benchmarks/matcher.py [--misses [tune|test|all]]

Two sets: benchmarks/matcher_eval.yaml (texts written here; all in the tune split) and
benchmarks/matcher_eval_real.yaml (texts people wrote in public issue trackers, each with its source; the split of
each text is decided by a hash of it). Tune weights, thresholds and vocabulary on tune-split misses only: the test
split is held out and only reported. The learned models (bot/learned.py) are trained on the tune split, so its
figures are in-sample: only the test split's say how the matcher does on new text. `--misses` prints tune-split misses; `--misses test` is for reading, not tuning.

For each split the figures come twice: without a service (the whole catalogue) and with one (`/diagnose <service>
...`: the text's own service if the entry names one, else each guide of its expected playbooks, scored against the
expected playbooks of that guide; texts that fit no playbook are scored under every guide and count as abstained
only when abstained under all of them). Top-1 counts an abstention as a miss; top-3 counts the three playbooks the
user is shown, which on an abstention are the closest ones, offered as buttons (false abstentions are their own
column). Latency covers every query,
pasted logs of 1,000 to 400,000 characters (routine lines and one error), a 40,000-character service log that is
errors from end to end (error lines of several kinds, each different, with stack frames between them: the most a
paste makes the matcher read) and a 40,000-character mix of every written evaluation text (a stress case: all the
symptoms at once).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.config import load_config
from bot.matcher import Matcher
from bot.playbooks_loader import load_catalog
from bot.settings import config_path

HERE = Path(__file__).resolve().parent
WRITTEN = HERE / "matcher_eval.yaml"
REAL = HERE / "matcher_eval_real.yaml"


def split_of(text: str) -> str:
    """The split a real text belongs to, from a hash of it (so nobody picks which texts are held out)."""
    return "tune" if int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 2 == 0 else "test"


def load_queries() -> list[dict[str, Any]]:
    """Both sets, each entry with its `split` (written texts are tune; real ones as their hash says)."""
    written = yaml.safe_load(WRITTEN.read_text())["queries"]
    real = yaml.safe_load(REAL.read_text())["queries"]
    for query in written:
        query["split"], query["origin"] = "tune", "written"
    for query in real:
        if query.get("split") != split_of(query["text"]):
            raise SystemExit(f"split of {query['text'][:60]!r} is not the one its hash gives")
        query["origin"] = "real"
    return written + real


@dataclass
class Tally:
    """Counts for one split in one mode (with or without a service)."""

    labelled: int = 0
    top1: int = 0
    top3: int = 0
    false_abstain: int = 0
    unlabelled: int = 0
    abstained: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self, name: str) -> str:
        def pct(n: int, d: int) -> str:
            return f"{n / d:6.1%} ({n}/{d})" if d else "     -"

        return (
            f"  {name:<15} top-1 {pct(self.top1, self.labelled):<18} top-3 {pct(self.top3, self.labelled):<18} "
            f"false abstentions {pct(self.false_abstain, self.labelled):<16} "
            f"non-incident abstained {pct(self.abstained, self.unlabelled)}"
        )


def _describe(result: Any) -> list[str]:
    return [f"{m.playbook.id} {m.score:.1f}" for m in result.matches]


def score(
    matcher: Matcher, queries: Iterable[dict[str, Any]], guides: dict[str, str], all_guides: list[str]
) -> tuple[Tally, Tally, list[float]]:
    """Score queries without a service and with one; return both tallies and the per-query latencies (ms)."""
    bare, given, latencies = Tally(), Tally(), []
    for query in queries:
        text, expect = query["text"], set(query["expect"])
        start = time.perf_counter()
        result = matcher.match(text, top=3)
        latencies.append((time.perf_counter() - start) * 1000)
        _count(bare, result, expect, f"{text!r}")
        if expect:
            in_play = (
                [guides[query["service"]]]
                if query.get("service")
                else sorted({e.split("/")[0] for e in expect})
            )
            for guide in in_play:
                wanted = {e for e in expect if e.startswith(guide + "/")}
                result = matcher.match(text, guide=guide, service=query.get("service"), top=3)
                _count(given, result, wanted, f"{text!r} [{guide}]")
        else:
            results = [matcher.match(text, guide=guide, top=3) for guide in all_guides]
            given.unlabelled += 1
            given.abstained += all(r.abstained for r in results)
            wrong = next((r for r in results if not r.abstained), None)
            if wrong is not None:
                m = wrong.matches[0]
                given.misses.append(
                    f"FALSE MATCH: {text!r} [{m.playbook.guide}] -> {m.playbook.id} {m.score:.1f} {m.why}"
                )
    return bare, given, latencies


def _count(tally: Tally, result: Any, expect: set[str], label: str) -> None:
    shown = [m.playbook.id for m in result.matches]
    if expect:
        tally.labelled += 1
        hit1 = not result.abstained and bool(shown) and shown[0] in expect
        hit3 = bool(expect & set(shown))
        tally.top1 += hit1
        tally.top3 += hit3
        tally.false_abstain += result.abstained
        if not hit1:
            tally.misses.append(
                f"MISS{' (abstained)' if result.abstained else ''}: {label}\n   want {sorted(expect)}\n"
                f"   got  {_describe(result)}"
            )
    else:
        tally.unlabelled += 1
        tally.abstained += result.abstained
        if not result.abstained:
            m = result.matches[0]
            reason = (
                f" (not an incident: {result.not_incident})" if getattr(result, "not_incident", None) else ""
            )
            tally.misses.append(f"FALSE MATCH: {label} -> {m.playbook.id} {m.score:.1f} {m.why}{reason}")


def pasted_log(size: int) -> str:
    """A log of `size` characters: routine lines, with one Redis error line near the end."""
    routine = (
        "2024-05-14T09:41:07Z INFO  request handled method=GET path=/v1/items status=200 duration=12ms\n"
    )
    error = "2024-05-14T09:41:08Z ERROR redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.\n"
    body = routine * (size // len(routine) + 1)
    cut = max(0, size - 3 * len(routine) - len(error))
    return (body[:cut] + error + body)[:size]


def pasted_error_log(size: int) -> str:
    """A Java/Python service log of `size` characters failing throughout: half error lines (seven kinds, with ids and
    paths that differ line by line), stack frames and a few routine lines, the same for every run (seeded)."""
    rnd = random.Random(1)
    classes = ["com.example.orders.OrderService", "io.grpc.netty.NettyClientHandler", "org.postgresql.Driver",
               "redis.clients.jedis.Pool", "urllib3.connectionpool", "sqlalchemy.pool.impl.QueuePool"]  # fmt: skip
    errors = [
        "java.net.SocketTimeoutException: Read timed out",
        "ConnectionError: Error 111 connecting to redis:6379. Connection refused.",
        "psycopg2.OperationalError: FATAL: remaining connection slots are reserved",
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        "java.lang.OutOfMemoryError: Java heap space",
        "HTTP 503 Service Unavailable from payments-api",
        "TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30",
    ]
    lines: list[str] = []
    while sum(map(len, lines)) < size:
        kind = rnd.random()
        if kind < 0.5:
            lines.append(
                f"2024-05-14T09:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}Z ERROR [worker-{rnd.randint(1, 40)}] "
                f"{rnd.choice(classes)}: Request {rnd.randint(1000, 9999)} failed: {rnd.choice(errors)} "
                f"(trace_id={rnd.getrandbits(64):x}, path=/v1/orders/{rnd.randint(1, 99999)})"
            )
        elif kind < 0.8:
            frame = rnd.choice(["handle", "process", "call", "invoke"]) + rnd.choice(["Request", "Batch", ""])
            lines.append(
                f"\tat {rnd.choice(classes)}.{frame}({rnd.choice(classes).split('.')[-1]}.java:{rnd.randint(10, 900)})"
            )
        else:
            lines.append(
                f"2024-05-14T09:41:07Z INFO request handled status=200 duration={rnd.randint(1, 90)}ms"
            )
    return "\n".join(lines)[:size]


def pasted_mix(size: int, queries: list[dict[str, Any]]) -> str:
    """A stress case: `size` characters of every written evaluation text, one after another (all symptoms at once)."""
    lines = [q["text"].replace("\n", " ") for q in queries if q["origin"] == "written"]
    text = "\n".join(lines)
    return (text * (size // len(text) + 1))[:size]


def timed(matcher: Matcher, text: str) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU milliseconds of repeated matches of one text (3 to 500 runs, up to 2.5 s: a p99 of
    fewer runs is one or two runs' noise)."""
    wall: list[float] = []
    cpu: list[float] = []
    result = None
    while len(wall) < 500 and (len(wall) < 3 or sum(wall) < 2500):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = matcher.match(text)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return sorted(wall), sorted(cpu), result


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--misses", nargs="?", const="tune", choices=["tune", "test", "all"],
        help="print the queries the matcher got wrong (tune split unless asked)",
    )  # fmt: skip
    args = parser.parse_args()
    catalog = load_catalog()
    config = load_config(config_path(None), guides=catalog.guides())
    matcher = Matcher(catalog, config.guide_hints())
    guides = {name: service.guide for name, service in config.services.items()}
    all_guides = sorted(catalog.guides())
    queries = load_queries()

    latencies: list[float] = []
    print(f"{len(catalog)} playbooks in {len(all_guides)} guides")
    for split, origin in (("tune", None), ("tune", "real"), ("test", "real")):
        chosen = [q for q in queries if q["split"] == split and (origin is None or q["origin"] == origin)]
        bare, given, spent = score(matcher, chosen, guides, all_guides)
        latencies += spent if origin is None or split == "test" else []
        name = f"{split} split" + (" (real texts only)" if origin and split == "tune" else "")
        name += " (real texts, held out)" if split == "test" else ""
        name += " (written here + real)" if origin is None else ""
        name += "; the learned models were trained on it" if split == "tune" else ""
        print(f"\n{name}: {bare.labelled} labelled texts, {bare.unlabelled} that fit no playbook")
        print(bare.line("no service"))
        print(given.line("service given"))
        if (
            args.misses
            and (args.misses == split or args.misses == "all")
            and not (origin and split == "tune")
        ):
            for line in bare.misses + [f"{m}  (service given)" for m in given.misses]:
                print(line)

    latencies.sort()
    print(
        f"\nlatency per query ({len(latencies)} queries): mean {statistics.mean(latencies):.3f} ms, "
        f"p50 {percentile(latencies, 0.5):.3f} ms, p99 {percentile(latencies, 0.99):.3f} ms, max {latencies[-1]:.3f} ms"
    )
    print("pasted text (wall clock; CPU time in brackets, the machine is shared):")
    cases = [(f"log of {size:>7,} chars", pasted_log(size)) for size in (1_000, 10_000, 40_000, 400_000)]
    cases.append(("errors-only log of 40,000 chars", pasted_error_log(40_000)))
    cases.append(("mix of 40,000 chars", pasted_mix(40_000, queries)))
    for name, text in cases:
        wall, cpu, result = timed(matcher, text)
        best = result.best.playbook.id if result.best else "abstained"
        print(
            f"  {name}: mean {statistics.mean(wall):.3f} ms, p50 {percentile(wall, 0.5):.3f} ms, "
            f"p99 {percentile(wall, 0.99):.3f} ms, max {wall[-1]:.3f} ms "
            f"[cpu p50 {percentile(cpu, 0.5):.3f}, p99 {percentile(cpu, 0.99):.3f} ms] -> {best}"
        )


if __name__ == "__main__":
    main()
