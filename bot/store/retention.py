"""Retention: what the store forgets, so its file stays bounded. `chatops store prune [--dry-run]`.

Resolved incidents older than `store.retention` (90 days unless the config says otherwise) go with their
timeline, buttons and claims; the buttons of every resolved incident go at once (pressing one would change
nothing now), and so do buttons that belong to no incident once as old. Open incidents are never touched.
`chatops serve` prunes by itself at start and then daily; the command is for a CronJob or a look first.
"""

from __future__ import annotations

import argparse
import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:  # the store's modules load SQLite helpers: not for commands that never open it
    from bot.store.sql import Pruned, SqlStore

log = logging.getLogger("chatops")
PRUNE_EVERY = timedelta(days=1)


def prune(
    store: SqlStore, retention: timedelta, clock: Clock = SYSTEM_CLOCK, dry_run: bool = False
) -> Pruned:
    """Apply the retention policy as of the clock's now."""
    return store.prune(clock.now() - retention, dry_run=dry_run)


def keep_pruning(
    store: SqlStore, retention: timedelta, stop: threading.Event, every: timedelta = PRUNE_EVERY
) -> None:
    """Prune now and then every `every` until `stop` is set (`chatops serve` runs this in a thread)."""
    while True:
        try:
            log.info("store retention: %s", describe(prune(store, retention), dry_run=False))
        except Exception:  # the store busy or gone: the next round tries again; serving goes on
            log.exception("store retention failed")
        if stop.wait(every.total_seconds()):
            return


def describe(pruned: Pruned, dry_run: bool) -> str:
    verb = "would delete" if dry_run else "deleted"
    return (f"{verb} {pruned.incidents} resolved incidents ({pruned.timeline} timeline entries) "
            f"and {pruned.buttons} buttons")  # fmt: skip


def cmd_prune(app: Any, args: argparse.Namespace) -> int:
    from bot.store import open_store

    with open_store(app.settings.store_url) as store:
        pruned = prune(store, app.config.store.retention, dry_run=args.dry_run)
    print(f"{app.settings.store_url}: {describe(pruned, args.dry_run)}")
    return 0


def add_prune_command(sub: Any) -> None:
    """Add `chatops store prune`, beside any other `store` subcommand already added (`store migrate`)."""
    store = sub.choices.get("store") or sub.add_parser("store", help="the incident store")
    actions = _subcommands(store)
    p = actions.add_parser("prune", help="delete what the retention policy (store.retention) no longer keeps")
    p.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    p.set_defaults(func=cmd_prune)


def _subcommands(parser: argparse.ArgumentParser) -> Any:
    """The parser's subcommands, made on first use (two modules add `store` subcommands independently)."""
    for action in parser._actions:  # argparse has no public lookup for a parser's subparsers
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="action", required=True, metavar="ACTION")
