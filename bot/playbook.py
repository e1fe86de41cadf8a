"""The playbook model: one troubleshooting-guide entry as symptoms, probes, remediations and severity hints.

Loaded from YAML into strict models (unknown keys are errors). Probe and action parameters are validated
against the registry's models by `bot.playbooks_loader`, which also knows the file and line of each key.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from bot.params import Params
from bot.severity import Sev, Status
from bot.yamlfile import expected

SLUG = expected(r"^[a-z0-9]+(-[a-z0-9]+)*$", "lowercase words joined by dashes, such as high-latency")
Origin = Literal["guide", "invented"]
ID = expected(
    r"^[a-z0-9]+(-[a-z0-9]+)*/[a-z0-9]+(-[a-z0-9]+)*$", "<guide>/<slug>, such as ai-platform/high-latency"
)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """Where the playbook comes from: the guide's file stem and the entry's heading as written."""

    guide: str = Field(pattern=SLUG)
    section: str = Field(min_length=1)


class Signals(Strict):
    """What the matcher looks for besides the symptoms: phrases, error-string regexes, alert names."""

    phrases: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list, description="case-insensitive regular expressions")
    alerts: list[str] = Field(default_factory=list)

    @field_validator("patterns")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"invalid regular expression {pattern!r}: {err}") from None
        return patterns


class ManualStep(Strict):
    """A step a person does by hand: the guide's command with the service's values filled in."""

    manual: str = Field(min_length=1, description="what the step is for")
    command: str | None = None
    note: str | None = None


class ProbeStep(Strict):
    """A read-only probe from the registry with its parameters and thresholds."""

    probe: str
    id: str | None = Field(
        None,
        pattern=expected(r"^[a-z0-9_.-]+$", "lowercase letters, digits, '_', '.' and '-'"),
        description="defaults to the probe name",
    )
    title: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    origin: Origin = Field(
        "guide",
        description="invented: the query or thresholds are ours, not the guide's (shown wherever it is)",
    )
    _typed: Params | None = None

    @property
    def key(self) -> str:
        """The step's id within its playbook (used by severity hints and remediation conditions)."""
        return self.id or self.probe

    @property
    def typed_params(self) -> Params:
        """The parameters validated against the probe's model (set by the loader)."""
        assert self._typed is not None, "params are validated by bot.playbooks_loader"
        return self._typed


class Condition(Strict):
    """Findings that make a hint fire or a fix fit: of one diagnostics step (by id) or of any, with one of
    these statuses and, if `facts` are named, showing one of them; and no finding of the run shows an
    `unless` fact (e.g. a restart does not fix a crash loop: `unless: [crash-loop]`)."""

    probe: str | None = None
    status: list[Literal[Status.WARN, Status.CRITICAL]] | None = Field(
        None, min_length=1, description="critical by default; warn or critical when facts are named"
    )
    facts: list[str] = Field(default_factory=list, description="what a finding shows, e.g. oom-killed")
    unless: list[str] = Field(default_factory=list, description="facts that rule the condition out")

    @field_validator("status", mode="before")
    @classmethod
    def _no_unknowns(cls, value: Any) -> Any:
        # A check that could not run proves nothing: it may neither raise the SEV nor justify a fix.
        if isinstance(value, list) and Status.ERROR.value in value:
            raise ValueError(
                "'error' means the check could not run, which proves nothing: use warn or critical"
            )
        return value

    @property
    def statuses(self) -> list[Status]:
        if self.status:
            return list(self.status)
        return [Status.WARN, Status.CRITICAL] if self.facts else [Status.CRITICAL]


class ActionUndo(Strict):
    """The way back from a fix (e.g. LOG_LEVEL back to its previous value): offered once the fix has run."""

    action: str
    title: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    _typed: Params | None = None

    @property
    def typed_params(self) -> Params:
        assert self._typed is not None, "params are validated by bot.playbooks_loader"
        return self._typed


class ActionStep(Strict):
    """A guide fix that maps to a registered action: offered as a button that needs a second person's approval."""

    action: str
    title: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    when: Condition | list[Condition] | None = Field(
        None, description="offer only when these findings occur (all of a list); lint requires it"
    )
    undo: ActionUndo | None = Field(None, description="the way back, for a fix meant to be temporary")
    _typed: Params | None = None
    _source: tuple[str, int] | None = None  # (playbook id, index among its actions), set by the loader

    @property
    def typed_params(self) -> Params:
        """The parameters validated against the action's model (set by the loader)."""
        assert self._typed is not None, "params are validated by bot.playbooks_loader"
        return self._typed

    @property
    def conditions(self) -> list[Condition]:
        """What must all hold for the fix to be offered."""
        if self.when is None:
            return []
        return self.when if isinstance(self.when, list) else [self.when]

    @property
    def source(self) -> tuple[str, int]:
        """The playbook the fix was written in and its index among that playbook's actions (what a button
        stands for, also when the fix comes from the triage run beside the matched playbook)."""
        assert self._source is not None, "set by bot.playbooks_loader"
        return self._source


def _step_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for kind in ("probe", "action", "manual"):
            if kind in value:
                return kind
    elif isinstance(value, BaseModel):
        return {ProbeStep: "probe", ActionStep: "action", ManualStep: "manual"}.get(type(value))
    return None


# Tags appear in validation error locations; the loader drops them from key paths.
STEP_TAGS = frozenset({"probe", "action", "manual"})
Diagnostic = Annotated[
    Annotated[ProbeStep, Tag("probe")] | Annotated[ManualStep, Tag("manual")],
    Discriminator(
        _step_kind,
        custom_error_type="invalid_step",
        custom_error_message="a step needs one of the keys 'probe' or 'manual'",
    ),
]
Remediation = Annotated[
    Annotated[ActionStep, Tag("action")] | Annotated[ManualStep, Tag("manual")],
    Discriminator(
        _step_kind,
        custom_error_type="invalid_step",
        custom_error_message="a step needs one of the keys 'action' or 'manual'",
    ),
]


class SeverityHint(Strict):
    """Findings that make the incident at least this severe, and why (shown to the incident commander)."""

    sev: Sev
    when: Condition
    why: str = Field(min_length=1)


class Severity(Strict):
    """The playbook's default severity and the findings that raise it."""

    default: Sev
    hints: list[SeverityHint] = Field(default_factory=list)


class Playbook(Strict):
    """One guide entry as a runnable playbook, or a guide's triage: its general checks, run with every incident."""

    id: str = Field(pattern=ID, description="<guide>/<slug>, the file's path under playbooks/")
    kind: Literal["issue", "triage"] = Field(
        "issue", description="triage: <guide>/triage, never matched, run beside the matched playbook"
    )
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    source: Source
    symptoms: list[str] = Field(min_length=1)
    signals: Signals = Field(default_factory=Signals)
    diagnostics: list[Diagnostic] = Field(min_length=1)
    remediations: list[Remediation] = Field(default_factory=list)
    severity: Severity
    escalation: list[str] = Field(default_factory=list, description="the guide's escalation notes")

    _triage_steps: frozenset[str] = frozenset()  # in a combined run (bot.triage): the triage's step keys

    @property
    def guide(self) -> str:
        return self.source.guide

    @property
    def is_triage(self) -> bool:
        return self.kind == "triage"

    def from_triage(self, step: ProbeStep) -> bool:
        """Whether a step of this run comes from the guide's triage (the checks every incident gets)."""
        return self.is_triage or step.key in self._triage_steps

    @property
    def probes(self) -> list[ProbeStep]:
        return [step for step in self.diagnostics if isinstance(step, ProbeStep)]

    @property
    def actions(self) -> list[ActionStep]:
        return [step for step in self.remediations if isinstance(step, ActionStep)]

    @property
    def manual_steps(self) -> list[ManualStep]:
        return [s for s in [*self.diagnostics, *self.remediations] if isinstance(s, ManualStep)]
