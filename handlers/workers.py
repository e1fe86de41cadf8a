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

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, ThreadPoolExecutor
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from bot.incident.requests import Request
from bot.metrics import count_in
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from bot.store import open_store
from handlers.deps import Runtime, bot_client
from handlers.turns import WORKER_NICE, SharedTurns

log = logging.getLogger("chatops")
# Requests one worker holds at once: running, or posted and waiting for their turn. Past it they wait in the
# worker's queue; threads that wait cost little, so this sits well above the cap on checks at once.
THREADS_PER_WORKER = 64


class WorkerPool:
    """Worker processes, each fed batches of requests through a pipe of its own, in turn.

    Only the serving process's hand-off thread writes to the pipes: a batch is pickled and written in that one
    thread, and nothing comes back (a request's outcome is the worker's to post). ProcessPoolExecutor, used
    before, woke three more threads of the serving process per task (its manager, its queue's feeder, then the
    result) and returned a result nobody read: about 50 us of the serving process's CPU per ack under load.
    With one pipe per worker no lock is shared, so a worker that dies cannot leave the others waiting on it.
    """

    def __init__(
        self,
        settings: Settings,
        workers: int,
        catalog: Catalog,
        turns: SharedTurns,
        metrics_dir: Path | None = None,
        up: Callable[[], None] = lambda: None,
        failed: Callable[[str], None] = lambda reason: None,
        nice: int = WORKER_NICE,
    ) -> None:
        """Start the workers now rather than on the first incident; they count their metrics in `metrics_dir`
        beside the serving process's (bot.metrics).

        They start in the background: each takes about a second to import, and acking Slack needs none of them,
        so serving begins at once and what is handed over meanwhile waits in the pipes; `up` is called once they
        all run. A worker that cannot start (its store unreachable) or that dies later (killed for its memory)
        is `failed`: liveness then fails, and handing on raises BrokenExecutor.

        `nice`: how far below the serving process they run. Acks come first when the CPU is short, and a nice
        value weighs each thread: at 10, a worker's dozens of threads together outweighed the few that ack (ack
        p95 1.5x a bare Bolt app's under 500 incidents, 1.0x at 19). Beside other busy processes at normal
        priority (a test suite), 19 starves them: those lower it."""
        context = multiprocessing.get_context("spawn")
        self.broken: str | None = None
        self._failed, self._up = failed, up
        self._turns = turns  # its locks live while this does: the workers open them by name as they start
        self._closing = False
        self._next = 0
        self._started = threading.Event()
        self._pipes: list[Connection] = []
        self._processes: list[BaseProcess] = []
        workers_ends: list[
            tuple[Connection, Connection]
        ] = []  # what each worker reads and where it says it runs
        ready: list[Connection] = []
        for _ in range(workers):
            requests_out, requests_in = context.Pipe(duplex=False)
            ready_out, ready_in = context.Pipe(duplex=False)
            self._processes.append(context.Process(target=_serve, name="chatops-worker", daemon=True,
                                   args=(settings, catalog, turns, metrics_dir, nice, requests_out, ready_in)))  # fmt: skip
            self._pipes.append(requests_in)
            workers_ends.append((requests_out, ready_in))
            ready.append(ready_out)
        threading.Thread(
            target=self._start, args=(workers_ends, ready), name="workers-start", daemon=True
        ).start()

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p.pid is not None]

    def hand_on(self, requests: list[Request]) -> None:
        """Give a batch to the next worker (one thread calls this: the pipes have a single writer)."""
        if self.broken is not None:
            raise BrokenExecutor(self.broken)
        pipe = self._pipes[self._next % len(self._pipes)]
        self._next += 1
        try:
            pipe.send(requests)
        except OSError as error:  # its worker is gone and the watcher has not said so yet
            raise BrokenExecutor(str(error)) from error

    def shutdown(self, wait: bool = True) -> None:
        """No new work; each worker finishes what it holds, then exits (what SIGTERM does to `serve`)."""
        self._closing = True
        for pipe in self._pipes:
            with contextlib.suppress(OSError):  # that worker is gone already
                pipe.send(None)
            pipe.close()
        if wait:
            self._started.wait()
            for process in self._processes:
                process.join()

    def _start(self, workers_ends: list[tuple[Connection, Connection]], ready: list[Connection]) -> None:
        """Start the workers one after another (each start writes the settings and the catalogue into a pipe
        the new process reads as it imports: most of a second, which serving does not wait for), then say when
        every worker runs, and when one stops that was not told to."""
        for process, (requests_out, ready_in) in zip(self._processes, workers_ends, strict=True):
            process.start()
            requests_out.close()  # the worker's ends are the worker's: a dead worker then reads as closed
            ready_in.close()
        self._started.set()
        starting, started = list(ready), 0
        sentinels = {process.sentinel: process for process in self._processes}
        while sentinels:
            for done in wait([*starting, *sentinels]):
                if isinstance(done, Connection):
                    starting.remove(done)
                    try:
                        done.recv()  # its pid: it runs
                    except EOFError:  # it stopped before it ran: its sentinel says so
                        continue
                    finally:
                        done.close()
                    started += 1
                    if started == len(self._processes):
                        self._up()
                    continue
                assert isinstance(done, int)
                process = sentinels.pop(done)
                if not self._closing:
                    self.broken = f"worker {process.pid} stopped (exit code {process.exitcode})"
                    log.error("incident workers: %s", self.broken)
                    self._failed(f"incident workers: {self.broken}")


def _serve(
    settings: Settings,
    catalog: Catalog,
    turns: SharedTurns,
    metrics_dir: Path | None,
    nice: int,
    requests: Connection,
    ready: Connection,
) -> None:
    """A worker's life: build its runtime, say it runs, then hand each batch it reads to its threads until
    told to stop (None); it exits once its requests are done."""
    # Ctrl+C reaches the whole process group: the serving process decides when a worker stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(nice)  # when the CPU is short, the process answering Slack comes first
    if metrics_dir is not None:
        count_in(metrics_dir)
    store = open_store(settings.store_url)
    runtime = Runtime.build(settings, catalog, bot_client(settings), store, turns=turns)
    threads = ThreadPoolExecutor(THREADS_PER_WORKER, thread_name_prefix="incident")
    gc.freeze()  # the runtime lives as long as the worker: full collections need not walk it
    ready.send(os.getpid())
    ready.close()
    with contextlib.suppress(EOFError):  # EOF: the serving process is gone; what is held still finishes
        while (batch := requests.recv()) is not None:
            for request in batch:
                threads.submit(runtime.run, request)
    threads.shutdown(wait=True)
