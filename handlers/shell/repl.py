"""`chatops shell`: type what you would type in Slack and watch the bot answer, live updates included.

    /diagnose api-gateway 504s      a slash command, in #incidents (`/diagnose` alone opens the form)
    press 3 | press SEV-1           a button, by its number or (part of) its label
    fill service api-gateway        an input of the open form (by the start of its label), then `submit`
    post <text>                     a message in #incidents (an alert, a customer report)
    shortcut                        "Diagnose this" on the newest message someone posted
    home                            the bot's App Home tab (the open incidents)
    audit                           the audit log of fixes (what `chatops audit` prints)
    /incident ack | sev 1 | resolve  run the incident (`/incident help` lists it all)
    alert KubePodCrashLooping service=api-gateway severity=critical  pods restart
                                    Alertmanager delivers a firing alert (labels, then its summary)
    alert KubePodCrashLooping resolved   ... and its resolve
    wait 15m                        move the clock on: due escalations fire (pages show as PagerDuty gets them)
    anything else                   a reply in the current incident thread (`@chatops status` mentions the bot)
    as bob                          act as another person (alice, bob)
    help | quit

`chatops demo` plays `DEMO` through the same shell against the simulated cluster.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from bot.audit_cli import entry_line
from bot.clock import ManualClock, ShiftedClock
from bot.config import parse_duration
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from handlers.shell import payloads
from handlers.shell.workspace import LocalWorkspace, ack_text
from sandbox.slack_api import CHANNEL_ID, CHANNEL_NAME, PEOPLE
from sandbox.slack_render import BOT_NAME, Button, Buttons, Message, render_message

DEMO = """\
# A bad deploy: the api-gateway pods crash-loop, OOMKilled.
/diagnose api-gateway pods keep restarting, OOMKilled since the last deploy
press SEV-1
as bob
@chatops status
the logs also say too many clients, connection refused by the database
# A fix needs a second person: bob asks for the rollback; his own approval is refused; alice approves it.
press Roll back
press Approve
as alice
press Approve
# The audit log: who asked, who approved, the exact change, the outcome.
audit
# SEV-1 paged on-call (PagerDuty got the trigger). Nobody acknowledges for 15 minutes: the ladder escalates.
wait 16m
/incident ack
/incident commander @bob
/incident resolve rolled back to 1.8.2; pods healthy
# A vague report: no confident match, so the closest playbooks are offered instead.
/diagnose api-gateway the gateway feels weird
press slow or timing out
# A misspelt service: the likeliest services are offered, the symptom kept; one click opens the incident.
/diagnose api-gatway 504s since the deploy
press Diagnose api-gateway
# /diagnose alone opens a form.
/diagnose
fill service api-gateway
fill what pods restart with OOMKilled
submit
# Any message can become an incident: an alert posted in the channel, then the "Diagnose this" shortcut.
as bob
post [FIRING:1] KubePodCrashLooping: pod arch-separation/api-gateway-7d9f6b8c5-abc12 is restarting
shortcut
# Alertmanager: a firing alert opens an incident by itself, SEV from its labels; its resolve is noted.
alert CloudRunRevisionNotReady service=imgstream severity=warning Revision imgstream-production-00043-abc is not ready and cannot serve traffic
alert CloudRunRevisionNotReady resolved
# The App Home tab lists the open incidents.
home
"""
HELP = __doc__.split("\n\n")[1].rstrip() if __doc__ else ""
POLL_S = 0.1
PREVIEW_LINES = 8


@dataclass
class Transcript:
    """Prints what Slack would show, as it changes: each new bot message, each edit, each ephemeral, once."""

    workspace: LocalWorkspace
    write: Callable[[str], None]
    buttons: Buttons = field(default_factory=Buttons)
    _versions: dict[str, int] = field(default_factory=dict)  # message ts -> edits printed
    _ephemerals: dict[str, int] = field(default_factory=dict)  # user -> ephemerals printed
    _views: dict[str, str] = field(default_factory=dict)  # view id -> the version (hash) printed
    _pages: int = 0  # PagerDuty deliveries printed

    def refresh(self) -> None:
        slack = self.workspace.slack
        for msg in slack.messages(CHANNEL_ID):
            version = len(msg.edits)
            if self._versions.get(msg.ts) == version:
                continue
            edited = msg.ts in self._versions
            self._versions[msg.ts] = version
            if msg.bot_id is not None:  # people's own messages were echoed as they typed them
                self._show(msg, slack.render(CHANNEL_ID, msg.ts, self.buttons), edited)
        for user, name in PEOPLE.items():
            fresh = slack.ephemerals(user)[self._ephemerals.get(user, 0) :]
            self._ephemerals[user] = self._ephemerals.get(user, 0) + len(fresh)
            for msg in fresh:
                shown = render_message(msg, self.buttons) if msg.blocks else msg.text
                self.write(indent(f"(only {name} sees this) {shown}", "  "))
        for user, name in PEOPLE.items():
            for view in (slack.modal(user), slack.home(user)):
                if view is None or self._views.get(view["id"]) == view["hash"]:
                    continue
                self._views[view["id"]] = view["hash"]
                what = f"a form opens for {name}" if view["type"] == "modal" else f"{name}'s App Home"
                self.write(f"  ({what})")
                self.write(indent(slack.render_view(view["id"], self.buttons), "  │ "))
        for delivery in self.workspace.pagerduty.received()[self._pages :]:
            self._pages += 1
            self.write(f"  (PagerDuty got: {delivery.describe()})")

    def _show(self, msg: Message, rendered: str, edited: bool) -> None:
        where = "thread" if msg.is_reply else f"#{CHANNEL_NAME}"
        self.write(f"{'  ' if msg.is_reply else ''}{where} · {BOT_NAME}{' (updated)' if edited else ''}:")
        self.write(indent(rendered, "    " if msg.is_reply else "  "))
        for shared in msg.files:  # a preview, as Slack shows a snippet folded
            upload = self.workspace.slack.files.get(str(shared["id"]))
            lines = upload.text.splitlines() if upload is not None else []
            more = f"\n… {len(lines) - PREVIEW_LINES} more lines" if len(lines) > PREVIEW_LINES else ""
            self.write(indent("\n".join(lines[:PREVIEW_LINES]) + more, "    │ "))


@dataclass
class Shell:
    workspace: LocalWorkspace
    write: Callable[[str], None]
    user: str = "U0ALICE"
    transcript: Transcript = field(init=False)
    fields: dict[str, dict[str, str]] = field(default_factory=dict)  # what was filled in, by form (view id)
    firing: dict[str, tuple[dict[str, str], dict[str, str], str]] = field(default_factory=dict)  # alerts sent

    def __post_init__(self) -> None:
        self.transcript = Transcript(self.workspace, self.write)

    @property
    def name(self) -> str:
        return PEOPLE[self.user]

    def run(self, line: str) -> bool:
        """Act on one typed line; False when the person asked to quit."""
        line = line.strip()
        word, _, rest = line.partition(" ")
        if not line or line.startswith("#"):
            return True
        if word in ("quit", "exit"):
            return False
        if word == "help":
            self.write(HELP)
        elif word == "as":
            self._switch(rest.strip())
        elif word == "press":
            self._press(rest.strip())
        elif word == "fill":
            self._fill(rest.strip())
        elif word in ("submit", "cancel"):
            self._submit(word == "submit")
        elif word == "post":
            self.workspace.say(rest.strip(), user=self.user)
        elif word == "shortcut":
            self._shortcut()
        elif word == "home":
            self.workspace.open_home(user=self.user)
        elif word == "audit":
            for entry in self.workspace.store.audit():
                self.write(f"  {entry_line(entry)}")
        elif word == "alert":
            self._alert(rest.split())
        elif word == "wait":
            self._wait(rest.strip())
        elif word in ("/diagnose", "/incident"):
            response = self.workspace.command(mentions(rest.strip()), user=self.user, command=word)
            if text := ack_text(response):
                self.write(indent(f"(only {self.name} sees this) {text}", "  "))
        elif line.startswith("/"):
            self.write(f"  Slack: {word} is not a command here; try /diagnose or /incident.")
        else:
            self.workspace.say(line, user=self.user, thread_ts=self.current_thread())
        self.settle()
        return True

    def settle(self, timeout: float = 120.0) -> None:
        """Print the bot's messages as they come until it has finished what it was asked."""
        waited = 0.0
        while not self.workspace.idle(POLL_S) and waited < timeout:
            self.transcript.refresh()
            waited += POLL_S
        self.transcript.refresh()

    def current_thread(self) -> str | None:
        """The newest incident's thread: where a reply typed in the shell goes."""
        for msg in reversed(self.workspace.slack.messages(CHANNEL_ID, top_level=True)):
            if self.workspace.store.by_thread(CHANNEL_ID, msg.ts) is not None:
                return msg.ts
        return None

    def _switch(self, name: str) -> None:
        users = {n: uid for uid, n in PEOPLE.items()}
        if name not in users:
            self.write(f"  Who? People here: {', '.join(users)}.")
            return
        self.user = users[name]

    def _press(self, which: str) -> None:
        button = self._find_button(which)
        if button is None:
            self.write(f"  No button {which!r} on screen; buttons have numbers in [brackets].")
            return
        self.write(f"  ({self.name} pressed [{button.number}] {button.text})")
        self.workspace.press(button, user=self.user)

    def _form(self) -> dict[str, Any] | None:
        return self.workspace.slack.modal(self.user)

    def _fill(self, field_and_value: str) -> None:
        form = self._form()
        name, _, value = field_and_value.partition(" ")
        if form is None or not name:
            self.write(
                "  No form is open; `/diagnose` alone opens one."
                if form is None
                else "  fill <field> <value>"
            )
            return
        self.fields.setdefault(form["id"], {})[name.lower()] = value.strip()

    def _submit(self, submit: bool) -> None:
        form = self._form()
        if form is None:
            self.write("  No form is open.")
            return
        if not submit:
            self.workspace.slack.close_modal(self.user)
            return
        answer = self.workspace.submit(form, self.fields.get(form["id"], {}), user=self.user)
        for problem in answer.get("errors", {}).values() if answer.get("response_action") == "errors" else ():
            self.write(f"  (the form says) {problem}")  # the form stays open with what was filled in

    def _alert(self, words: list[str]) -> None:
        if not words:
            self.write("  alert <AlertName> label=value ... [summary]  |  alert <AlertName> resolved")
            return
        name, rest = words[0], words[1:]
        now = self.workspace.clock.now().isoformat().replace("+00:00", "Z")
        if rest == ["resolved"]:
            if name not in self.firing:
                self.write(f"  No {name} is firing; fire it first.")
                return
            labels, annotations, started = self.firing.pop(name)
            payload = payloads.alertmanager_webhook(labels, annotations, started, ends_at=now)
        else:
            labels = {"alertname": name} | dict(w.split("=", 1) for w in rest if "=" in w)
            summary = " ".join(w for w in rest if "=" not in w)
            annotations = {"summary": summary} if summary else {}
            self.firing[name] = (labels, annotations, now)
            payload = payloads.alertmanager_webhook(labels, annotations, now)
        status, body = self.workspace.alert(payload)
        self.write(f"  (Alertmanager delivered {name} {payload['status']}: the bot answered {status} {body})")

    def _wait(self, how_long: str) -> None:
        clock = self.workspace.clock
        try:
            delta = parse_duration(how_long)
        except ValueError as error:
            self.write(f"  {error}")
            return
        if not isinstance(clock, ShiftedClock | ManualClock):
            self.write("  This workspace runs on the real clock.")
            return
        clock.advance(delta)
        self.write(f"  ({how_long} later: {clock.now():%H:%M} UTC)")
        self.workspace.tick()

    def _shortcut(self) -> None:
        posted = [m for m in self.workspace.slack.messages(CHANNEL_ID, top_level=True) if m.bot_id is None]
        if not posted:
            self.write("  Nothing to use it on: `post <text>` first.")
            return
        self.write(f'  ({self.name} used "Diagnose this" on: {posted[-1].text[:60]})')
        self.workspace.shortcut(posted[-1], user=self.user)

    def _find_button(self, which: str) -> Button | None:
        if which.isdigit():
            return self.transcript.buttons.get(int(which))
        newest_first = reversed(list(self.transcript.buttons))
        return next((b for b in newest_first if which.lower() in b.text.lower()), None)


def mentions(text: str) -> str:
    """@alice as Slack sends it in a command's text (the manifest's should_escape): <@U0ALICE|alice>."""
    users = {name: uid for uid, name in PEOPLE.items()}
    return re.sub(r"(?<![<\w])@(\w+)", lambda m: f"<@{users[m[1]]}|{m[1]}>" if m[1] in users else m[0], text)


def indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def run_shell(settings: Settings, catalog: Catalog, scenario: str | None, lines: Iterable[str] | None,
              out: TextIO = sys.stdout) -> int:  # fmt: skip
    """Play `lines` (a script, echoed as typed), or read from the terminal until `quit`."""

    def write(text: str) -> None:
        print(text, file=out, flush=True)

    cluster = (
        f"the simulated cluster and Cloud Run service (scenario {scenario})"
        if scenario
        else "the systems in your config"
    )
    write(
        f"Local Slack workspace: #{CHANNEL_NAME}; you are alice, bob is a teammate. Checks go to {cluster}."
    )
    with LocalWorkspace(settings, catalog, scenario, clock=ShiftedClock()) as workspace:
        shell = Shell(workspace, write)
        if lines is None:
            write("Type `help` for what you can do.")
            return _interactive(shell)
        for line in lines:
            text = line.rstrip()
            if text:
                write(f"\n{text}" if text.startswith("#") else f"\n{shell.name}> {text}")
            if not shell.run(text):
                break
    return 0


def _interactive(shell: Shell) -> int:
    with contextlib.suppress(ImportError):  # not on every platform
        import readline  # noqa: F401 - line editing and history for input()
    while True:
        try:
            line = input(f"{shell.name}> ")
        except EOFError:
            return 0
        if not shell.run(line):
            return 0
