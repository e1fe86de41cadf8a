"""Events: replies in incident threads (one offer when another playbook fits), `@chatops` mentions, and the
App Home tab. Bolt acks when the listener returns; the work happens in the background."""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext

from bot.incident.requests import Asker, HomeOpened, Mention, ThreadReply
from handlers.deps import Deps
from handlers.payloads import is_thread_reply, without_mentions
from handlers.routes import Route


def routes(deps: Deps) -> list[Route]:
    def on_message(event: dict[str, Any], context: BoltContext) -> None:
        if is_thread_reply(event, context.bot_user_id):  # no reply to chatter
            asker = Asker(event.get("user", ""), event["channel"])
            deps.later(ThreadReply(asker, event["thread_ts"], event.get("text", "")))

    def on_mention(event: dict[str, Any]) -> None:
        asker = Asker(event.get("user", ""), event["channel"])
        deps.later(
            Mention(asker, event["ts"], event.get("thread_ts"), without_mentions(event.get("text", "")))
        )

    def on_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            deps.later(HomeOpened(event["user"]))

    return [Route("event", "message", on_message), Route("event", "app_mention", on_mention),
            Route("event", "app_home_opened", on_home)]  # fmt: skip
