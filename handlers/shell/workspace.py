"""A Slack workspace on this machine: the real Bolt app served over HTTP as `chatops serve` serves it, fed
signed requests as Slack sends them; the local Slack Web API it answers through; optionally the simulated
cluster and Cloud Run service; and a store. The shell and the scenario tests both act through it, as people in
the channel: type a command, press a button, reply in a thread."""

from __future__ import annotations

import http.client
import itertools
import json
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from slack_bolt import App, BoltRequest, BoltResponse
from waitress.server import create_server

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Config
from bot.leader import AlwaysLeader
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.settings import Endpoints, Secrets, Settings
from bot.store import SqlStore, open_store
from handlers.app import create_app
from handlers.deps import Deps, Pool, Runtime
from handlers.reconciler import Reconciler
from handlers.shell import payloads
from handlers.slack_web import web_client
from handlers.web import stop_server, wsgi_app
from sandbox import FakeKubeApi, sandboxed, simulation
from sandbox.pagerduty import ROUTING_KEY, FakePagerDuty
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi
from sandbox.slack_render import BOT_NAME, BOT_USER_ID, Button, Message

if TYPE_CHECKING:
    from sandbox.cloud_run_api import FakeCloudRun  # google-cloud-run loads only with a scenario

RETRY_BACKOFF_S = 0.01  # the stand-in fails on purpose, and answers at once when asked again
ALERTMANAGER_TOKEN = "sandbox-alertmanager-token"


class LocalWorkspace:
    """`with LocalWorkspace(settings, catalog, scenario="crashloop-oom") as ws:` then `ws.command(...)`.

    With a scenario, every service's Kubernetes checks go to the simulated cluster, its Cloud Run checks and
    fixes to the simulated Cloud Run service, and its other systems are left out (their probes say `skipped`);
    without one, the checks go to the systems the settings name.
    """

    def __init__(self, settings: Settings, catalog: Catalog, scenario: str | None = None,
                 store_path: Path | None = None, clock: Clock = SYSTEM_CLOCK) -> None:  # fmt: skip
        self.settings, self.catalog, self.scenario, self.store_path = settings, catalog, scenario, store_path
        self.clock = clock
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
        stack, settings = self._stack, self.settings
        self.slack: FakeSlackApi = stack.enter_context(FakeSlackApi())
        clients = Clients.from_settings(
            settings
        )  # the systems in the config, reached as `chatops serve` does
        config = settings.config
        self.cluster: FakeKubeApi | None = None
        self.cloud_run: FakeCloudRun | None = None
        if self.scenario is not None:
            simulated = stack.enter_context(simulation(self.scenario, self.clock))
            self.cluster, self.cloud_run = simulated.cluster, simulated.cloud_run
            clients = simulated.clients()
            config = config.model_copy(
                update={"services": {n: sandboxed(s) for n, s in config.services.items()}}
            )
        self._furnish(config)
        if self.store_path is None:
            self.store_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "chatops.db"
        # PagerDuty is the local stand-in, every team's routing key its one key.
        self.pagerduty: FakePagerDuty = stack.enter_context(FakePagerDuty(clock=self.clock))
        key_names = {c.pagerduty_routing_key_env for t in config.teams.values()
                     for c in (t.oncall, t.team_lead, t.engineering_manager, t.vp_engineering)
                     if c is not None and c.pagerduty_routing_key_env}  # fmt: skip
        secrets = Secrets(
            slack_bot_token=SecretStr(TOKEN), slack_signing_secret=SecretStr(payloads.SIGNING_SECRET),
            pagerduty_keys={name: SecretStr(ROUTING_KEY) for name in key_names},
            alertmanager_token=SecretStr(ALERTMANAGER_TOKEN),
        )  # fmt: skip
        self.settings = settings.model_copy(update={
            "config": config, "store_url": f"sqlite:///{self.store_path}", "secrets": secrets,
            "endpoints": Endpoints(slack_api_url=self.slack.api_url, kubeconfig=clients.kubeconfig,
                                   cloud_run=clients.cloud_run_endpoint,
                                   pagerduty_events=self.pagerduty.events_url),
        })  # fmt: skip
        self.store: SqlStore = stack.enter_context(open_store(self.settings.store_url, self.clock))
        client = web_client(TOKEN, self.slack.api_url, backoff_s=RETRY_BACKOFF_S)
        self.pool, self.soon = Pool(8, "incident"), Pool(2, "slack")  # the shell and tests wait for them
        runtime = Runtime.build(self.settings, self.catalog, client, self.store, clients, self.clock)
        self.deps = Deps(self.settings, self.catalog, client, self.store, runtime, self.pool, self.soon)
        self.reconciler = Reconciler(runtime, self.deps, AlwaysLeader("shell"))  # ticked by hand: `tick()`
        self.deps.leader = self.reconciler.leader
        stack.callback(self.soon.shutdown)  # before the store closes and the servers stop
        stack.callback(self.pool.shutdown)
        self.app: App = create_app(self.deps, payloads.SIGNING_SECRET)
        # Served over HTTP as `chatops serve` serves it, so requests arrive the way Slack sends them.
        server = create_server(wsgi_app(self.app, self.deps), host="127.0.0.1", port=0, threads=8)
        serving = threading.Thread(target=server.run, name="chatops-http", daemon=True)
        serving.start()
        stack.callback(stop_server, server, serving)
        self.port: int = server.effective_port

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _furnish(self, config: Config) -> None:
        """The people the config names, as members of the workspace: the thread shows names, not ids."""
        for team_name, team in config.teams.items():
            for tier, handle in (("oncall", "oncall"), ("team_lead", "lead"), ("engineering_manager", "manager"),
                                 ("vp_engineering", "vp-engineering")):  # fmt: skip
                contact = team.contact(tier)
                if (
                    contact is None
                    or contact.slack in self.slack.users
                    or contact.slack in self.slack.usergroups
                ):
                    continue
                name = handle if tier == "vp_engineering" else f"{team_name}-{handle}"
                if contact.slack.startswith("S"):
                    self.slack.add_usergroup(contact.slack, name, ["U0ALICE", "U0BOB"])
                else:
                    self.slack.add_user(contact.slack, name)

    # --- what people do ---

    def command(
        self, text: str, user: str = "U0ALICE", channel: str = CHANNEL_ID, command: str = "/diagnose"
    ) -> BoltResponse:
        """Type `/diagnose <text>` (or another command); the response is Slack's ack (only `user` sees it)."""
        name = self.slack.channels[channel]["name"]
        body = payloads.slash_command(text, channel_id=channel, channel_name=name, user_id=user, command=command,
                                      trigger_id=self.slack.trigger_id(user),
                                      response_url=self.slack.response_url(user, channel, None))  # fmt: skip
        return self.send(payloads.signed(body))

    def incident(self, text: str, user: str = "U0ALICE", channel: str = CHANNEL_ID) -> BoltResponse:
        """Type `/incident <text>`."""
        return self.command(text, user, channel, command="/incident")

    def alert(self, payload: dict[str, Any], token: str | None = ALERTMANAGER_TOKEN) -> tuple[int, str]:
        """Alertmanager's webhook delivery (POST /alertmanager with its bearer token): status and body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {token}"} if token else {}),
            }
            connection.request("POST", "/alertmanager", body=json.dumps(payload).encode(), headers=headers)
            answer = connection.getresponse()
            return answer.status, answer.read().decode()
        finally:
            connection.close()

    def tick(self) -> None:
        """One round of the reconciler (escalations, pages, expiries), as `chatops serve` runs every few seconds."""
        self.reconciler.tick()
        self.wait_idle()

    def press(self, button: Button, user: str = "U0ALICE") -> BoltResponse:
        """Click a button; one on an ephemeral message comes without the message, as Slack sends it."""
        channel, ts = button.channel or CHANNEL_ID, button.message_ts or ""
        ephemeral = any(m.ts == ts for m in self.slack.ephemerals(user))
        message = None if ephemeral else self.slack.message(channel, ts).to_api()
        body = payloads.block_action(user, channel, ts, button.action_id, button.value, button.block_id or "",
                                     button.text, message, ephemeral=ephemeral,
                                     trigger_id=self.slack.trigger_id(user),
                                     response_url=self.slack.response_url(user, channel, ts))  # fmt: skip
        return self.send(payloads.signed(body))

    def submit(self, view: dict[str, Any], fields: dict[str, str], user: str = "U0ALICE") -> dict[str, Any]:
        """Fill a modal's inputs in and submit it; Slack's answer (`{}`, or the errors to show in the form)."""
        body = payloads.view_submission(user, view, payloads.input_state(view, fields))
        answer = json.loads(reply.body) if (reply := self.send(payloads.signed(body))).body else {}
        if reply.status == 200 and not answer.get("response_action"):
            self.slack.close_modal(user)  # acknowledged: Slack closes the form
        return dict(answer)

    def shortcut(
        self, message: Message, user: str = "U0ALICE", callback_id: str = "diagnose_message"
    ) -> BoltResponse:
        """Use a message shortcut ("Diagnose this") on a message."""
        body = payloads.message_shortcut(user, callback_id, message.channel, message.to_api(),
                                         self.slack.trigger_id(user),
                                         self.slack.response_url(user, message.channel, message.ts))  # fmt: skip
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

    def open_home(self, user: str = "U0ALICE") -> BoltResponse:
        """Open the bot's App Home tab (Slack sends `app_home_opened`)."""
        event = {"type": "app_home_opened", "user": user, "channel": f"D{user[1:]}", "tab": "home",
                 "event_ts": f"{time.time():.6f}"}  # fmt: skip
        return self.deliver(event)

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

    def idle(self, timeout: float) -> bool:
        """True once the bot has finished what it was asked (its Slack calls and its incident work): both pools
        idle at once, since work in one can start work in the other."""
        deadline = time.monotonic() + timeout
        while self.soon.wait_idle(max(0.0, deadline - time.monotonic())) and self.pool.wait_idle(
            max(0.0, deadline - time.monotonic())
        ):
            if self.soon.wait_idle(0):
                return True
        return False

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until the bot has finished what it was asked (bounded; not a timing assertion)."""
        if not self.idle(timeout):
            raise TimeoutError(f"the bot was still busy after {timeout:.0f} s")


def ack_text(response: BoltResponse) -> str:
    """The text of a slash command's ack, shown only to the person who typed it."""
    if not response.body:
        return ""
    try:
        return str(json.loads(response.body).get("text", ""))
    except json.JSONDecodeError:
        return response.body
