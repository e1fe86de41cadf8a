"""What the listeners need, built once and passed to `create_app` (no globals)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.config import Config
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.runner import Runner
from bot.store import Store

log = logging.getLogger("chatops")


class Pool(ThreadPoolExecutor):
    """A thread pool that knows when it has nothing left to do (the shell and tests wait for the bot to go quiet)."""

    def __init__(self, workers: int, name: str) -> None:
        super().__init__(max_workers=workers, thread_name_prefix=name)
        self._busy = 0
        self._changed = threading.Condition()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._changed:
            self._busy += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)


@dataclass
class Deps:
    config: Config
    catalog: Catalog
    matcher: Matcher
    store: Store
    runner: Runner
    client: WebClient
    # Incident work runs here, not on Bolt's listener pool, so acks never queue behind running diagnoses.
    work: Pool = field(default_factory=lambda: Pool(8, "incident"))
    listeners: Pool = field(default_factory=lambda: Pool(8, "listener"))  # Bolt's: acks and quick replies

    def later(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run incident work in the background; a failure is logged, never lost in an unread future."""
        self.work.submit(fn, *args).add_done_callback(_log_failure)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """True once nothing is running (a listener's work is queued before the listener ends)."""
        return self.listeners.wait_idle(timeout) and self.work.wait_idle(timeout)

    def shutdown(self) -> None:
        self.listeners.shutdown(wait=True)
        self.work.shutdown(wait=True)


def _log_failure(future: Future[Any]) -> None:
    if (error := future.exception()) is not None:
        log.error("incident work failed", exc_info=error)
