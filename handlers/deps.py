"""What the listeners need, built once and passed to `create_app` (no globals)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Config, Secrets
from bot.errors import ChatOpsError
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.runner import Runner
from bot.store import Store
from handlers import messages
from handlers.slack_web import web_client

log = logging.getLogger("chatops")
Work = Callable[..., None]  # work(deps, *args): module-level, so it can run in a worker process too
Tell = tuple[str, str] | None  # (channel, user) to tell when the work fails


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
    # Where incident work runs: threads here (the shell, tests), or worker processes (handlers.workers) so
    # acks never wait on the interpreter lock behind running diagnoses.
    work: Executor = field(default_factory=lambda: Pool(8, "incident"))
    broken: str | None = None  # why the bot can no longer work (liveness fails on it)

    @classmethod
    def from_env(cls, config: Config, catalog: Catalog, env: dict[str, str]) -> Deps:
        """The bot's dependencies for `serve` and `socket`: tokens and endpoints from the environment."""
        secrets = Secrets.from_env(env)
        if secrets.slack_bot_token is None:
            raise ChatOpsError("set SLACK_BOT_TOKEN (the bot's xoxb- token) in the environment")
        return cls(
            config=config,
            catalog=catalog,
            matcher=Matcher(catalog, config.guide_hints()),
            store=Store.from_config(config),
            runner=Runner(Clients.from_env(env)),
            client=web_client(secrets.slack_bot_token.get_secret_value(), env.get("SLACK_API_URL") or None),
        )

    def later(self, work: Work, *args: Any, tell: Tell = None) -> None:
        """Run `work(deps, *args)` in the background. A failure is logged with an error id, never lost in an
        unread future, and `tell` hears that something went wrong, with the same id."""
        from handlers import workers  # the worker processes' entry point imports this module

        try:
            if isinstance(self.work, Pool):
                self.work.submit(run_guarded, self, work, args, tell)
            else:
                self.work.submit(workers.run, work, args, tell)
        except (
            BrokenExecutor
        ) as error:  # a worker died (e.g. killed for memory): /healthz fails, so it restarts
            self.broken = f"incident workers: {error}"
            self.report_failure(error, tell)

    def report_failure(self, error: BaseException, tell: Tell) -> None:
        correlation = uuid.uuid4().hex[:8]
        log.error("incident work failed [%s]", correlation, exc_info=error)
        if tell is None:
            return
        slack_error = error.response.get("error") if isinstance(error, SlackApiError) else None
        text = messages.INVITE_ME if slack_error == "not_in_channel" else messages.went_wrong(correlation)
        self.client.chat_postEphemeral(channel=tell[0], user=tell[1], text=text)


def run_guarded(deps: Deps, work: Work, args: tuple[Any, ...], tell: Tell) -> None:
    try:
        work(deps, *args)
    except Exception as error:
        deps.report_failure(error, tell)
