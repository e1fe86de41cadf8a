"""`chatops socket`: the same Bolt app over Slack's Socket Mode, for teams that cannot expose an HTTP endpoint.

The app opens a websocket to Slack with the app-level token (`xapp-`, scope `connections:write`). Slack
authenticates the socket, so requests carry no signature and Bolt skips that check. Every envelope is acked over
the socket with what the listener passed to `ack()`. A redelivery (`retry_attempt` > 0) reaches the app as
`x-slack-retry-num`, and the event listeners (handlers.events.threads) claim each event id once.
"""

from __future__ import annotations

import logging
import threading

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError

from bot.errors import ChatOpsError
from handlers.slack_web import web_client

log = logging.getLogger("chatops")


def socket_mode_handler(app: App, app_token: str, api_url: str | None = None) -> SocketModeHandler:
    """The app's Socket Mode connection, not open yet: `connect()` it, then `close()` it."""
    # apps.connections.open takes the app-level token, and goes to SLACK_API_URL like every other call.
    return SocketModeHandler(app, app_token, web_client=web_client(app_token, api_url))


def serve_socket_mode(
    app: App, app_token: str, api_url: str | None = None, stop: threading.Event | None = None
) -> None:
    """Serve Slack's requests over Socket Mode until `stop` is set or the process is interrupted (Ctrl+C).

    Raises:
        ChatOpsError: Slack refused the token, so no connection could be opened.
    """
    handler = socket_mode_handler(app, app_token, api_url)
    try:
        try:
            handler.connect()
        except SlackApiError as err:
            raise ChatOpsError(
                f"Slack refused SLACK_APP_TOKEN for Socket Mode ({err.response.get('error')}): use the app-level "
                "token (xapp-..., Basic Information > App-Level Tokens, scope connections:write) of an app with "
                "Socket Mode enabled"
            ) from err
        log.info("connected to Slack over Socket Mode")
        (stop or threading.Event()).wait()
    finally:
        _close(handler)


def _close(handler: SocketModeHandler) -> None:
    """Close the connection and the client's threads (until closed, the client reconnects on its own)."""
    # The client's message loop polls its queue for 1 s before it sees `closed`; a None (which it skips)
    # wakes it at once, so stopping takes milliseconds, not a second.
    handler.client.closed = True
    handler.client.message_queue.put(None)
    handler.close()
