"""Every text a person reads in Slack, in one place.

Text that came from a person or a system under diagnosis (symptoms, log lines, alert annotations, what a
check found) goes through `escape` before it is put into mrkdwn, so `<!channel>`, `<@U…>` or `<url|label>`
in it are shown, not acted on. Our own mentions (`<@{user}>` of the person who clicked) are added after.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.incidents import Incident
from bot.matcher import MatchResult
from bot.severity import Sev

DIAGNOSE_USAGE = (
    "Usage: `/diagnose [service] <symptom>`, e.g. `/diagnose api-gateway 504s since the deploy`. "
    "I match the symptom to a playbook, run its read-only checks and open an incident thread."
)
CHECKS_RUNNING = "Running read-only checks…"
CHECKS_DONE = "Read-only checks finished"
EVIDENCE_ATTACHED = "Full evidence from the checks (secrets redacted):"
INVITE_ME = "I can't post in this channel yet: invite me with `/invite @chatops`, then run the command again."
APPROVALS_PENDING = (
    "Recorded your request for this fix in the incident timeline. Nothing has run: the approval flow "
    "(a second person approves, the action runs once and is verified) is not switched on in this version."
)
MENTION_HELP = (
    "In an incident thread: `@chatops status` (where the incident stands), `@chatops diagnose <symptom>` "
    "(run the playbook that fits). To open an incident: `/diagnose [service] <symptom>` in #incidents."
)
MODAL_TITLE, MODAL_SUBMIT, MODAL_CLOSE = "Diagnose", "Open incident", "Cancel"
MODAL_SERVICE, MODAL_SYMPTOM, MODAL_SEVERITY = "Service", "What is wrong?", "Severity (optional)"
MODAL_SYMPTOM_HINT = "An error message, an alert name, what users notice. I match it to a playbook."
SHORTCUT_NAME = "Diagnose this"
HOME_TITLE = "Open incidents"
HOME_NONE = "No open incidents. `/diagnose [service] <symptom>` in #incidents opens one."


def escape(text: str) -> str:
    """Text as Slack shows it literally: its three control characters escaped (Slack's own rule)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def usage(services: Sequence[str]) -> str:
    return (
        f"{DIAGNOSE_USAGE} Services: {', '.join(f'`{s}`' for s in services)}. `/diagnose` alone opens a form."
    )


def use_incident_channels(channels: Sequence[str]) -> str:
    return f"`/diagnose` opens incidents in {', '.join(escape(c) for c in channels)}: run it there."


def opening(service: str) -> str:
    return f"Opening an incident for `{service}`…"


def which_service(typed: str | None) -> str:
    if typed:
        return f"I don't know a service called `{escape(typed)}`. Which one did you mean? Pick one and I open the incident:"
    return "Which service is this about? Pick one and I open the incident:"


def asking_which_service(typed: str | None) -> str:
    """The ack while the service guesses are worked out."""
    return (
        f"I don't know a service called `{escape(typed)}`; finding the likeliest ones…"
        if typed
        else ("No service named; finding the likeliest ones…")
    )


def root_text(incident: Incident) -> str:
    """The channel message's plain text (notifications, search): the blocks say the rest."""
    return f"{incident.id} {incident.service}: {escape(incident.symptom)}"


def closest(query: str) -> str:
    return f"No confident match for _{escape(query)}_. Closest playbooks:"


def nothing_fits(query: str) -> str:
    return (
        f"No playbook fits _{escape(query)}_. Describe what you see in this thread with `@chatops diagnose <symptom>` "
        "(an error message, an alert name, what users notice)."
    )


def match_text(result: MatchResult) -> str:
    if result.best is None:
        return f"No confident match for: {escape(result.query)}"
    return f"Playbook: {result.best.playbook.title}"


def queued(ahead: int) -> str:
    """Past the cap on incidents checked at once (bot.incident.turns), in the incident's thread."""
    incidents = "incident" if ahead == 1 else "incidents"
    return f":stopwatch: Queued behind {ahead} {incidents}: the checks start when one of them finishes."


def went_wrong(correlation: str) -> str:
    return f"Something went wrong on my side (error id {correlation}); the logs have the details."


def evidence_not_attached(error: str | None) -> str:
    return f"I could not attach the checks' full evidence as a file (Slack said `{error}`); the summaries above stand."


def ran(user: str, title: str) -> str:
    return f":arrow_forward: <@{user}> ran *{title}* below."


def picked(user: str, service: str) -> str:
    return f":arrow_forward: <@{user}> opened the incident for `{service}`."


def severity_set(user: str, sev: Sev, was: Sev | None) -> str:
    before = f" (was {was})" if was else ""
    return f"<@{user}> set the severity to *{sev}*{before}."


def offer(title: str, why: Sequence[str]) -> str:
    return f"That sounds like *{title}* ({escape('; '.join(why))}). Run its checks here?"


def status(incident: Incident, entries: int) -> str:
    sev = incident.severity or "no severity set"
    playbook = incident.playbook_id or "no playbook yet"
    return f"*{incident.id}* `{incident.service}`: {incident.status}, {sev}, playbook {playbook}; {entries} timeline entries."


def source(link: str) -> str:
    return f"Opened from <{link}|this message>."
