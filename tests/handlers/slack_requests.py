"""Transitional: the payload builders moved to handlers.shell.payloads (removed once every test imports them)."""

from __future__ import annotations

from slack_bolt.request import BoltRequest

from handlers.shell.payloads import SIGNING_SECRET, block_action, event_callback, signed, slash_command

__all__ = ["SIGNING_SECRET", "block_action", "event_callback", "signed", "signed_json", "slash_command"]


def signed_json(body: str, retry: int | None = None) -> BoltRequest:
    return signed(body, retry=retry)
