"""`chatops audit [--incident ID] [--json]`: the append-only audit log of fixes, read from the store."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.incidents import AuditEntry


def entry_line(entry: AuditEntry) -> str:
    detail = entry.detail
    changes = ((detail.get("preview") or {}).get("changes")) or []
    change = "; ".join(f"{c['what']}: {c['before']} -> {c['after']}" for c in changes)
    said = change or detail.get("note") or detail.get("why") or ""
    who = f" by {entry.actor}" if entry.actor else ""
    what = f" {detail['action']}" if detail.get("action") else ""
    return (
        f"{entry.at:%Y-%m-%d %H:%M:%S} UTC  {entry.incident_id}  request {entry.request_id}{what}  {entry.event}{who}"
        + (f"  {said}" if said else "")
    )


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {"seq": entry.seq, "at": entry.at.isoformat(), "incident": entry.incident_id,
            "request": entry.request_id, "event": entry.event, "actor": entry.actor, "detail": entry.detail}  # fmt: skip


def cmd_audit(app: Any, args: argparse.Namespace) -> int:
    from bot.store import open_store  # here: the commands that need no store start without its drivers

    with open_store(app.settings.store_url) as store:
        entries = store.audit(args.incident)
    if args.json:
        print(json.dumps([entry_json(e) for e in entries], indent=2))
    else:
        for entry in entries:
            print(entry_line(entry))
        print(f"{len(entries)} audit entries" + (f" for {args.incident}" if args.incident else ""))
    return 0


def add_audit_command(sub: Any) -> None:
    p = sub.add_parser(
        "audit", help="who asked for, approved or denied which fix, the exact change, and the outcome"
    )
    p.add_argument("--incident", help="only this incident (INC-YYYYMMDD-NNNN)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)
