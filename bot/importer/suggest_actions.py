"""Actions a fix's sentence asks for ("Restart pod if stuck open", "Roll back"), and the probes they need.

Only a sentence that is its own step (no command of it became an action) asks, and only on the platform
the entry is about: "restart" is `kubectl rollout restart` for pods and a new revision on Cloud Run. A
rollback is offered when the rollout probe finds a recent change. Scaling by hand while an autoscaler
scales on CPU is overridden by it, so a CPU entry that scales also reads the autoscaler; an alert the entry
names is looked up in Alertmanager.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from bot.importer.guide import Entry, Part
from bot.importer.outcome import Outcome, suggested
from bot.importer.placeholders import Context
from bot.importer.platforms import CLOUD_RUN, KUBERNETES
from bot.importer.signals import signals


class Builder(Protocol):
    """What suggestions add to: the draft's steps, and the lines of steps whose command became an action."""

    diagnostics: list[dict[str, Any]]
    remediations: list[dict[str, Any]]
    covered: set[int]

    def add_probe(self, name: str, title: str, params: dict[str, Any]) -> bool: ...


# Sentences in the solutions that an action does, on the platform the service runs on.
_ACTIONS: list[tuple[str, str, str]] = [
    (r"\brestart", KUBERNETES, "k8s.rollout_restart"),
    (r"\brestart|redeploy", CLOUD_RUN, "cloud_run.redeploy"),
    (r"roll ?back|review recent deployments", KUBERNETES, "k8s.rollout_undo"),
    (r"roll ?back|review recent deployments", CLOUD_RUN, "cloud_run.traffic_rollback"),
]
OTHER_SYSTEM = re.compile(r"monitoring|prometheus|grafana|redis|postgres|database|worker")
_LOAD = re.compile(r"\bcpu\b|saturat|\bload\b|traffic spike")


def suggest_actions(
    entry: Entry, builder: Builder, ctx: Context, platforms: set[str], about: str
) -> list[Outcome]:
    """Add the actions the fixes' sentences ask for (and the probes they need); their outcomes."""
    outcomes = []
    offered = {r.get("action") for r in builder.remediations}
    if (
        "k8s.scale" in offered
        and _LOAD.search(about.lower())
        and builder.add_probe("k8s.hpa", "Autoscaler state", {})
    ):
        outcomes.append(
            suggested("probe k8s.hpa", "Autoscaler state", "scaling a CPU-bound service", entry.line)
        )
    alerts = signals(entry).get("alerts", [])
    if (
        alerts
        and ctx.has("alertmanager_url")
        and "alertmanager.alerts" not in {d.get("probe") for d in builder.diagnostics}
    ):
        builder.add_probe(
            "alertmanager.alerts", f"{alerts[0]} alert firing", {"matchers": {"alertname": alerts[0]}}
        )
        outcomes.append(suggested("probe alertmanager.alerts", f"{alerts[0]} alert", alerts[0], entry.line))
    for step in entry.steps:
        if step.part is not Part.SOLUTIONS or step.line in builder.covered:
            continue  # a step whose own command became an action needs no second one from its words
        sentence = f"{step.title} {step.note or ''}".lower()
        for words, platform, action in _ACTIONS:
            variable = "deployment" if platform == KUBERNETES else "cloud_run_service"
            if platform not in platforms or not ctx.has(variable) or action in offered:
                continue
            if not re.search(words, sentence) or OTHER_SYSTEM.search(sentence):
                continue  # "Restart monitoring stack": not the service the actions target
            fix: dict[str, Any] = {"action": action, "title": step.title, "when": default_when(action)}
            if action == "k8s.rollout_undo":  # offered when the rollout probe finds a recent change
                builder.add_probe("k8s.rollout", "Recent deployments", {})
                fix["when"] = [{"probe": _key(builder, "k8s.rollout"), "facts": ["recent-rollout"]},
                               *fix["when"][1:]]  # fmt: skip
            builder.remediations.append(fix)
            offered.add(action)
            outcomes.append(suggested(f"action {action}", step.title, step.title, step.line))
    return outcomes


# What a drafted fix waits for (lint requires a condition on the findings); a reviewer narrows it.
_FAILING = [
    "crash-loop",
    "oom-killed",
    "no-ready-endpoints",
    "rollout-failed",
    "unhealthy-status",
    "revision-failed",
]
_WHEN: dict[str, Any] = {
    "k8s.rollout_undo": [{"facts": ["recent-rollout"]}, {"facts": _FAILING}],
    "cloud_run.traffic_rollback": [{"facts": ["recent-revision"]}, {"facts": _FAILING}],
    "k8s.rollout_restart": {
        "facts": ["not-ready", "unhealthy-status"],
        "unless": ["crash-loop", "oom-killed"],
    },
    "cloud_run.redeploy": {"facts": ["not-serving", "unhealthy-status"]},
    "k8s.scale": {"facts": ["cpu-high", "over-threshold", "slow"]},
    "cloud_run.scale": {"facts": ["over-threshold", "slow", "error-entries"]},
    "k8s.set_resources": {"facts": ["memory-high", "cpu-high", "oom-killed"]},
    "cloud_run.update_resources": {"facts": ["memory-high", "cpu-high", "error-entries"]},
    "k8s.delete_pod": {"facts": ["not-ready", "crash-loop"]},
}


def default_when(action: str) -> Any:
    """The findings a drafted fix of this kind waits for; any warning or critical finding for the others."""
    return _WHEN.get(
        action, {"facts": ["error-lines", "error-entries", "unhealthy-status", "over-threshold"]}
    )


def _key(builder: Builder, probe: str) -> str:
    step = next(d for d in builder.diagnostics if d.get("probe") == probe)
    return str(step.get("id", probe))
