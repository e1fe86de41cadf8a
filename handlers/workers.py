"""Incident work in worker processes, for `chatops serve` and `chatops socket`.

Diagnoses are CPU work in Python (API clients decoding JSON, matching, rendering). In the process that answers
Slack they would hold the interpreter lock while acks wait; in their own processes, at a lower CPU priority,
they cannot delay an ack. Each worker builds its own Deps (store connection, Slack client, API clients) from
the same config and environment, and shares the SQLite store (WAL) with the others.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bot.config import load_config
from bot.playbooks_loader import load_catalog
from handlers.deps import Deps, Tell, Work, run_guarded

_deps: Deps | None = None  # this worker process's own; set once by _start (the pool's initializer)


def pool(config_file: str, playbooks_dir: str | None, workers: int) -> ProcessPoolExecutor:
    """Worker processes, started now rather than on the first incident (each takes a second to import)."""
    executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start, initargs=(config_file, playbooks_dir))  # fmt: skip
    for started in [executor.submit(os.getpid) for _ in range(workers)]:
        started.result()
    return executor


def _start(config_file: str, playbooks_dir: str | None) -> None:
    global _deps
    os.nice(10)  # when the CPU is short, the process answering Slack comes first
    catalog = load_catalog(Path(playbooks_dir) if playbooks_dir else None)
    _deps = Deps.from_env(load_config(Path(config_file), guides=catalog.guides()), catalog, dict(os.environ))


def run(work: Work, args: tuple[Any, ...], tell: Tell) -> None:
    """In a worker: `work(deps, *args)` with this process's Deps."""
    assert _deps is not None, "the pool's initializer builds the worker's Deps"
    run_guarded(_deps, work, args, tell)
