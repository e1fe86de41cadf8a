"""The triage pass: each guide's general checks (`playbooks/<guide>/triage.yaml`: recent rollouts and revisions,
pods not ready, warning events, endpoints without ready addresses, the health URL) run with every incident,
beside the matched playbook, or alone when the matcher abstains, so no thread is ever empty.

Both run as one: the matched playbook's checks, then the triage's that are not already among them (the same
probe with the same parameters runs once), in one concurrent run with one checklist and one verdict. The
triage's fixes and SEV hints join the matched playbook's, their conditions pointing at the steps that run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from bot.playbook import ActionStep, Condition, ManualStep, Playbook, ProbeStep, SeverityHint
from bot.templating import render

PREFIX = "triage."  # a triage step's key in a combined run, so it never collides with the playbook's


def plan(matched: Playbook | None, triage: Playbook | None, values: Mapping[str, str | None]) -> Playbook:
    """What an incident's run checks: the matched playbook with its guide's triage beside it (or either alone)."""
    if matched is None or triage is None or matched.is_triage:
        chosen = matched or triage
        assert chosen is not None, "a run needs a matched playbook or a triage"
        return chosen
    taken = {_identity(step, values): step.key for step in matched.probes}
    keys: dict[str, str] = {}  # triage step key -> the key of the step that runs it
    extra: list[ProbeStep] = []
    for step in triage.probes:
        same = taken.get(_identity(step, values))
        keys[step.key] = same or PREFIX + step.key
        if same is None:
            extra.append(step.model_copy(update={"id": keys[step.key]}))
    # The triage's commands to copy come last, after everything of the matched playbook.
    manual = [s for s in triage.diagnostics if isinstance(s, ManualStep) and s not in matched.diagnostics]
    hints = [_hint(h, keys) for h in triage.severity.hints]
    offered = {_fix_identity(f) for f in matched.actions}  # the playbook's own button for the same fix wins
    fixes = [_fix(f, keys) for f in triage.actions if _fix_identity(f) not in offered]
    combined = matched.model_copy(
        update={
            "diagnostics": [*matched.diagnostics, *extra],
            "remediations": [*matched.remediations, *fixes, *manual],
            "severity": matched.severity.model_copy(update={"hints": [*matched.severity.hints, *hints]}),
            "escalation": list(dict.fromkeys([*matched.escalation, *triage.escalation])),
        }
    )
    combined._triage_steps = frozenset(step.key for step in extra)
    return combined


def _identity(step: ProbeStep, values: Mapping[str, str | None]) -> tuple[str, str]:
    """A check as the cluster sees it: the probe and its parameters with the service's values filled in."""
    params = json.dumps(step.typed_params.model_dump(mode="json"), sort_keys=True)
    return step.probe, render(params, values)


def _fix_identity(fix: ActionStep) -> tuple[str, str]:
    return fix.action, json.dumps(fix.typed_params.model_dump(mode="json"), sort_keys=True)


def _condition(condition: Condition, keys: Mapping[str, str]) -> Condition:
    if condition.probe is None:
        return condition
    return condition.model_copy(update={"probe": keys.get(condition.probe, condition.probe)})


def _hint(hint: SeverityHint, keys: Mapping[str, str]) -> SeverityHint:
    return hint.model_copy(update={"when": _condition(hint.when, keys)})


def _fix(fix: ActionStep, keys: Mapping[str, str]) -> ActionStep:
    when = fix.when
    if isinstance(when, list):
        when = [_condition(c, keys) for c in when]
    elif when is not None:
        when = _condition(when, keys)
    return fix.model_copy(update={"when": when})
