"""The import report: per entry what became which probe or action, what stayed manual and why; files and lint.

One structure (`report_json`) feeds both the terminal text and `--json`, so they never disagree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bot.errors import Problem
from bot.importer.run import Imported
from bot.importer.writer import Written


def report_json(
    result: Imported, written: list[Written], problems: list[Problem], dry_run: bool
) -> dict[str, Any]:
    entries = []
    for draft in result.drafts:
        steps = [
            {
                "part": o.part,
                "line": o.line,
                "title": o.title,
                "command": o.command,
                "became": o.became,
                "why": o.why,
                **({"warning": o.warning} if o.warning else {}),
            }
            for o in draft.outcomes
        ]
        entries.append(
            {
                "id": draft.id,
                "section": draft.section,
                "line": draft.line,
                "probes": [d["probe"] for d in draft.data["diagnostics"] if "probe" in d],
                "actions": [r["action"] for r in draft.data.get("remediations", []) if "action" in r],
                "manual": sum(
                    1
                    for d in [*draft.data["diagnostics"], *draft.data.get("remediations", [])]
                    if "manual" in d
                ),
                "steps": steps,
                "warnings": draft.warnings,
            }
        )
    return {
        "guide": result.guide,
        "service": result.ctx.service,
        "dry_run": dry_run,
        "entries": entries,
        "literals_kept": result.ctx.kept,
        "characters_dropped": result.source.repaired_characters,
        "mojibake_repaired": result.source.mojibake_fixed,
        "skipped_sections": result.skipped,
        "config_snippet": result.snippet,
        "config_snippet_problems": result.policy.problems,
        "config_snippet_defaults": result.policy.defaulted,
        "files": [
            {
                "path": str(w.path),
                "status": w.status,
                **({"draft": str(w.draft_path)} if w.draft_path else {}),
                **({"why": w.why} if w.why else {}),
                "diff": w.diff,
            }
            for w in written
        ],
        "lint": [str(p) for p in problems],
    }


def report_text(data: dict[str, Any], show_diff: bool = True) -> str:
    """The report as a person reads it in a terminal."""
    lines = [f"Imported {len(data['entries'])} playbooks from guide '{data['guide']}'"
             + (f" for service {data['service']}" if data["service"] else " (no --service: literals kept)")
             + (" [dry run: nothing written]" if data["dry_run"] else "")]  # fmt: skip
    if data["mojibake_repaired"]:
        lost = data["characters_dropped"]
        lines.append(
            "  Repaired mis-encoded UTF-8"
            + (f"; {lost} character(s) could not be saved and were dropped" if lost else "")
        )
    totals: Counter[str] = Counter()
    for entry in data["entries"]:
        lines += ["", f'{entry["id"]}  ("{entry["section"]}", line {entry["line"]})']
        lines.append(
            f"  probes: {', '.join(entry['probes']) or '-'}; actions: {', '.join(entry['actions']) or '-'}; "
            f"manual steps: {entry['manual']}"
        )
        for step in entry["steps"]:
            became = " + ".join(step["became"])
            totals.update(b.split()[0] for b in step["became"])
            what = (step["command"] or "").splitlines()[0][:70] if step["command"] else step["title"][:70]
            lines.append(f"    {step['part'][:5]:<5} line {step['line']:<4} {became:<28} {what}")
            if "manual" in became or step.get("warning"):
                lines.append(f"          why: {step['why']}")
        lines += [f"  ! {w}" for w in entry["warnings"]]
    lines += ["", f"Steps: {totals['probe']} probe, {totals['action']} action, {totals['manual']} manual"]
    if data["literals_kept"]:
        lines += [
            "Literals kept as written (not the service's values):",
            *[f"  - {k}" for k in data["literals_kept"]],
        ]
    if data["skipped_sections"]:
        lines += ["General sections not imported:", *[f"  - {s}" for s in data["skipped_sections"]]]
    if data["config_snippet_defaults"]:
        lines.append(
            f"Config snippet: {', '.join(data['config_snippet_defaults'])} not in the guide's table, defaults kept"
        )
    if data["config_snippet_problems"]:
        lines += ["Config snippet problems:", *[f"  - {p}" for p in data["config_snippet_problems"]]]
    lines.append("")
    for file in data["files"]:
        extra = f" -> new draft {file['draft']} ({file['why']})" if file.get("draft") else ""
        lines.append(f"{file['status']:<9} {file['path']}{extra}")
        if show_diff and file["diff"] and file["status"] != "created":
            lines.append(file["diff"].rstrip("\n"))
    lint = data["lint"]
    lines.append(f"lint: {'clean' if not lint else f'{len(lint)} problems'}")
    lines += [f"  {p}" for p in lint]
    return "\n".join(lines)
