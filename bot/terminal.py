"""Render playbooks and match results as terminal text (the CLI's counterpart of the Slack renderer)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.findings import Diagnosis, Finding
from bot.matcher import MatchResult
from bot.params import Params
from bot.playbook import ActionStep, Condition, ManualStep, Playbook, ProbeStep
from bot.templating import render


def params_preview(params: Params, values: Mapping[str, str | None]) -> str:
    """The parameters a probe or action will use, templates filled, defaults left out."""
    shown = params.model_dump(exclude_defaults=True)
    parts = [f"{k}={render(v, values) if isinstance(v, str) else v}" for k, v in shown.items()]
    return ", ".join(parts)


def playbook_text(playbook: Playbook, values: Mapping[str, str | None] | None = None) -> str:
    """A playbook as a person reads it; with a service's values, commands are ready to copy."""
    values = values or {}
    lines = [
        f"{playbook.title}  [{playbook.id}]",
        f"  {playbook.summary}",
        f'  Source: {playbook.guide}.md, "{playbook.source.section}"',
        f"  Severity: {playbook.severity.default} by default",
        "",
        "Symptoms:",
        *[f"  - {s}" for s in playbook.symptoms],
        "",
        "Diagnostics (read-only):",
    ]
    for step in playbook.diagnostics:
        lines += _step_lines(step, values)
    if playbook.remediations:
        lines += ["", "Remediations:"]
        for fix in playbook.remediations:
            lines += _step_lines(fix, values)
    if playbook.severity.hints:
        lines += ["", "Severity hints:"]
        for hint in playbook.severity.hints:
            lines.append(f"  - {hint.sev} when {condition_text(hint.when)}: {hint.why}")
    if playbook.escalation:
        lines += ["", "Escalation:", *[f"  - {render(e, values)}" for e in playbook.escalation]]
    return "\n".join(lines)


def condition_text(condition: Condition) -> str:
    """`k8s.pods is critical showing oom-killed, unless crash-loop`."""
    text = f"{condition.probe or 'any probe'} is {'/'.join(condition.statuses)}"
    text += f" showing {' or '.join(condition.facts)}" if condition.facts else ""
    return text + (f", unless {' or '.join(condition.unless)}" if condition.unless else "")


def _step_lines(step: ProbeStep | ActionStep | ManualStep, values: Mapping[str, str | None]) -> list[str]:
    if isinstance(step, ProbeStep):
        from bot.registry import PROBES  # here, not at the top: `chatops match` needs no probe's client

        title = step.title or PROBES[step.probe].summary
        preview = params_preview(step.typed_params, values)
        kind = (
            "probe, invented: our query and thresholds, not the guide's"
            if step.origin == "invented"
            else "probe"
        )
        return [f"  [{kind}]  {step.probe}: {title}" + (f"  ({preview})" if preview else "")]
    if isinstance(step, ActionStep):
        preview = params_preview(step.typed_params, values)
        condition = (
            f"  (offered when {' and '.join(condition_text(c) for c in step.conditions)})"
            if step.when
            else ""
        )
        lines = [
            f"  [action, needs approval]  {step.action}: {step.title}"
            + (f"  ({preview})" if preview else "")
            + condition
        ]
        if step.undo is not None:
            back = params_preview(step.undo.typed_params, values)
            lines.append(
                f"      way back: {step.undo.action}: {step.undo.title}" + (f"  ({back})" if back else "")
            )
        return lines
    lines = [f"  [manual]  {step.manual}"]
    if step.command:
        lines += [f"      $ {line}" for line in render(step.command, values).splitlines()]
    if step.note:
        lines.append(f"      {render(step.note, values)}")
    return lines


def match_text(result: MatchResult) -> str:
    """The ranking with reasons, or the abstention with the closest candidates."""
    scope = f" (service {result.service})" if result.service else ""
    if result.abstained:
        lines = [f'No confident match for "{result.query}"{scope}.']
        if result.not_incident:
            lines.append(f"It reads like {result.not_incident}, not an incident.")
        if result.matches:
            lines.append("Closest candidates:")
    else:
        lines = [f'Matches for "{result.query}"{scope}:']
    for rank, match in enumerate(result.matches, 1):
        lines.append(f"  {rank}. {match.playbook.title}  [{match.playbook.id}]  score {match.score:.1f}")
        if match.why:
            lines.append(f"     why: {'; '.join(match.why)}")
    return "\n".join(lines)


def registry_text(kind: str) -> str:
    """The registered probes or actions with their parameters and defaults."""
    from bot.registry import ACTIONS, PROBES  # as above

    specs = PROBES if kind == "probes" else ACTIONS
    lines = []
    for name, spec in specs.items():
        lines.append(f"{name}: {spec.summary}")
        for field_name, info in spec.params.model_fields.items():
            default = "required" if info.is_required() else repr(info.get_default(call_default_factory=True))
            lines.append(f"    {field_name} = {default}")
    return "\n".join(lines)


STATUS_MARK = {"ok": "ok  ", "warn": "WARN", "critical": "CRIT", "error": "ERR ", "skipped": "skip"}


def finding_line(finding: Finding, label: str = "") -> str:
    """One line per finding, as it arrives: status, probe step (and what kind of check), summary, time taken."""
    mark = STATUS_MARK[finding.status.value]
    summary = finding.summary
    if finding.status.value == "error" and not summary.startswith("could not"):
        summary = f"could not check: {summary}"
    return f"  [{mark}] {finding.title}{label}: {summary}  ({finding.duration_ms:.0f} ms)"


def step_label(playbook: Playbook, step_key: str) -> str:
    """` (triage)`, ` (invented query)`: what a checklist line says of where its check comes from."""
    step = next((s for s in playbook.probes if s.key == step_key), None)
    if step is None:
        return ""
    labels = ["triage"] if playbook.from_triage(step) and not playbook.is_triage else []
    labels += ["invented query"] if step.origin == "invented" else []
    return f" ({', '.join(labels)})" if labels else ""


def diagnosis_text(diagnosis: Diagnosis, values: Mapping[str, str | None]) -> str:
    """The verdict, what changed since the last run, suggested SEV, evidence, fixes that fit (they need
    approval), the manual steps and the guide's escalation notes."""
    sev = diagnosis.suggested_sev
    lines = [
        "",
        f"Verdict: {diagnosis.verdict}",
        *([diagnosis.changes.text] if diagnosis.changes else []),
        f"Suggested severity: {sev} ({diagnosis.sev_reason})"
        if sev
        else "Suggested severity: none (no problem confirmed)",
        f"Checks took {diagnosis.duration_ms / 1000:.1f} s.",
    ]
    evidence = [
        f for f in diagnosis.findings if f.evidence and f.status.value in ("warn", "critical", "error")
    ]
    if evidence:
        lines += ["", "Evidence:"]
        for finding in evidence:
            lines.append(f"  {finding.title}:")
            lines += [f"    {line}" for line in finding.evidence.splitlines()[:20]]
    if diagnosis.remediations:
        lines += ["", "Fixes that fit (each needs a second person's approval in Slack):"]
        for step in diagnosis.remediations:
            lines += _step_lines(step, values)
    manual = diagnosis.playbook.manual_steps
    if manual:
        lines += ["", "Manual steps:"]
        for manual_step in manual:
            lines += _step_lines(manual_step, values)
    if diagnosis.playbook.escalation:
        lines += [
            "",
            "Escalation (from the guide):",
            *[f"  - {render(e, values)}" for e in diagnosis.playbook.escalation],
        ]
    return "\n".join(lines)
