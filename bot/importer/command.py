"""`chatops playbooks import PATH.md --guide NAME`: what the subcommand runs.

Drafts are written to `--out` (default `playbooks/NAME/`), then linted in a scratch copy before anything is
written, so `--dry-run` reports the same lint result without touching the folder.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from bot.errors import ChatOpsError, UnknownNameError
from bot.importer.placeholders import Context
from bot.importer.report import report_json, report_text
from bot.importer.run import Imported, import_guide
from bot.importer.writer import apply, plan, render, to_yaml
from bot.playbooks_loader import lint

SNIPPET = "config-snippet.yaml.sample"  # not *.yaml: lint and the loader read every *.yaml as a playbook


def cmd_playbooks_import(app: Any, args: argparse.Namespace) -> int:
    path = Path(args.path)
    if not path.is_file():
        raise ChatOpsError(f"no such guide: {path}")
    ctx, team = Context(), None
    if args.service:
        try:
            name, service = app.config.service(args.service)
        except UnknownNameError as error:  # a new team's guide comes before its service is in the config
            raise ChatOpsError(f"{error} (add it to the config first, or import without --service)") from None
        namespace = service.kubernetes.namespace if service.kubernetes else None
        ctx, team = Context(name, service.variables(name), namespace), service.team
    result = import_guide(path.read_text(encoding="utf-8"), args.guide, ctx, team)
    out = Path(args.out) if args.out else Path("playbooks") / args.guide
    texts = files_of(result, path, args)
    written = [plan(out / name, text) for name, text in texts.items()]
    problems = _lint_scratch(texts, args.guide)
    if not args.dry_run:
        for item in written:
            apply(item, texts[item.path.name])
    data = report_json(result, written, problems, args.dry_run)
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else report_text(data))
    return 1 if problems else 0


def files_of(result: Imported, path: Path, args: argparse.Namespace) -> dict[str, str]:
    """File name -> full text (header, hash, body) for every draft and the config snippet."""
    command = f"chatops playbooks import {path.name} --guide {args.guide}"
    command += f" --service {args.service}" if args.service else ""
    texts = {}
    for draft in result.drafts:
        header = [
            f'Drafted by `{command}` from "{draft.section}" (line {draft.line}).',
            "Review it, then edit freely: a re-import leaves an edited file alone and writes <file>.new beside it.",
        ]
        texts[f"{draft.id.split('/', 1)[1]}.yaml"] = render(draft.data, header)
    if result.snippet is not None:
        header = [
            f"Config drafted by `{command}` from the guide's severity table and escalation path.",
            "Not a playbook: review it and merge it into chatops.yaml (replace REPLACE_WITH_SLACK_ID).",
            *([f"Not in the guide's severity table, so the defaults: {', '.join(result.policy.defaulted)}."]
              if result.policy.defaulted else []),
        ]  # fmt: skip
        texts[SNIPPET] = "\n".join(f"# {h}" for h in header) + "\n" + to_yaml(result.snippet)
    return texts


def _lint_scratch(texts: dict[str, str], guide: str) -> list[Any]:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / guide
        folder.mkdir()
        for name, text in texts.items():
            (folder / name).write_text(text, encoding="utf-8")
        _, problems = lint([folder])
    return problems
