"""Incident ChatOps: the domain of the bot (no Slack imports here)."""
