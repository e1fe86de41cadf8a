"""Incident work in worker processes, for `chatops serve` and `chatops socket`.

Diagnoses are CPU work in Python (API clients decoding JSON, matching, rendering). In the process that answers
Slack they would hold the interpreter lock while acks wait; in their own processes, at a lower CPU priority,
they cannot delay an ack. Each worker builds its own Runtime (store connection, Slack client, API clients) from
the same Settings, handed over at start, and shares the store with the others.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from bot.incident.requests import Request
from bot.playbooks_loader import load_catalog
from bot.settings import Settings
from bot.store import open_store
from handlers.deps import Runtime, bot_client

_runtime: Runtime | None = None  # this worker process's own; set once by _start (the pool's initializer)


def pool(settings: Settings, workers: int) -> ProcessPoolExecutor:
    """Worker processes, started now rather than on the first incident (each takes a second to import)."""
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(settings,))  # fmt: skip
    for started in [executor.submit(os.getpid) for _ in range(workers)]:
        started.result()
    return executor


def _start(settings: Settings) -> None:
    global _runtime
    os.nice(10)  # when the CPU is short, the process answering Slack comes first
    catalog = load_catalog(settings.playbooks_dir)
    _runtime = Runtime.build(settings, catalog, bot_client(settings), open_store(settings.store_url))


def run(request: Request) -> None:
    """In a worker: the request, run by this process's Runtime."""
    assert _runtime is not None, "the pool's initializer builds the worker's Runtime"
    _runtime.run(request)
