"""Every text a person reads in Slack, in one place.

Text that came from a person or a system under diagnosis (symptoms, log lines, alert annotations, what a
check found) goes through `escape` before it is put into mrkdwn, so `<!channel>`, `<@U…>` or `<url|label>`
in it are shown, not acted on. Our own mentions (`<@{user}>` of the person who clicked) are added after.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import TIER_NAMES
from bot.incidents import Incident
from bot.matcher import MatchResult

DIAGNOSE_USAGE = (
    "Usage: `/diagnose [service] <symptom>`, e.g. `/diagnose api-gateway 504s since the deploy`. "
    "I match the symptom to a playbook, run its read-only checks and open an incident thread."
)
CHECKS_RUNNING = "Running read-only checks…"
CHECKS_DONE = "Read-only checks finished"
EVIDENCE_ATTACHED = "Full evidence from the checks (secrets redacted):"
INVITE_ME = "I can't post in this channel yet: invite me with `/invite @chatops`, then run the command again."
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


def root_text(incident: Incident) -> str:
    """The channel message's plain text (notifications, search): the blocks say the rest."""
    return f"{incident.id} {incident.service}: {escape(incident.symptom)}"


TRIAGE_ALONE = ":mag: Meanwhile the guide's general checks (its triage) run below."


def closest(query: str, not_incident: str | None = None) -> str:
    if not_incident:
        return f"_{escape(query)}_ reads like {not_incident}, not an incident, so I ran no checks. If it is one, pick a playbook:"
    return f"No confident match for _{escape(query)}_. Closest playbooks:"


def nothing_fits(query: str, not_incident: str | None = None) -> str:
    said = (
        f"_{escape(query)}_ reads like {not_incident}, not an incident"
        if not_incident
        else f"No playbook fits _{escape(query)}_"
    )
    return (
        f"{said}. Describe what you see in this thread with `@chatops diagnose <symptom>` "
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


def offer(title: str, why: Sequence[str]) -> str:
    return f"That sounds like *{title}* ({escape('; '.join(why))}). Run its checks here?"


def resolved_here(incident_id: str) -> str:
    return (f"*{incident_id}* is resolved, so I ran no checks in it. Reopen it to investigate here, or open a new "
            "incident with `/diagnose <service> <symptom>`.")  # fmt: skip


def source(link: str) -> str:
    return f"Opened from <{link}|this message>."


# -- fixes and their approval ------------------------------------------------------------------------

REQUEST_STATES = {
    "pending": ":hourglass_flowing_sand: Waiting for approval",
    "executing": ":gear: Approved by {by}: running…",
    "succeeded": ":white_check_mark: Done and verified",
    "failed": ":x: Failed",
    "timed_out": ":warning: Ran, but not verified in time",
    "denied": ":no_entry: Denied by {by}",
    "expired": ":hourglass: Expired without approval",
    "stale": ":recycle: Refused: the target changed since this preview (a fresh preview follows)",
    "interrupted": ":x: Interrupted: the bot stopped while it ran; check the target before trying again",
}


def who(ids: Sequence[str]) -> str:
    """Slack ids as mentions: users as <@U…>, user groups as <!subteam^S…>."""
    return ", ".join(f"<!subteam^{i}>" if i.startswith("S") else f"<@{i}>" for i in ids) or "nobody"


def request_title(seq: int, title: str) -> str:
    return f":wrench: *Fix request {seq}: {escape(title)}*" if seq else f":wrench: *{escape(title)}*"


def request_asked(requester: str, approvers: Sequence[str], needed: int, expires: str) -> str:
    approvals = "an approval" if needed == 1 else f"{needed} approvals"
    return (f"Asked by <@{requester}>. Needs {approvals} from someone other than <@{requester}>: {who(approvers)}. "
            f"Expires at {expires}.")  # fmt: skip


def request_state(state: str, by: str | None) -> str:
    return REQUEST_STATES[state].format(by=f"<@{by}>" if by else "someone")


def note(kind: str, title: str, text: str, ok: bool | None) -> str:
    title, text = f"*{escape(title)}*", escape(text)
    if kind == "running":
        return f":gear: Running {title}…"
    if kind == "outcome":
        return f":arrow_forward: {title}: {text}"
    if kind == "verification":
        mark = ":white_check_mark: Verified" if ok else ":warning: Not verified"
        return f"{mark}: {title}: {text}"
    if kind == "stale":
        return f":recycle: {title}: {text}. Refused: nothing was changed."
    if kind == "not_needed":
        return f":information_source: {title} is not needed: {text}"
    if kind == "approval":
        return f":ballot_box_with_check: {title}: approvals so far {text}."
    return f":x: {title} failed: {text}"


# Where a fix request already stands, as a button pressed on it is told (by RequestState's value).
DECIDED = {"executing": "is already running", "succeeded": "has already run and been verified",
           "failed": "has already run, and failed", "timed_out": "has already run (not verified in time)",
           "denied": "was already denied", "expired": "has already expired",
           "stale": "was already refused: its target changed after the preview",
           "interrupted": "was interrupted while it ran: check its outcome by hand"}  # fmt: skip


def refusal(
    why: str, seq: int | None, title: str | None, state: str | None, by: str | None, detail: str
) -> str:
    name = f"fix request {seq} ({escape(title or '')})" if seq else "this fix"
    named = name[0].upper() + name[1:]  # to start a sentence (capitalize() would lowercase the title)
    if why == "unknown_button":
        return "That button no longer stands for anything I know (the message may be old, or my store was reset)."
    if why == "no_request":
        return "That fix request no longer exists; ask for the fix again from the verdict's buttons."
    if why == "decided":
        where = DECIDED.get(state or "", f"is already {state}")
        return f"{named} {where}{f' (decided by <@{by}>)' if by else ''}: nothing more to do."
    if why == "expired":
        return f"{named} expired without approval; ask for it again from the verdict's buttons."
    if why == "self_approval":
        return f"You asked for {name}, so someone else must approve it."
    if why == "not_approver":
        return f"Only {who(detail.split(', ') if detail else [])} may approve {name}; ask one of them."
    if why == "not_deniable":
        return f"Only the requester or an approver ({who(detail.split(', ') if detail else [])}) may deny {name}."
    if why == "approval_recorded":
        return f"Your approval of {name} is recorded ({escape(detail)}); it runs once enough people approved."
    if why == "already_requested":
        return f"This fix was already asked for ({name}); it is waiting for approval in the thread."
    if why == "resolved":
        return f"*{escape(detail)}* is resolved, so nothing runs in it: reopen it first (`/incident reopen {escape(detail)}`)."
    return f"I could not preview this fix, so nothing was asked for: {escape(detail)}"


# -- running the incident -----------------------------------------------------------------------------

INCIDENT_USAGE = (
    "Usage: `/incident declare [service] <title> [sev N]`, `/incident sev <1-4>`, `ack`, `commander @user`, "
    "`note <text>`, `mitigated`, `resolve [summary]`, `reopen`, `status`, `summary`. Add an incident id "
    "(INC-…) when the channel has more than one open incident."
)
STATUS_DONE = {"acknowledged": ":eyes: {by} acknowledged the incident", "mitigated": ":adhesive_bandage: {by} marked it mitigated",
               "resolved": ":white_check_mark: {by} resolved the incident", "investigating": ":arrows_counterclockwise: {by} reopened the incident"}  # fmt: skip


def actor(user: str | None) -> str:
    return f"<@{user}>" if user and user[:1] in "UW" else "The bot"


def status_changed(user: str | None, status: str, note: str) -> str:
    return STATUS_DONE[status].format(by=actor(user)) + (f": {escape(note)}" if note else ".")


def severity_changed(user: str | None, sev: str, was: str | None) -> str:
    before = f" (was {was})" if was else ""
    if user and user[:1] in "UW":
        return f"<@{user}> set the severity to *{sev}*{before}."
    return f"The severity is *{sev}*{before}, from the alert's severity label."


def tier_name(tier: str) -> str:
    return TIER_NAMES.get(tier, tier.replace("_", " "))


def notify_tier(tier: str, who: str, why: str, paged: bool) -> str:
    return (
        f":rotating_light: {'Paging' if paged else 'Calling'} {tier_name(tier)} {who_is(who)}: {escape(why)}"
    )


def escalated(tier: str, who: str, after: str, condition: str, contacts: list[str], paged: bool) -> str:
    text = (f":arrow_double_up: Escalating to the {tier_name(tier)} {who_is(who)}: "
            f"{condition.replace('_', ' ')} after {after}{' (paged)' if paged else ''}.")  # fmt: skip
    return text + (f" Other ways to reach the team: {escape('; '.join(contacts))}." if contacts else "")


def who_is(slack_id: str) -> str:
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def page_refused(tier: str, reason: str) -> str:
    return f":x: PagerDuty refused the page to the {tier_name(tier)}, so nobody was paged: {escape(reason)}"


def commander_set(user: str, commander: str) -> str:
    return f":man_in_tuxedo: <@{user}> made <@{commander}> the incident commander."


def note_added(user: str, text: str) -> str:
    return f":memo: Note from <@{user}>: {escape(text)}"


def command_trouble(why: str, ids: Sequence[str], verb: str, status: str = "") -> str:
    if why == "unknown_incident":
        return f"There is no incident `{escape(verb)}`."
    if why == "no_open_incident":
        return "There is no open incident in this channel: add its id (INC-…), or `/incident declare …`."
    if why == "none_resolved":
        return "There is no resolved incident in this channel to reopen: add its id (INC-…)."
    if why == "several_open":
        return f"Several incidents are open here ({', '.join(ids)}): add the id, e.g. `/incident {verb} {ids[0]}`."
    if verb == "reopen":
        return f"Nothing changed: *{ids[0]}* is not resolved (it is {status})."
    return f"Nothing changed: *{ids[0]}* is already {status}."


def alert_noted(name: str, what: str, title: str) -> str:
    mark = ":bell:" if what == "firing" else ":large_green_circle:"
    return f"{mark} Alert *{escape(name)}* {what}: {escape(title)}"


def alert_unplaced(name: str, labels: str) -> str:
    return f":warning: Alert *{escape(name)}* is firing, but its labels name no service I know ({escape(labels)})."


def incident_status(incident: Incident, verdict: str | None, verdict_label: str, durations: str) -> str:
    sev = incident.severity or "no SEV"
    who = f", commander <@{incident.commander}>" if incident.commander else ""
    text = f"*{incident.id}* `{incident.service}`: {incident.status.value}, {sev}{who}. {durations}"
    return text + (f"\n{verdict_label}: {escape(verdict)}" if verdict else "")
