"""`chatops store migrate` and `chatops store version`: the store's schema, for whoever runs the upgrades.

The bot migrates its store on start (replicas queue on PostgreSQL's advisory lock), so `migrate` is for
doing it ahead of a rollout, e.g. as a Kubernetes Job; `version` only reads. Exit codes as bot.cli's: 0 up to
date, 1 the store needs migrating or is newer than this bot, 2 it cannot be reached.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.redaction import redact


def add_store_commands(subparsers: Any) -> None:
    """Add `store migrate` and `store version` to the `chatops` subcommands."""
    store = subparsers.add_parser("store", help="the incident store's schema").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    store.add_parser(
        "migrate", help="apply the schema migrations this bot knows; print the version"
    ).set_defaults(func=cmd_store_migrate)
    store.add_parser("version", help="print the store's schema version and this bot's").set_defaults(
        func=cmd_store_version
    )


def cmd_store_migrate(app: Any, args: argparse.Namespace) -> int:
    from bot.store import open_store  # here: the commands that need no store start without its drivers

    url = app.settings.store_url
    open_store(url).close()  # opening migrates
    return _report(url)


def cmd_store_version(app: Any, args: argparse.Namespace) -> int:
    return _report(app.settings.store_url)


def _report(url: str) -> int:
    from bot.store import schema_versions

    current, known = schema_versions(url)
    where = f"{redact(url)}: schema version {current}"
    if current == known:
        print(f"{where} (up to date)")
        return 0
    if current < known:
        print(f"{where}, this bot's is {known}: run `chatops store migrate` (or start the bot)")
    else:
        print(f"{where}, newer than this bot knows ({known}): upgrade the bot")
    return 1
