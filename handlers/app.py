"""`create_app`: the Bolt app wired to the engine. No module-level App; everything comes in through Deps."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltResponse

from handlers.actions import incident_buttons
from handlers.commands import diagnose
from handlers.deps import Deps
from handlers.events import incident_threads
from handlers.routes import Route


def routes(deps: Deps) -> list[Route]:
    """Every command, event and button the app answers (manifest.yaml must list the same)."""
    return diagnose.routes(deps) + incident_buttons.routes(deps) + incident_threads.routes(deps)


def create_app(deps: Deps, signing_secret: str) -> App:
    """The Slack app: signature-verified requests, listeners for commands, buttons and events."""
    app = App(
        client=deps.client,
        signing_secret=signing_secret,
        # Listeners answer at once and hand anything slow to deps.later, so Bolt runs them in the request's own
        # thread. (Otherwise Bolt hands each to a pool and polls every 10 ms for the ack: +10 ms on every ack.)
        process_before_response=True,
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
        """A listener failed before handing its work on: logged with an error id the person also sees."""
        channel = body.get("channel_id") or body.get("channel", {}).get("id")  # a command, or a click
        user = body.get("user_id") or body.get("user", {}).get("id")
        deps.report_failure(error, (channel, user) if channel and user else None)

    return app
