"""Probes and actions suggested by an entry's words where no guide command gives them."""

from __future__ import annotations

from typing import Any

from bot.importer.guide import Entry
from bot.importer.placeholders import Context


def suggestions(entry: Entry, builder: Any, ctx: Context) -> list[Any]:
    return []
