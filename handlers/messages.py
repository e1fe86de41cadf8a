"""Every text a person reads in Slack, in one place."""

from __future__ import annotations

import difflib
from typing import Any

from bot.matcher import MatchResult

DIAGNOSE_USAGE = (
    "Usage: `/diagnose [service] <symptom>`, e.g. `/diagnose api-gateway 504s since the deploy`. "
    "I match the symptom to a playbook, run its read-only checks and open an incident thread."
)
CHECKS_RUNNING = "Running read-only checks…"
EVIDENCE_ATTACHED = "Full evidence from the checks (secrets redacted):"


def evidence_not_attached(error: str | None) -> str:
    return f"I could not attach the checks' full evidence as a file (Slack said `{error}`); the summaries above stand."


def usage(services: list[str]) -> str:
    return f"{DIAGNOSE_USAGE} Services: {', '.join(f'`{s}`' for s in services)}."


def unknown_service(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    guess = f" Did you mean `{close[0]}`?" if close else ""
    return f"I don't know a service called `{word}`.{guess} Known services: {', '.join(f'`{k}`' for k in known)}."


def use_incident_channels(channels: list[str]) -> str:
    return f"`/diagnose` opens incidents in {', '.join(channels)}: run it there."


def opening(service: str) -> str:
    return f"Opening an incident for `{service}`…"


def closest(query: str) -> str:
    return f"No confident match for _{query}_. Closest playbooks:"


def nothing_fits(query: str) -> str:
    return (
        f"No playbook fits _{query}_. Describe what you see in this thread with `@chatops diagnose <symptom>` "
        "(an error message, an alert name, what users notice)."
    )


def match_text(result: MatchResult) -> str:
    if result.best is None:
        return f"No confident match for: {result.query}"
    return f"Playbook: {result.best.playbook.title}"


APPROVALS_PENDING = (
    "Recorded your request for this fix in the incident timeline. Nothing has run: the approval flow "
    "(a second person approves, the action runs once and is verified) is not switched on in this version."
)


INVITE_ME = "I can't post in this channel yet: invite me with `/invite @chatops`, then run the command again."


def went_wrong(correlation: str) -> str:
    return f"Something went wrong on my side (error id {correlation}); the logs have the details."


def ran(user: str, title: str) -> str:
    return f":arrow_forward: <@{user}> ran *{title}* below."


def severity_set(user: str, sev: str) -> str:
    return f"<@{user}> set the severity to *{sev}*."


MENTION_HELP = (
    "In an incident thread: `@chatops status` (where the incident stands), `@chatops diagnose <symptom>` "
    "(run the playbook that fits). To open an incident: `/diagnose [service] <symptom>` in #incidents."
)


def offer(title: str, why: list[str]) -> str:
    return f"That sounds like *{title}* ({'; '.join(why)}). Run its checks here?"


def status(incident: Any, entries: int) -> str:
    sev = incident.severity or "no severity set"
    playbook = incident.playbook_id or "no playbook yet"
    return f"*{incident.id}* `{incident.service}`: {incident.status}, {sev}, playbook {playbook}; {entries} timeline entries."
