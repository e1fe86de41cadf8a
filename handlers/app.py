"""`create_app`: the Bolt app wired to the incident flows. No module-level App; everything comes in through Deps."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_bolt.error import BoltError

from bot.errors import ChatOpsError
from handlers.actions import buttons
from handlers.commands import diagnose, incident
from handlers.deps import Deps
from handlers.events import threads
from handlers.routes import Route
from handlers.shortcuts import diagnose_message
from handlers.views import diagnose_modal


def routes(deps: Deps) -> list[Route]:
    """Every command, event, button, shortcut and form the app answers (manifest.yaml must list the same)."""
    return (
        diagnose.routes(deps)
        + incident.routes(deps)
        + buttons.routes(deps)
        + threads.routes(deps)
        + diagnose_message.routes(deps)
        + diagnose_modal.routes(deps)
    )


def create_app(deps: Deps, signing_secret: str) -> App:
    """The Slack app: signature-verified requests, listeners that parse, ack and hand typed requests on."""
    try:
        app = App(
            client=deps.client,
            signing_secret=signing_secret,
            # Listeners answer at once and hand anything slow to deps.later, so Bolt runs them in the request's
            # own thread. (Otherwise Bolt hands each to a pool and polls every 10 ms for the ack: +10 ms each.)
            process_before_response=True,
        )
    except (BoltError, OSError) as err:  # Bolt checks the token with auth.test: refused, or Slack unreachable
        raise ChatOpsError(
            f"Slack did not confirm the bot token (auth.test at {deps.client.base_url}): {err}. "
            "Check SLACK_BOT_TOKEN, and SLACK_API_URL if you set it."
        ) from None

    for route in routes(deps):
        route.register(app)

    @app.error
    def handle_error(error: Exception, body: dict[str, Any]) -> None:
        """A listener failed before handing its work on: logged (Bolt answers Slack 500)."""
        deps.report(error, body)

    return app
