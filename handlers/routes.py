"""What the app listens for, as data: each route is one slash command, event or button and its listener.
`create_app` registers exactly these, so the manifest contract test can compare them with manifest.yaml."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from slack_bolt import App


@dataclass(frozen=True)
class Route:
    kind: Literal["command", "event", "action"]
    name: str  # "/diagnose", an event type, an action_id
    listener: Callable[..., None]  # Bolt passes the arguments it names (ack, body, event, context, ...)

    def register(self, app: App) -> None:
        getattr(app, self.kind)(self.name)(self.listener)
