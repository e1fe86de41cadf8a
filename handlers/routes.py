"""What the app listens for, as data: each route is one slash command, event, button pattern, shortcut or view
submission and its listener. `create_app` registers exactly these, so the manifest contract test can compare
them with manifest.yaml."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from slack_bolt import App


@dataclass(frozen=True)
class Route:
    kind: Literal["command", "event", "action", "shortcut", "view"]
    name: str | re.Pattern[str]  # "/diagnose", an event type, an action_id pattern, a callback_id
    listener: Callable[..., None]  # Bolt passes the arguments it names (ack, body, event, context, ...)

    @property
    def key(self) -> str:
        return self.name.pattern if isinstance(self.name, re.Pattern) else self.name

    def register(self, app: App) -> None:
        getattr(app, self.kind)(self.name)(self.listener)
