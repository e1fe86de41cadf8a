"""The triage pass: each guide's general checks run beside the matched playbook as one run (a check both have
runs once), or alone when nothing matched; their fixes and SEV hints point at the steps that run."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.faults import Rank, fault
from bot.findings import Finding, diagnose
from bot.playbook import ManualStep
from bot.playbooks_loader import Catalog
from bot.severity import Status
from bot.triage import PREFIX, plan

GUIDES = [
    "ai-platform",
    "convergence-data-pipeline",
    "imgstream",
    "microservices-platform",
    "tldr-highlight-api",
]


@pytest.fixture(scope="module")
def values(example_config: Config) -> dict[str, str | None]:
    return example_config.services["api-gateway"].variables("api-gateway")


@pytest.mark.parametrize("guide", GUIDES)
def test_every_guide_has_a_triage_that_is_never_matched(catalog: Catalog, guide: str) -> None:
    triage = catalog.triage(guide)
    assert triage is not None and triage.id == f"{guide}/triage" and triage.is_triage
    assert triage not in list(catalog), "matching ranks what iterating the catalogue gives"
    assert triage.probes, "it checks, not only lists commands"


def test_the_triage_runs_beside_the_matched_playbook_and_a_shared_check_runs_once(
    catalog: Catalog, values: dict[str, str | None]
) -> None:
    matched, triage = catalog.get("ai-platform/high-latency-or-timeouts"), catalog.triage("ai-platform")
    assert triage is not None
    run = plan(matched, triage, values)
    keys = [s.key for s in run.probes]
    assert keys[: len(matched.probes)] == [s.key for s in matched.probes], "the playbook's own checks first"
    assert "triage.usage" not in keys, "kubectl top pods is in both: it runs once, as the playbook's"
    assert {"triage.rollout", "triage.endpoints", "triage.pods", "triage.events"} <= set(keys)
    assert all(run.from_triage(s) == s.key.startswith(PREFIX) for s in run.probes)
    assert run.id == matched.id and run.severity.default == matched.severity.default


def test_the_triages_conditions_point_at_the_steps_that_run(
    catalog: Catalog, values: dict[str, str | None]
) -> None:
    triage = catalog.triage("ai-platform")
    assert triage is not None
    run = plan(catalog.get("ai-platform/5xx-errors"), triage, values)
    # 5xx-errors has k8s.rollout with the same parameters: the triage's "rollout" is that step.
    hints = {h.why: h.when.probe for h in run.severity.hints}
    assert hints["Nothing is serving the service; complete outage."] == "triage.endpoints"
    assert hints["Pods in the namespace are crash-looping; major functionality is broken."] == "dependencies"
    fixes = [(a.title, a.source) for a in run.actions]
    assert fixes == [("Roll back the recent deployment (breaking change)", ("ai-platform/5xx-errors", 0))], (
        "the triage's own rollback is the same fix: the playbook's button stands for it"
    )


def test_a_triage_fix_keeps_the_playbook_and_index_its_button_stands_for(
    catalog: Catalog, values: dict[str, str | None]
) -> None:
    triage = catalog.triage("ai-platform")
    assert triage is not None
    run = plan(catalog.get("ai-platform/high-latency-or-timeouts"), triage, values)
    crash = fault("Pods/api-gateway:CrashLoopBackOff", Rank.FAILING, Status.CRITICAL, "0/3", "crash-loop")
    recent = fault(
        "Deployment/api-gateway:revision-8", Rank.CHANGE, Status.WARN, "revision 8", "recent-rollout"
    )
    findings = [
        Finding("k8s.pods", "k8s.pods", "pods", Status.CRITICAL, "0/3", data={"faults": [crash]}),
        Finding("triage.rollout", "k8s.rollout", "rollout", Status.WARN, "r8", data={"faults": [recent]}),
    ]
    (fix,) = diagnose(run, findings, 10).remediations
    assert fix.source == ("ai-platform/triage", 0)
    assert catalog.get(fix.source[0]).actions[fix.source[1]].action == "k8s.rollout_undo"


def test_the_triages_commands_come_after_the_playbooks_own(
    catalog: Catalog, values: dict[str, str | None]
) -> None:
    triage, matched = (
        catalog.triage("convergence-data-pipeline"),
        catalog.get("convergence-data-pipeline/memory-leak"),
    )
    assert triage is not None
    manual = [s.manual for s in plan(matched, triage, values).manual_steps]
    assert manual[: len(matched.manual_steps)] == [s.manual for s in matched.manual_steps]
    assert manual[-3:] == ["Isolate the problem", "Recent config changes", "Recent code commits"]


def test_nothing_matched_runs_the_triage_alone(catalog: Catalog, values: dict[str, str | None]) -> None:
    triage = catalog.triage("ai-platform")
    assert triage is not None
    assert plan(None, triage, values) is triage
    matched = catalog.get("ai-platform/slow-queries")
    assert plan(matched, None, values) is matched


def test_escalation_notes_are_not_repeated(catalog: Catalog, values: dict[str, str | None]) -> None:
    triage = catalog.triage("convergence-data-pipeline")
    assert triage is not None
    run = plan(catalog.get("convergence-data-pipeline/memory-leak"), triage, values)
    assert len(run.escalation) == len(set(run.escalation)) == 5


@pytest.mark.parametrize("guide", GUIDES)
def test_a_triage_checks_recent_changes_readiness_and_the_health_url(catalog: Catalog, guide: str) -> None:
    triage = catalog.triage(guide)
    assert triage is not None
    probes = {s.probe for s in triage.probes}
    assert "http.check" in probes
    if guide != "tldr-highlight-api":  # docker-compose: no rollout history to read, only `docker-compose ps`
        assert probes & {"k8s.rollout", "cloud_run.revisions"}
    if guide in ("ai-platform", "microservices-platform", "convergence-data-pipeline"):
        assert {"k8s.pods", "k8s.endpoints", "k8s.events"} <= probes
    assert all(isinstance(s, ManualStep) or s.probe for s in triage.diagnostics)


def test_debug_logging_is_offered_for_errors_of_a_running_service_with_its_way_back(catalog: Catalog) -> None:
    triage = catalog.triage("microservices-platform")
    assert triage is not None
    errors = fault("Logs/app=auth-service:errors", Rank.SIGN, Status.WARN, "3 matching lines", "error-lines")
    logs = Finding("logs", "k8s.logs", "logs", Status.WARN, "3 matching lines", data={"faults": [errors]})
    (fix,) = diagnose(triage, [logs], 10).remediations
    assert (fix.action, fix.typed_params.model_dump()["env"]) == ("k8s.set_env", {"LOG_LEVEL": "DEBUG"})
    assert fix.undo is not None and fix.undo.action == "k8s.rollout_undo", (
        "LOG_LEVEL back to its previous value"
    )
    crash = fault("Pods/auth-service:CrashLoopBackOff", Rank.FAILING, Status.CRITICAL, "0/2", "crash-loop")
    pods = Finding("pods", "k8s.pods", "pods", Status.CRITICAL, "0/2", data={"faults": [crash]})
    assert "k8s.set_env" not in [a.action for a in diagnose(triage, [logs, pods], 10).remediations], (
        "a new rollout of crashing pods is no time for debug logs"
    )
