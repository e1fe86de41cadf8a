"""Draft playbooks (plain dicts in the playbook format) from a guide's entries and its general sections.

Each guide step becomes a probe, an action or a manual step (bot.importer.classify); every step leaves a
record of what it became and why, for the report. A probe that only approximates a command (DNS from the
bot rather than from the pod) keeps the command as a manual step beside it.
"""

from __future__ import annotations

from typing import Any

from bot.importer.alert_rules import AlertRule
from bot.importer.classify import classify
from bot.importer.guide import Entry, General, Part, Step, steps_of
from bot.importer.outcome import Draft, Mapped, Outcome
from bot.importer.placeholders import Context, escape_braces, templatize
from bot.importer.signals import signals
from bot.importer.suggest import suggestions
from bot.importer.suggest_actions import default_when
from bot.importer.text import slug


class _Builder:
    def __init__(self, guide: str, name: str, ctx: Context) -> None:
        self.guide, self.name, self.ctx = guide, name, ctx
        self.diagnostics: list[dict[str, Any]] = []
        self.remediations: list[dict[str, Any]] = []
        self.outcomes: list[Outcome] = []
        self.warnings: list[str] = []
        self.covered: set[int] = set()  # lines of steps whose command became an action

    def step(self, step: Step) -> None:
        in_solutions = step.part is Part.SOLUTIONS
        title = f"{step.group}: {step.title}" if step.group and step.group not in step.title else step.title
        if step.command is None:
            self._manual(in_solutions, title, None, step.note)
            self.outcomes.append(
                Outcome(step.part, title, None, step.line, ["manual"], "a sentence, no command")
            )
            return
        mapped = classify(step.command, step.lang, in_solutions, self.ctx)
        became, whys = [], []
        for m in mapped:
            became.append(self._place(m, title, step, in_solutions))
            whys.append(m.why)
            if m.warning:
                self.warnings.append(f"line {step.line}: {m.warning}")
        warning = "; ".join(m.warning for m in mapped if m.warning) or None
        self.outcomes.append(
            Outcome(step.part, title, step.command, step.line, became, "; ".join(whys), warning)
        )

    def _place(self, m: Mapped, title: str, step: Step, in_solutions: bool) -> str:
        if m.kind == "probe":
            assert m.name is not None
            self.add_probe(m.name, title, m.params, "invented" if m.approximate else "guide")
            if m.approximate:
                self._manual(in_solutions, title, step.command, None)
                return f"probe {m.name} + manual"
            return f"probe {m.name}"
        if m.kind == "action":
            assert m.name is not None
            action: dict[str, Any] = {"action": m.name, "title": title}
            if m.params:
                action["params"] = m.params
            action["when"] = default_when(m.name)
            self.remediations.append(action)
            self.covered.add(step.line)
            return f"action {m.name}"
        self._manual(in_solutions, title, step.command, step.note)
        return "manual"

    def add_probe(self, name: str, title: str, params: dict[str, Any], origin: str = "invented") -> bool:
        """Add a probe step unless the same probe with the same parameters is there; True if added.

        A metric query says whether it is the guide's (its own query or metric) or the importer's guess."""
        if any(d.get("probe") == name and d.get("params", {}) == params for d in self.diagnostics):
            return False
        step: dict[str, Any] = {"probe": name, "title": title}
        if name == "prometheus.query":
            step["origin"] = origin
        if params:
            step["params"] = params
        if any(d.get("probe") == name for d in self.diagnostics):
            taken = {d.get("id", d.get("probe")) for d in self.diagnostics}
            base = slug(title, 40)
            step_id = next(
                f"{base}-{n}" if n else base for n in range(99) if (f"{base}-{n}" if n else base) not in taken
            )
            step = {"probe": name, "id": step_id, **{k: v for k, v in step.items() if k != "probe"}}
        self.diagnostics.append(step)
        return True

    def _manual(self, in_solutions: bool, title: str, command: str | None, note: str | None) -> None:
        step: dict[str, Any] = {"manual": title}
        if command:
            text, why = escape_braces(templatize(command, self.ctx))
            if text is not None:
                step["command"] = text
            if why:
                note = f"{note}; {why}" if note else why[0].upper() + why[1:] + "."
                if text is None:
                    self.warnings.append(f"{title}: command {why}")
        if note:
            step["note"] = note
        (self.remediations if in_solutions else self.diagnostics).append(step)

    def severity(self) -> dict[str, Any]:
        keys = {d.get("id", d.get("probe")): d for d in self.diagnostics if "probe" in d}
        hints = []
        for key, step in keys.items():
            if step["probe"] == "k8s.endpoints":
                hints.append({"sev": "SEV-1", "when": {"probe": key, "status": ["critical"]},
                              "why": "No ready endpoints: nothing serves the service."})  # fmt: skip
            elif step["probe"] == "k8s.pods":
                hints.append({"sev": "SEV-1", "when": {"probe": key, "facts": ["none-ready", "no-pods"]},
                              "why": "No pod of the service is ready: nothing serves it."})  # fmt: skip
                hints.append({"sev": "SEV-2", "when": {"probe": key, "facts": ["crash-loop", "oom-killed"]},
                              "why": "Pods are crash-looping: major functionality is broken."})  # fmt: skip
            elif step["probe"] == "http.check" and "url" not in step.get("params", {}):
                hints.append({"sev": "SEV-2", "when": {"probe": key, "status": ["critical"]},
                              "why": "The health endpoint fails or is too slow."})  # fmt: skip
        return {"default": "SEV-3", **({"hints": hints} if hints else {})}


def draft_entry(
    entry: Entry, guide: str, ctx: Context, escalation: list[str], alerts: list[AlertRule] | None = None
) -> Draft:
    """One playbook for one issue entry (`alerts`: the guide's alerting rules)."""
    builder = _Builder(guide, entry.heading, ctx)
    for step in sorted(entry.steps, key=lambda s: s.part is Part.SOLUTIONS):
        builder.step(step)
    builder.outcomes += suggestions(entry, builder, ctx, alerts or [])
    if entry.prevention:
        builder.remediations.append({"manual": "Prevention", "note": "; ".join(entry.prevention) + "."})
    if not builder.diagnostics:
        builder.diagnostics.append(
            {"manual": "Confirm the symptom", "note": "The guide gives no diagnosis steps for this issue."}
        )
    symptoms = entry.symptoms or [entry.heading]
    data: dict[str, Any] = {
        "id": f"{guide}/{slug(entry.heading)}",
        "title": entry.heading,
        "summary": _summary(symptoms, entry.causes),
        "source": {"guide": guide, "section": entry.heading},
        "symptoms": symptoms,
        "signals": signals(entry),
        "diagnostics": builder.diagnostics,
        "remediations": builder.remediations,
        "severity": builder.severity(),
        "escalation": escalation,
    }
    return Draft(data["id"], entry.heading, entry.line, _compact(data), builder.outcomes, builder.warnings)


def draft_triage(sections: list[General], guide: str, ctx: Context, escalation: list[str]) -> Draft | None:
    """The guide's first-look checks (quick diagnosis, health checks, recent changes) as `<guide>/triage`."""
    diagnostic = [s for s in sections if s.kind == "diagnostic"]
    emergency = [s for s in sections if s.kind == "emergency"]
    if not diagnostic:
        return None
    builder = _Builder(guide, "triage", ctx)
    for section in diagnostic:
        for step in steps_of(section, Part.DIAGNOSIS):
            builder.step(step)
    for section in emergency:
        for step in steps_of(section, Part.SOLUTIONS):
            builder.step(step)
    headings = [s.heading for s in diagnostic if s.section.blocks]
    names = "; ".join(headings) or diagnostic[0].heading
    data: dict[str, Any] = {
        "id": f"{guide}/triage",
        "kind": "triage",  # never matched: it runs beside the matched playbook, or alone when none fits
        "title": f"{guide}: first checks",
        "summary": f"The guide's general checks ({names}), run with every incident.",
        "source": {"guide": guide, "section": names},
        "symptoms": [f"Something is wrong with {guide} and it is not clear what"],
        "diagnostics": builder.diagnostics or [{"manual": "Look at the guide's general sections"}],
        "remediations": builder.remediations,
        "severity": builder.severity(),
        "escalation": escalation,
    }
    line = diagnostic[0].line
    return Draft(data["id"], names, line, _compact(data), builder.outcomes, builder.warnings)


def _summary(symptoms: list[str], causes: list[str]) -> str:
    text = "; ".join(s.rstrip(".") for s in symptoms)
    text = (text[:197] + "...") if len(text) > 200 else text + "."
    return f"{text} Possible causes: {'; '.join(causes)}." if causes else text


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional keys so the file shows only what the guide gave."""
    return {k: v for k, v in data.items() if v not in ([], {}, None)}
