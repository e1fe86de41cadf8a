"""Forms of what the engine produces for other readers: JSON (the CLI's --json) and the evidence file that
follows a run into the incident thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.findings import STATUS_ORDER, Diagnosis, Finding
from bot.playbook import Playbook
from bot.templating import render


def finding_json(finding: Finding, labels: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        **(labels or {}),
        "step": finding.step,
        "probe": finding.probe,
        "title": finding.title,
        "status": finding.status.value,
        "summary": finding.summary,
        "evidence": finding.evidence,
        "data": finding.data,
        "faults": [f.as_data() for f in finding.faults],
        "duration_ms": round(finding.duration_ms, 1),
    }


def diagnosis_json(
    query: str, service: str, diagnosis: Diagnosis, values: Mapping[str, str | None]
) -> dict[str, Any]:
    playbook = diagnosis.playbook
    return {
        "query": query,
        "service": service,
        "playbook": {"id": playbook.id, "title": playbook.title, "guide": playbook.guide},
        "verdict": diagnosis.verdict,
        "changes": diagnosis.changes.text if diagnosis.changes else None,
        "worst": diagnosis.worst.value,
        "suggested_sev": diagnosis.suggested_sev.value if diagnosis.suggested_sev else None,
        "sev_reasons": diagnosis.sev_reasons,
        "findings": [finding_json(f, _labels(playbook, f.step)) for f in diagnosis.findings],
        "remediations": [
            {
                "action": a.action,
                "title": a.title,
                "params": a.typed_params.model_dump(),
                "needs_approval": True,
                "undo": {"action": a.undo.action, "title": a.undo.title} if a.undo else None,
            }
            for a in diagnosis.remediations
        ],
        "manual_steps": [
            {
                "title": m.manual,
                "command": render(m.command, values) if m.command else None,
                "note": render(m.note, values) if m.note else None,
            }
            for m in playbook.manual_steps
        ],
        "escalation": [render(e, values) for e in playbook.escalation],
        "duration_ms": round(diagnosis.duration_ms, 1),
    }


def _labels(playbook: Playbook, step_key: str) -> dict[str, Any]:
    """Where a finding's check comes from: the guide's triage or the playbook, the guide or us."""
    step = next((s for s in playbook.probes if s.key == step_key), None)
    return {
        "triage": bool(step and playbook.from_triage(step)),
        "origin": step.origin if step else "guide",
    }


def evidence_text(incident_id: str, service: str, diagnosis: Diagnosis) -> str:
    """Every check's evidence in full, worst first: what the thread's one-line summaries stand on.
    Empty when no check brought any (nothing to attach)."""
    findings = sorted(
        (f for f in diagnosis.findings if f.evidence.strip()), key=lambda f: STATUS_ORDER.index(f.status)
    )
    if not findings:
        return ""
    lines = [f"{incident_id} {service}: {diagnosis.playbook.title}", diagnosis.verdict]
    lines += [diagnosis.changes.text] if diagnosis.changes else []
    for finding in findings:
        label = _labels(diagnosis.playbook, finding.step)
        notes = (["triage"] if label["triage"] else []) + (
            ["invented check: our query and thresholds, not the guide's"]
            if label["origin"] == "invented"
            else []
        )
        lines += [
            "",
            f"== {finding.title} [{finding.status.value}] ({finding.duration_ms:.0f} ms)"
            + (f" ({'; '.join(notes)})" if notes else ""),
            finding.summary,
            "",
        ]
        lines += finding.evidence.rstrip().splitlines()
    return "\n".join(lines) + "\n"
