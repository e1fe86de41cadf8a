"""What people ask of the incident flows, as typed requests: parsed once at the edge (Slack, the CLI), handed
to a worker as they are, never as raw Slack bodies. All are small frozen dataclasses, so they pickle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from bot.severity import Sev


@dataclass(frozen=True)
class Asker:
    """Who asked, and where to answer them privately if something goes wrong."""

    user: str
    channel: str


@dataclass(frozen=True)
class DiagnoseRequest:
    """Open an incident for a service and diagnose the symptom (`/diagnose`, the modal, a shortcut, an alert)."""

    asker: Asker
    service: str
    symptom: str
    severity: Sev | None = None  # chosen by a person (the modal, /incident declare) or an alert's label
    source: tuple[str, str] | None = None  # (channel, ts) of the message a shortcut was used on
    title: str | None = None  # a declared incident's title
    alert_key: str | None = None  # the service and alert name an alert-opened incident stands for
    detected_at: datetime | None = None  # when that alert started firing


@dataclass(frozen=True)
class GuessServiceRequest:
    """A symptom with no service named: answer with the services it most likely concerns, as buttons."""

    asker: Asker
    symptom: str
    typed: str | None = None  # the first word, when it looked like a misspelt service name


@dataclass(frozen=True)
class ButtonClick:
    """A button pressed on one of our messages: only its opaque state id and the clicker are trusted."""

    asker: Asker
    state_id: str
    message_ts: str | None = None
    message: dict[str, Any] = field(default_factory=dict)  # the message the button is on, as Slack sent it
    response_url: str | None = None  # for buttons on ephemeral messages


@dataclass(frozen=True)
class ThreadReply:
    """A person's reply in a thread (perhaps an incident's): it may fit another playbook."""

    asker: Asker
    thread_ts: str
    text: str


@dataclass(frozen=True)
class Mention:
    """`@chatops <words>`, in an incident thread or anywhere the bot is."""

    asker: Asker
    ts: str
    thread_ts: str | None
    text: str


Verb = Literal[
    "declare", "sev", "ack", "commander", "note", "mitigated", "resolve", "reopen", "status", "summary"
]


@dataclass(frozen=True)
class IncidentCommand:
    """`/incident <verb> ...`, parsed (bot.incident.commands)."""

    asker: Asker
    verb: Verb
    incident_id: str | None = None  # else the channel's one open incident
    text: str = ""  # a title, a note, a resolution summary
    sev: Sev | None = None
    user: str | None = None  # the new commander
    service: str | None = None  # declare


@dataclass(frozen=True)
class AlertsReceived:
    """Alertmanager's webhook, kept in the store at `intake_id` before the bot answered it."""

    intake_id: int


@dataclass(frozen=True)
class HomeOpened:
    """A person opened the bot's App Home: show them the open incidents."""

    user: str


Request = (
    DiagnoseRequest
    | GuessServiceRequest
    | ButtonClick
    | ThreadReply
    | Mention
    | HomeOpened
    | AlertsReceived
    | IncidentCommand
)
