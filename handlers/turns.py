"""One cap on incidents checked at once, shared by the worker processes (bot.incident.turns says what a turn is).

Turns are handed out in order: each incident draws a ticket, and ticket `t` may run once fewer than `cap`
tickets before it are still unfinished (`t < finished + cap`). So "queued behind N" is exact and nobody is
overtaken. The counters and the condition live in shared memory made by the serving process and handed to
each worker as it starts (multiprocessing shares locks only that way).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from typing import Any

from bot.incident.turns import Waiting

WORKER_NICE = 19  # the worker processes run at the lowest priority: on the CPU the serving process leaves
DEFAULT_CAP = 16  # diagnoses mostly wait on APIs; past this many the CPU, not the APIs, is what they wait for


class SharedTurns:
    """At most `cap` incidents run their checks at once, across every process given this object."""

    def __init__(self, cap: int = DEFAULT_CAP, context: BaseContext | None = None) -> None:
        if cap < 1:
            raise ValueError("the cap on incidents checked at once must be at least 1")
        context = context or multiprocessing.get_context("spawn")
        self.cap = cap
        self._changed = context.Condition()
        self._issued: Any = context.RawValue("q", 0)  # guarded by _changed's lock
        self._finished: Any = context.RawValue("q", 0)

    @contextmanager
    def take(self, waiting: Waiting) -> Iterator[None]:
        with self._changed:
            ticket = self._issued.value
            self._issued.value += 1
            ahead = ticket - self._finished.value
        try:
            if ahead >= self.cap:
                waiting(ahead)  # outside the lock: it posts to Slack
                with self._changed:
                    self._changed.wait_for(lambda: ticket < self._finished.value + self.cap)
            yield
        finally:
            with self._changed:
                self._finished.value += 1
                self._changed.notify_all()
