"""The arguments of `chatops playbooks import`; the importer itself loads only when the command runs (every other
command starts without it)."""

from __future__ import annotations

import argparse
from typing import Any


def add_import_command(playbooks: Any) -> None:
    """Add `import` to the `chatops playbooks` subcommands."""
    p = playbooks.add_parser("import", help="draft playbooks from a Markdown troubleshooting guide")
    p.add_argument("path", metavar="PATH.md", help="the guide")
    p.add_argument("--guide", required=True, help="the guide's name: playbook ids are <guide>/<slug>")
    p.add_argument("--out", help="folder for the playbooks (default: playbooks/<guide>/)")
    p.add_argument("--service", help="map this service's literal values to placeholders ({namespace}...)")
    p.add_argument("--dry-run", action="store_true", help="report and show diffs; write nothing")
    p.add_argument("--json", action="store_true", help="the report as JSON")
    p.set_defaults(func=_run)


def _run(app: Any, args: argparse.Namespace) -> int:
    from bot.importer.command import cmd_playbooks_import

    return cmd_playbooks_import(app, args)
