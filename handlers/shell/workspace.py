"""A Slack workspace on this machine: the real Bolt app served over HTTP as `chatops serve` serves it, fed
signed requests as Slack sends them; the local Slack Web API it answers through; optionally the simulated
cluster; and a store. The shell and the scenario tests both act through it, as people in the channel: type a
command, press a button, reply in a thread."""

from __future__ import annotations

import http.client
import itertools
import json
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from waitress.server import create_server

from bot.config import Config
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.runner import Runner
from bot.store import Store
from handlers.app import create_app
from handlers.deps import Deps, Pool
from handlers.shell import payloads
from handlers.slack_web import web_client
from handlers.web import Metrics, wsgi_app
from sandbox import FakeKubeApi, sandboxed
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi
from sandbox.slack_render import BOT_NAME, BOT_USER_ID, Button, Message


class LocalWorkspace:
    """`with LocalWorkspace(config, catalog, scenario="crashloop-oom") as ws:` then `ws.command(...)`.

    With a scenario, every service's Kubernetes checks go to the simulated cluster and its other systems are
    left out (their probes say `skipped`); without one, the checks go to the systems the config names.
    """

    def __init__(self, config: Config, catalog: Catalog, scenario: str | None = None,
                 store_path: Path | None = None) -> None:  # fmt: skip
        self.config, self.catalog, self.scenario, self.store_path = config, catalog, scenario, store_path
        self._stack = ExitStack()
        self._events = itertools.count(1)

    def __enter__(self) -> LocalWorkspace:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def _start(self) -> None:
        stack, config = self._stack, self.config
        self.slack: FakeSlackApi = stack.enter_context(FakeSlackApi())
        clients = Clients.from_env()  # the systems in the config, reached as `chatops serve` reaches them
        if self.scenario is not None:
            cluster = stack.enter_context(FakeKubeApi(self.scenario))
            clients = Clients(kubeconfig=cluster.kubeconfig_path)
            services = {name: sandboxed(service) for name, service in config.services.items()}
            config = config.model_copy(update={"services": services})
        if self.store_path is None:
            self.store_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "chatops.db"
        self.store: Store = stack.enter_context(Store(self.store_path))
        self.pool = Pool(8, "incident")  # threads: the shell and the tests wait for it to go idle
        self.deps = Deps(
            config=config,
            catalog=self.catalog,
            matcher=Matcher(self.catalog, config.guide_hints()),
            store=self.store,
            runner=Runner(clients),
            client=web_client(TOKEN, self.slack.api_url),
            work=self.pool,
        )
        stack.callback(self.pool.shutdown)  # before the store closes and the servers stop
        self.app: App = create_app(self.deps, payloads.SIGNING_SECRET)
        # Served over HTTP as `chatops serve` serves it, so requests arrive the way Slack sends them.
        server = create_server(wsgi_app(self.app, self.deps, Metrics()), host="127.0.0.1", port=0, threads=8)
        serving = threading.Thread(target=server.run, name="chatops-http", daemon=True)
        serving.start()
        stack.callback(serving.join, 10)
        stack.callback(server.close)
        self.port: int = server.effective_port  # type: ignore[union-attr]

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # --- what people do ---

    def command(self, text: str, user: str = "U0ALICE", channel: str = CHANNEL_ID) -> BoltResponse:
        """Type `/diagnose <text>`; the response is Slack's ack (its text is shown only to `user`)."""
        name = self.slack.channels[channel]["name"]
        body = payloads.slash_command(text, channel_id=channel, channel_name=name, user_id=user)
        return self.send(payloads.signed(body))

    def press(self, button: Button, user: str = "U0ALICE") -> BoltResponse:
        channel, ts = button.channel or CHANNEL_ID, button.message_ts or ""
        message = self.slack.message(channel, ts).to_api()
        body = payloads.block_action(user, channel, ts, button.action_id, button.value, button.block_id or "",
                                     button.text, message)  # fmt: skip
        return self.send(payloads.signed(body))

    def say(self, text: str, user: str = "U0ALICE", thread_ts: str | None = None,
            channel: str = CHANNEL_ID) -> Message:  # fmt: skip
        """Post a message as a person; Slack delivers it as a `message` event, and as `app_mention` too when
        it mentions the bot (`@chatops` is written as the mention Slack sends)."""
        text = text.replace(f"@{BOT_NAME}", f"<@{BOT_USER_ID}>")
        posted = self.slack.say(user, channel, text, thread_ts)
        event = {"type": "message", "channel": channel, "channel_type": "channel", "user": user, "text": text,
                 "ts": posted.ts, **({"thread_ts": thread_ts} if thread_ts else {})}  # fmt: skip
        self.deliver(event)
        if f"<@{BOT_USER_ID}>" in text:
            self.deliver({**event, "type": "app_mention"})
        return posted

    def deliver(
        self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None
    ) -> BoltResponse:
        """An Events API delivery (`retry`: Slack's redelivery of one it thinks we missed)."""
        event_id = event_id or f"Ev{next(self._events):08d}"
        return self.send(payloads.signed(payloads.event_callback(event, event_id), retry=retry))

    def send(self, request: BoltRequest) -> BoltResponse:
        """POST a request to the app's /slack/events, as Slack does; the answer as Slack receives it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {name: values[0] for name, values in request.headers.items()}
            connection.request("POST", "/slack/events", body=request.raw_body.encode(), headers=headers)
            answer = connection.getresponse()
            return BoltResponse(status=answer.status, body=answer.read().decode())
        finally:
            connection.close()

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the bot has finished what it was asked (bounded; not a timing assertion)."""
        if not self.pool.wait_idle(timeout):
            raise TimeoutError(f"the bot was still busy after {timeout:.0f} s")


def ack_text(response: BoltResponse) -> str:
    """The text of a slash command's ack, shown only to the person who typed it."""
    if not response.body:
        return ""
    try:
        return str(json.loads(response.body).get("text", ""))
    except json.JSONDecodeError:
        return response.body
