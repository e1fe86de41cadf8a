"""`chatops incident list [--open] [--json]`, `show ID`, `export ID`: incidents from the store, for people and
for postmortems (a Markdown draft: the facts from the timeline, the narrative left to be written)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from bot.clock import SYSTEM_CLOCK

if TYPE_CHECKING:
    from bot.incidents import Incident

# The store and the summary are imported by the commands that use them: every other command starts without them.


def incident_json(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "service": incident.service, "title": incident.name, "status": incident.status.value,
            "severity": incident.severity.value if incident.severity else None, "commander": incident.commander,
            "opened": incident.created_at.isoformat(),
            "resolved": incident.resolved_at.isoformat() if incident.resolved_at else None}  # fmt: skip


def cmd_list(app: Any, args: argparse.Namespace) -> int:
    from bot.store import open_store

    with open_store(app.settings.store_url) as store:
        incidents = store.list_open(limit=10_000) if args.open else store.list_all(limit=args.limit)
    if args.json:
        print(json.dumps([incident_json(i) for i in incidents], indent=2))
        return 0
    for incident in incidents:
        print(f"{incident.id}  {incident.service:<16} {incident.severity or '-':<6} {incident.status.value:<13} "
              f"{incident.created_at:%Y-%m-%d %H:%M}  {incident.name[:60]}")  # fmt: skip
    print(f"{len(incidents)} incidents")
    return 0


def cmd_show(app: Any, args: argparse.Namespace) -> int:
    from bot.incident.summary import duration, summarize
    from bot.store import open_store

    with open_store(app.settings.store_url) as store:
        incident = store.require(args.id)
        summary = summarize(store, incident, SYSTEM_CLOCK.now())
    print(f"{incident.id} {incident.service}: {incident.name}")
    print(f"  status {incident.status.value}, severity {incident.severity or 'not set'}, "
          f"commander {incident.commander or 'not named'}")  # fmt: skip
    for name, took in summary.durations():
        print(f"  {name}: {duration(took)}")
    print("Timeline:")
    for entry in summary.timeline:
        print(
            f"  {entry.at:%Y-%m-%d %H:%M:%S} {entry.kind.value:<18} {entry.text}"
            + (f"  ({entry.actor})" if entry.actor else "")
        )
    return 0


def cmd_export(app: Any, args: argparse.Namespace) -> int:
    from bot.incident.summary import postmortem, summarize
    from bot.store import open_store

    with open_store(app.settings.store_url) as store:
        incident = store.require(args.id)
        team = (
            app.config.teams[app.config.services[incident.service].team]
            if incident.service in app.config.services
            else None
        )
        print(postmortem(summarize(store, incident, SYSTEM_CLOCK.now()), team.checklist if team else []))
    return 0


def add_incident_commands(sub: Any) -> None:
    group = sub.add_parser("incident", help="incidents in the store: list, show, export a postmortem draft")
    verbs = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = verbs.add_parser("list", help="incidents, newest first")
    listing.add_argument("--open", action="store_true", help="only those not resolved")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_list)
    show = verbs.add_parser("show", help="one incident and its timeline")
    show.add_argument("id")
    show.set_defaults(func=cmd_show)
    export = verbs.add_parser("export", help="a Markdown postmortem draft from the incident's timeline")
    export.add_argument("id")
    export.set_defaults(func=cmd_export)
