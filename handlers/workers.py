"""Incident work in worker processes, for `chatops serve` and `chatops socket`.

Diagnoses are CPU work in Python (API clients decoding JSON, matching, rendering). In the process that answers
Slack they would hold the interpreter lock while acks wait; in their own processes, at a lower CPU priority,
they cannot delay an ack. Each worker builds its own Runtime (store connection, Slack client, API clients) from
the same Settings and the catalogue the serving process loaded, handed over at start, and shares the store
with the others.

Inside a worker, requests run on a pool of threads: a diagnosis spends its time waiting on the Kubernetes and
Slack APIs, so one process runs many at once, and the number of processes only matters for CPU. How many run
their checks at once is capped across all workers (handlers.turns); past the cap an incident's thread says
it is queued.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from bot.incident.requests import Request
from bot.metrics import count_in
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from bot.store import open_store
from handlers.deps import Runtime, bot_client
from handlers.turns import WORKER_NICE, SharedTurns

# Requests one worker holds at once: running, or posted and waiting for their turn. Past it they wait in the
# worker's queue; threads that wait cost little, so this sits well above the cap on checks at once.
THREADS_PER_WORKER = 64

_runtime: Runtime | None = None  # this worker process's own; set once by _start (the pool's initializer)
_threads: ThreadPoolExecutor | None = None


def pool(
    settings: Settings,
    workers: int,
    catalog: Catalog,
    turns: SharedTurns,
    metrics_dir: Path | None = None,
    up: Callable[[], None] = lambda: None,
    failed: Callable[[str], None] = lambda reason: None,
    nice: int = WORKER_NICE,
) -> ProcessPoolExecutor:
    """Worker processes, started now rather than on the first incident; they count their metrics in
    `metrics_dir` beside the serving process's (bot.metrics).

    They start in the background: each takes about a second to import, and acking Slack needs none of them, so
    serving begins at once and what is handed over meanwhile waits in the pool's queue; `up` is called once
    they all run. A worker that cannot start (its store unreachable) is `failed`: liveness then fails, as for
    a worker that dies later.

    `nice`: how far below the serving process they run. Acks come first when the CPU is short, and a nice value
    weighs each thread: at 10, a worker's dozens of threads together outweighed the few that ack (ack p95 1.5x a
    bare Bolt app's under 500 incidents, 1.0x at 19). Beside other busy processes at normal priority (a test
    suite), 19 starves them: those lower it."""
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(settings, catalog, turns, metrics_dir, nice))  # fmt: skip

    def start() -> None:
        try:
            # Until every process has answered: one that is up can take both of a round's tasks.
            answered: set[int] = set()
            while len(answered) < workers:
                answered |= {
                    task.result() for task in [executor.submit(_pid_after, 0.05) for _ in range(workers)]
                }
            up()
        except BrokenExecutor as error:
            failed(f"incident workers: {error}")
        except RuntimeError:  # shut down before they were all up: nothing is left to start
            pass

    threading.Thread(target=start, name="workers-start", daemon=True).start()
    return executor


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)  # long enough that another idle process takes the round's next task
    return os.getpid()


def _start(
    settings: Settings, catalog: Catalog, turns: SharedTurns, metrics_dir: Path | None, nice: int
) -> None:
    global _runtime, _threads
    os.nice(nice)  # when the CPU is short, the process answering Slack comes first
    if metrics_dir is not None:
        count_in(metrics_dir)
    store = open_store(settings.store_url)
    _runtime = Runtime.build(settings, catalog, bot_client(settings), store, turns=turns)
    _threads = ThreadPoolExecutor(THREADS_PER_WORKER, thread_name_prefix="incident")
    # When the pool shuts down (SIGTERM), this process exits once its requests are done: waiting for them must
    # come before concurrent.futures' own exit hook, after which no thread pool takes work, so a diagnosis in
    # progress could not start its next checks. These hooks run last registered first.
    threading._register_atexit(_threads.shutdown)  # type: ignore[attr-defined]


def run(requests: list[Request]) -> None:
    """In a worker: hand the requests to this process's threads and return, ready for the next ones."""
    assert _runtime is not None and _threads is not None, "the pool's initializer builds the worker's Runtime"
    for request in requests:
        _threads.submit(_runtime.run, request)
