"""What the Slack edge is built from, once, and where its requests run.

`Deps` is the edge process's: settings, the Slack client, the store (for Slack's retries and readiness) and
`work`, which runs typed requests in the background (threads here, for the shell and tests; worker processes
for `serve` and `socket`, handlers.workers). `Runtime` is what runs a request: the incident flows with the
Slack view. A ChatOpsError in that work reaches the person as its own text; anything else is a bug, logged
with an error id the person sees too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from slack_sdk import WebClient

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Config
from bot.errors import ChatOpsError
from bot.incident.flows import IncidentFlows
from bot.incident.requests import Asker, Request
from bot.incident.turns import UNLIMITED, Turns
from bot.matcher import Matcher
from bot.metrics import CountedStore
from bot.paging.outbox import Pager
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.runner import Runner
from bot.settings import Settings
from bot.store import SqlStore, open_store
from handlers import messages
from handlers.slack_view import SlackDirectory, SlackView
from handlers.slack_web import UPDATE_INTERVAL_S, web_client

if TYPE_CHECKING:
    from bot.leader import Leadership
    from handlers.workers import WorkerPool

log = logging.getLogger("chatops")
# Requests handed to the workers as one batch, at most: enough to spare the threads, few enough that a burst
# is still shared between the worker processes.
MAX_BATCH = 8
BATCH_LINGER_S = 0.002


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


def bot_client(settings: Settings) -> WebClient:
    token = settings.secrets.require("slack_bot_token", "the bot's xoxb- token")
    return web_client(token, settings.endpoints.slack_api_url)


@dataclass
class Runtime:
    """Runs requests: the incident flows, talking through the Slack view."""

    flows: IncidentFlows
    view: SlackView

    @classmethod
    def build(
        cls,
        settings: Settings,
        catalog: Catalog,
        client: WebClient,
        store: SqlStore,
        clients: Clients | None = None,
        clock: Clock = SYSTEM_CLOCK,
        interval: float = UPDATE_INTERVAL_S,
        turns: Turns = UNLIMITED,
    ) -> Runtime:
        config = settings.config
        pager = Pager(settings, CountedStore.of(store), httpx.Client())
        flows = IncidentFlows(config=config, catalog=catalog, matcher=Matcher(catalog, config.guide_hints()),
                              store=CountedStore.of(store), runner=Runner(clients or Clients.from_settings(settings), clock=clock),
                              clock=clock, directory=SlackDirectory(client), pager=pager, turns=turns)  # fmt: skip
        return cls(flows, SlackView(client, clock, interval, config.policy.severities))

    def run(self, request: Request) -> None:
        asker: Asker | None = getattr(request, "asker", None)
        try:
            self.flows.handle(request, self.view)
        except ChatOpsError as error:  # something the person can act on: tell them in their own words
            log.info("request refused: %s", error)
            self._tell(asker, str(error))
        except Exception as error:
            correlation = uuid.uuid4().hex[:8]
            log.error("incident work failed [%s]", correlation, exc_info=error)
            self._tell(asker, messages.went_wrong(correlation))

    def _tell(self, asker: Asker | None, text: str) -> None:
        if asker is None:
            return
        try:
            self.view.tell(asker, text)
        except Exception:  # Slack itself is failing: the log has it
            log.exception("could not tell %s", asker.user)


@dataclass
class Deps:
    settings: Settings
    catalog: Catalog
    client: WebClient
    store: SqlStore
    # Where requests run: `runtime` on the `work` threads here (the shell, tests), or `workers`, processes of
    # their own (handlers.workers: serve, socket), so acks never wait on the interpreter lock behind diagnoses.
    runtime: Runtime | None = None
    work: Executor = field(default_factory=lambda: Pool(8, "incident"))
    # Slack calls that must happen within seconds of a click (views.open with its trigger_id), off the ack path.
    soon: Executor = field(default_factory=lambda: ThreadPoolExecutor(4, thread_name_prefix="slack"))
    workers: WorkerPool | None = None
    broken: str | None = None  # why the bot can no longer work (liveness fails on it)
    workers_up: bool = True  # False while worker processes start (acks need none; /readyz says so)
    leader: Leadership | None = None  # the reconciler's, when serving: /readyz and /metrics say who leads
    _outbox: queue.SimpleQueue[Request | None] = field(default_factory=queue.SimpleQueue, repr=False)
    _forwarder: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def config(self) -> Config:
        return self.settings.config

    def later(self, request: Request) -> None:
        """Run the request in the background; if the workers are gone, liveness fails so the pod restarts.

        For worker processes the request only joins an in-memory queue here, and one thread hands it on: writing
        to a pipe from every request thread at once was a convoy (each writer also waiting for the interpreter
        lock), most of the ack's time under load. What queued meanwhile goes on as one batch: each write wakes
        a worker, and under load those turns at the interpreter lock added to every ack."""
        if self.workers is None:
            self._hand_on([request])
            return
        with self._lock:
            if self._forwarder is None:
                self._forwarder = threading.Thread(target=self._forward, name="hand-off", daemon=True)
                self._forwarder.start()
        self._outbox.put(request)

    def _forward(self) -> None:
        while (request := self._outbox.get()) is not None:
            time.sleep(BATCH_LINGER_S)  # what arrives meanwhile goes in the same batch
            batch = [request]
            while len(batch) < MAX_BATCH and not self._outbox.empty():
                if (more := self._outbox.get()) is None:
                    self._hand_on(batch)
                    return
                batch.append(more)
            self._hand_on(batch)

    def _hand_on(self, requests: list[Request]) -> None:
        try:
            if self.workers is not None:
                self.workers.hand_on(requests)
            else:
                assert self.runtime is not None, "requests run on worker processes or on a runtime here"
                for request in requests:
                    self.work.submit(self.runtime.run, request)
        except BrokenExecutor as error:  # a worker died (e.g. killed for memory)
            self.broken = f"incident workers: {error}"
            correlation = uuid.uuid4().hex[:8]
            log.error("incident workers are broken [%s]: %s", correlation, error)
            for asker in {a for r in requests if (a := getattr(r, "asker", None)) is not None}:
                self.client.chat_postEphemeral(channel=asker.channel, user=asker.user,
                                               text=messages.went_wrong(correlation))  # fmt: skip

    def report(self, error: Exception, body: dict[str, Any]) -> None:
        """A listener's own failure: logged with an error id the person sees too, when we know who they are."""
        correlation = uuid.uuid4().hex[:8]
        log.error("listener failed [%s]", correlation, exc_info=error)
        channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        if channel and user:
            self.client.chat_postEphemeral(channel=channel, user=user, text=messages.went_wrong(correlation))

    def close(self) -> None:
        if self._forwarder is not None:  # what was handed over goes on to the workers first
            self._outbox.put(None)
            self._forwarder.join()
        if self.workers is not None:
            self.workers.shutdown(wait=True)
        self.work.shutdown(wait=True)
        self.soon.shutdown(wait=True)
        self.store.close()


def open_deps(settings: Settings, catalog: Catalog) -> Deps:
    """The edge's Deps for `serve` and `socket` (no runtime: requests go to worker processes)."""
    return Deps(
        settings=settings, catalog=catalog, client=bot_client(settings), store=open_store(settings.store_url)
    )
