"""`create_app`: the Bolt app wired to the engine. No module-level App; everything comes in through Deps."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt import App, BoltResponse

from handlers.actions import incident_buttons
from handlers.commands import diagnose
from handlers.deps import Deps
from handlers.events import incident_threads
from handlers.routes import Route

log = logging.getLogger("chatops")


def routes(deps: Deps) -> list[Route]:
    """Every command, event and button the app answers (manifest.yaml must list the same)."""
    return diagnose.routes(deps) + incident_buttons.routes(deps) + incident_threads.routes(deps)


def create_app(deps: Deps, signing_secret: str) -> App:
    """The Slack app: signature-verified requests, listeners for commands, buttons and events."""
    app = App(
        client=deps.client,
        signing_secret=signing_secret,
        process_before_response=False,  # ack first; slow work goes to deps.work
        listener_executor=deps.listeners,
    )

    @app.middleware
    def drop_redelivered_events(body: dict[str, Any], next: Any) -> BoltResponse | None:
        """Slack redelivers events it thinks we missed; what was handled once is not handled again."""
        event_id = body.get("event_id")
        if event_id and deps.store.seen_event(event_id):
            return BoltResponse(status=200, body="")
        next()
        return None

    for route in routes(deps):
        route.register(app)

    @app.error
    def handle_error(error: Exception, body: dict[str, Any]) -> None:
        """One place for unexpected errors: logged with a correlation id the person also sees."""
        correlation = uuid.uuid4().hex[:8]
        log.exception("listener failed [%s]: %s", correlation, error)
        channel, user = body.get("channel_id") or body.get("channel", {}).get("id"), body.get("user_id")
        if channel and user:
            deps.client.chat_postEphemeral(
                channel=channel, user=user, text=f"Something went wrong on my side (error id {correlation})."
            )

    return app
