"""What people ask of the incident flows, as typed requests: parsed once at the edge (Slack, the CLI), handed
to a worker as they are, never as raw Slack bodies. All are small frozen dataclasses, so they pickle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    severity: Sev | None = None  # chosen by the person (the modal), never guessed
    source: tuple[str, str] | None = None  # (channel, ts) of the message a shortcut was used on


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


@dataclass(frozen=True)
class HomeOpened:
    """A person opened the bot's App Home: show them the open incidents."""

    user: str


Request = DiagnoseRequest | GuessServiceRequest | ButtonClick | ThreadReply | Mention | HomeOpened
