"""`/incident <subcommand>` as people type it, into a typed request (or why it is not one).

    declare [service] <title> [sev N]   sev <1-4>   ack   commander @user   note <text>   mitigated
    resolve [summary]   reopen   status   summary   help

An incident id (INC-20261201-0003) anywhere picks the incident; without one, the open incident of the channel
is meant, when there is exactly one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.config import Config
from bot.errors import UnknownNameError
from bot.incident.parse import channel_service, is_incident_channel
from bot.incident.requests import Asker, IncidentCommand, Verb
from bot.severity import Sev

ALIASES: dict[str, Verb] = {
    "declare": "declare", "open": "declare", "sev": "sev", "severity": "sev", "ack": "ack", "acknowledge": "ack",
    "commander": "commander", "ic": "commander", "note": "note", "mitigated": "mitigated", "mitigate": "mitigated",
    "resolve": "resolve", "resolved": "resolve", "reopen": "reopen", "status": "status", "summary": "summary",
}  # fmt: skip
INCIDENT_ID = re.compile(r"\bINC-\d{8}-\d{4,}\b", re.IGNORECASE)
SEV_WORD = re.compile(r"^(?:sev[- ]?)?([1-4])$", re.IGNORECASE)
TRAILING_SEV = re.compile(r"\s+sev[- ]?([1-4])\s*$", re.IGNORECASE)
USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class CommandRefusal:
    """Why nothing happens; the edge words it."""

    reason: Literal[
        "help", "usage", "not_incident_channel", "needs_service", "bad_sev", "bad_user", "no_note"
    ]
    verb: str = ""


def parse_incident(
    text: str, asker: Asker, config: Config, channel_name: str | None = None
) -> IncidentCommand | CommandRefusal:
    words = (text or "").strip()
    verb_word, _, rest = words.partition(" ")
    verb = ALIASES.get(verb_word.lower())
    if verb is None:
        return CommandRefusal("help" if verb_word.lower() in ("", "help", "?") else "usage", verb_word)
    found = INCIDENT_ID.search(rest)
    incident_id = found.group(0).upper() if found else None
    rest = INCIDENT_ID.sub("", rest).strip()
    if verb == "declare":
        return _declare(rest, asker, config, channel_name)
    if verb == "sev":
        matched = SEV_WORD.match(rest)
        if not matched:
            return CommandRefusal("bad_sev", verb)
        return IncidentCommand(asker, verb, incident_id, sev=Sev(f"SEV-{matched.group(1)}"))
    if verb == "commander":
        user = USER.match(rest)
        if not user:
            return CommandRefusal("bad_user", verb)
        return IncidentCommand(asker, verb, incident_id, user=user.group(1))
    if verb == "note" and not rest:
        return CommandRefusal("no_note", verb)
    return IncidentCommand(asker, verb, incident_id, text=rest)


def _declare(
    rest: str, asker: Asker, config: Config, channel_name: str | None
) -> IncidentCommand | CommandRefusal:
    if not is_incident_channel(config, asker.channel, channel_name):
        return CommandRefusal("not_incident_channel", "declare")
    sev_found = TRAILING_SEV.search(rest)
    sev = Sev(f"SEV-{sev_found.group(1)}") if sev_found else None
    title = TRAILING_SEV.sub("", rest).strip()
    first, _, after = title.partition(" ")
    service: str | None
    try:
        service, _ = config.service(first)
        title = after.strip()
    except UnknownNameError:
        service = config.find_service_in(title) or channel_service(config, asker.channel, channel_name)
    if service is None:
        return CommandRefusal("needs_service", "declare")
    if not title:
        return CommandRefusal("usage", "declare")
    return IncidentCommand(asker, "declare", text=title, sev=sev, service=service)
