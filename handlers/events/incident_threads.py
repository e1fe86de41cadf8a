"""Incident threads listen: a reply that confidently matches another playbook gets one offer to run it, and
`@bot help | status | diagnose <text>` work in threads."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import BoltContext

from bot.redaction import redact
from handlers import blocks, messages
from handlers.commands.diagnose import run_playbook
from handlers.deps import Deps
from handlers.ids import ActionId, BlockId
from handlers.routes import Route

MENTION = re.compile(r"<@[A-Z0-9]+>")


def is_thread_reply(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A person's reply in a thread (not the root, not an edit or a bot's own message, and not addressed
    to the bot: Slack sends those as `app_mention` too, and the mention is answered there)."""
    return (
        "subtype" not in event
        and "bot_id" not in event
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
        and f"<@{bot_user_id}>" not in event.get("text", "")
    )


def handle_thread_message_event(deps: Deps, event: dict[str, Any], bot_user_id: str | None) -> None:
    if not is_thread_reply(event, bot_user_id):
        return
    incident = deps.store.by_thread(event["channel"], event["thread_ts"])
    if incident is None or not incident.is_open:
        return
    guide = deps.config.services[incident.service].guide
    result = deps.matcher.match(event.get("text", ""), guide=guide, service=incident.service)
    best = result.best
    if best is None or best.playbook.id == incident.playbook_id:
        return
    if not deps.store.offer_once(incident.id, best.playbook.id):
        return  # one offer per playbook per incident: no spam
    value = deps.store.put_state("run_playbook", {"incident": incident.id, "playbook": best.playbook.id})
    offer = [
        blocks.section(messages.offer(best.playbook.title, best.why)),
        blocks.actions(
            BlockId.ALTERNATIVES, [blocks.button(f"Run {best.playbook.title}", ActionId.RUN_PLAYBOOK, value)]
        ),
    ]
    deps.client.chat_postMessage(channel=event["channel"], thread_ts=event["thread_ts"],
                                 text=messages.offer(best.playbook.title, best.why), blocks=offer)  # fmt: skip


def handle_mention_event(deps: Deps, event: dict[str, Any]) -> None:
    words = MENTION.sub("", event.get("text", "")).strip()
    command, _, rest = words.partition(" ")
    channel, thread_ts = event["channel"], event.get("thread_ts")
    incident = deps.store.by_thread(channel, thread_ts) if thread_ts else None
    reply_ts = thread_ts or event["ts"]
    if command.lower() == "status" and incident is not None:
        text = messages.status(incident, len(deps.store.timeline(incident.id)))
    elif command.lower() == "diagnose" and incident is not None and rest.strip():
        guide = deps.config.services[incident.service].guide
        result = deps.matcher.match(redact(rest), guide=guide, service=incident.service)  # echoed if no match
        if result.best is not None:
            run_playbook(deps, incident.id, result.best.playbook, event.get("user"))
            return
        text = messages.match_text(result)
    else:
        text = messages.MENTION_HELP
    deps.client.chat_postMessage(channel=channel, thread_ts=reply_ts, text=text)


def routes(deps: Deps) -> list[Route]:
    # Bolt acknowledges events when the listener returns; the work (matching, posting) happens in the background.
    def on_message(event: dict[str, Any], context: BoltContext) -> None:
        deps.later(handle_thread_message_event, event, context.bot_user_id)  # no reply to chatter

    def on_mention(event: dict[str, Any]) -> None:
        deps.later(handle_mention_event, event, tell=(event["channel"], event["user"]))

    return [Route("event", "message", on_message), Route("event", "app_mention", on_mention)]
