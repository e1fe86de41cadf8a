"""`/diagnose [service] <symptom>` as people type it: which service it is about, and what is wrong.

The service is the first word when that is a service (or an alias); else the one service named anywhere in the
text (an alert line, a pod name); else the service the channel belongs to; else nobody knows yet, and the
person is offered the services the symptom most likely concerns.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from bot.config import Config
from bot.errors import UnknownNameError
from bot.incident.requests import Asker, DiagnoseRequest, GuessServiceRequest

HELP_WORDS = {"help", "-h", "--help", "?"}


@dataclass(frozen=True)
class Refusal:
    """Why nothing is opened; the edge words it (usage, where to run it)."""

    reason: Literal["empty", "help", "no_symptom", "not_incident_channel"]


def is_incident_channel(config: Config, channel_id: str, channel_name: str | None) -> bool:
    allowed = config.diagnose_channels
    return channel_id.lstrip("#") in allowed or (channel_name or "").lstrip("#") in allowed


def channel_service(config: Config, channel_id: str, channel_name: str | None) -> str | None:
    """The one service whose own channel this is, if any."""
    names = {channel_id.lstrip("#"), (channel_name or "").lstrip("#")}
    found = [n for n, s in config.services.items() if names & {c.lstrip("#") for c in s.channels}]
    return found[0] if len(found) == 1 else None


def parse_diagnose(
    text: str, asker: Asker, config: Config, channel_name: str | None = None
) -> DiagnoseRequest | GuessServiceRequest | Refusal:
    text = (text or "").strip()
    if not is_incident_channel(config, asker.channel, channel_name):
        return Refusal("not_incident_channel")
    if not text:
        return Refusal("empty")
    if text.lower() in HELP_WORDS:
        return Refusal("help")
    first, _, rest = text.partition(" ")
    try:
        name, _ = config.service(first)
    except UnknownNameError:
        name = None
    if name is not None:
        return DiagnoseRequest(asker, name, rest.strip()) if rest.strip() else Refusal("no_symptom")
    named = config.find_service_in(text) or channel_service(config, asker.channel, channel_name)
    if named is not None:
        return DiagnoseRequest(asker, named, text)
    known = sorted({n for n in config.services} | {a for s in config.services.values() for a in s.aliases})
    close = difflib.get_close_matches(first.lower(), known, n=1, cutoff=0.75)
    if close and rest.strip():  # "api-gatway 504s": a misspelt service, the rest is the symptom
        return GuessServiceRequest(asker, rest.strip(), typed=first)
    return GuessServiceRequest(asker, text)


def incident_channel_for(config: Config, service: str | None) -> str:
    """Where an incident opened from elsewhere (a shortcut, an alert) goes: the service's own channel, or the
    first incident channel."""
    own = config.services[service].channels if service in config.services else []
    return (own or config.slack.incident_channels)[0]
