"""Events: replies in incident threads (one offer when another playbook fits), `@chatops` mentions, and the
App Home tab. Bolt acks when the listener returns; the work happens in the background.

Slack redelivers an event it thinks we missed: what was handled once (by any replica) is not handled again. The
claim is made here, for events only, rather than in an app-wide middleware that every command and click would
go through (a middleware call is a good part of what an ack costs over a bare Bolt app's)."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.incident.requests import Asker, HomeOpened, Mention, ThreadReply
from bot.store import EVENT_RETENTION
from handlers.deps import Deps
from handlers.payloads import is_thread_reply, without_mentions
from handlers.routes import Route


def first_delivery(deps: Deps, body: dict[str, Any]) -> bool:
    event_id = body.get("event_id")
    return not event_id or deps.store.claim(f"slack-event:{event_id}", ttl=EVENT_RETENTION)


def routes(deps: Deps) -> list[Route]:
    def on_message(body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
        if is_thread_reply(event, context.bot_user_id) and first_delivery(deps, body):  # no reply to chatter
            asker = Asker(event.get("user", ""), event["channel"])
            deps.later(ThreadReply(asker, event["thread_ts"], event.get("text", "")))

    def on_mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        if not first_delivery(deps, body):
            return
        asker = Asker(event.get("user", ""), event["channel"])
        deps.later(
            Mention(asker, event["ts"], event.get("thread_ts"), without_mentions(event.get("text", "")))
        )

    def on_home(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home" and first_delivery(deps, body):
            deps.later(HomeOpened(event["user"]))

    return [Route("event", "message", on_message), Route("event", "app_mention", on_mention),
            Route("event", "app_home_opened", on_home)]  # fmt: skip
