"""The Slack edge: the Bolt app and its listeners, calling into `bot/` (nothing here yet beyond the package)."""
