"""The verdict a person can trust: the most decisive faults lead, unknowns are said as such and never raise the
SEV, a healthy run suggests nothing, and fixes follow from the facts the findings show."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from builders import playbook

from bot.faults import Rank, fault, points_at_change
from bot.findings import Finding, diagnose, join_reasons
from bot.playbook import Playbook
from bot.playbooks_loader import Catalog
from bot.severity import Sev, Status

NOT_SERVING = "nothing is serving api-gateway: 0 of 3 endpoints ready"
CRASH_LOOP = "0/3 pods ready: 3 CrashLoopBackOff; last exit OOMKilled (137)"
MEMORY = "memory 99% of limit on api-gateway-7d9f6b8c5-abc12 (508Mi of 512Mi)"
ROLLOUT = "revision 8 rolled out 20 min ago: ghcr.io/acme/api-gateway 1.8.2 -> 1.9.0"


def finding(
    step: str, probe: str, status: Status, summary: str = "", *faults: dict[str, Any], **data: Any
) -> Finding:
    return Finding(step, probe, step, status, summary or step, data={**data, "faults": list(faults)})


def usage() -> Finding:
    summary = f"{MEMORY}; CPU 41% of limit"
    return finding("k8s.resource_usage", "k8s.resource_usage", Status.CRITICAL, summary,
                   fault("Usage/api-gateway:memory", Rank.SATURATED, Status.CRITICAL, MEMORY, "memory-high"))  # fmt: skip


def pods() -> Finding:
    return finding("k8s.pods", "k8s.pods", Status.CRITICAL, CRASH_LOOP,
                   fault("Pods/api-gateway:CrashLoopBackOff", Rank.FAILING, Status.CRITICAL, CRASH_LOOP,
                         "crash-loop", "oom-killed", "not-ready"), scope="service", total=3)  # fmt: skip


def endpoints() -> Finding:
    return finding("k8s.endpoints", "k8s.endpoints", Status.CRITICAL, NOT_SERVING,
                   fault("Service/api-gateway:no-ready-endpoints", Rank.NOT_SERVING, Status.CRITICAL, NOT_SERVING,
                         "no-ready-endpoints"))  # fmt: skip


def rollout(recent: bool = True, desired: int = 3) -> Finding:
    if not recent:
        return finding("k8s.rollout", "k8s.rollout", Status.OK, "3/3 available; revision 7 rolled out 6 d ago",
                       desired=desired, last_change="revision 7 rolled out 6 d ago")  # fmt: skip
    return finding("k8s.rollout", "k8s.rollout", Status.CRITICAL, f"0/3 available; {ROLLOUT}",
                   fault("Deployment/api-gateway:revision-8", Rank.CHANGE, Status.CRITICAL, ROLLOUT,
                         "recent-rollout", "unavailable"), desired=desired)  # fmt: skip


def unreachable(step: str = "health", probe: str = "http.check") -> Finding:
    return finding(step, probe, Status.ERROR, "could not reach https://api.your-domain.com/health from the bot: "
                   "the host name does not resolve")  # fmt: skip


@pytest.fixture
def book(tmp_path: Path) -> Playbook:
    steps = [{"probe": p} for p in ("k8s.resource_usage", "k8s.pods", "k8s.endpoints", "k8s.rollout")]
    steps += [{"probe": "http.check", "id": "health"}]
    return playbook(
        tmp_path,
        steps,
        severity={"default": "SEV-3", "hints": [
            {"sev": "SEV-1", "when": {"probe": "k8s.endpoints", "facts": ["no-ready-endpoints"]}, "why": "Nothing is serving; complete outage."},
            {"sev": "SEV-1", "when": {"probe": "health"}, "why": "The health URL fails."},
        ]},
        remediations=[
            {"action": "k8s.rollout_undo", "title": "Roll back",
             "when": [{"probe": "k8s.rollout", "facts": ["recent-rollout"]}, {"facts": ["crash-loop", "no-ready-endpoints"]}]},
            {"action": "k8s.scale", "title": "Scale to 3", "params": {"replicas": 3},
             "when": {"probe": "k8s.resource_usage", "facts": ["cpu-high", "memory-high"]}},
            {"action": "k8s.rollout_restart", "title": "Restart", "when": {"probe": "k8s.pods", "facts": ["not-ready"], "unless": ["crash-loop"]}},
        ],
    )  # fmt: skip


# --- what the verdict leads with ---------------------------------------------------------------


def test_the_most_decisive_faults_lead_and_an_unremarkable_value_is_never_named(book: Playbook) -> None:
    # In playbook order the memory finding comes first; the verdict ranks: not serving > crash loop > saturation.
    verdict = diagnose(book, [usage(), pods(), endpoints(), unreachable()], 40).verdict
    assert verdict == f"Problem confirmed: {NOT_SERVING}; {CRASH_LOOP}; {MEMORY} (3 critical, 1 error)"
    assert "CPU 41%" not in verdict and "resolve" not in verdict, "nor what could not be checked"


def test_a_report_that_names_a_deploy_gets_the_recent_change_named(book: Playbook) -> None:
    findings = [usage(), pods(), endpoints(), rollout()]
    plain = diagnose(book, findings, 40)
    assert ROLLOUT not in plain.verdict, "three more decisive faults lead"
    weighed = replace(plain, symptom="504s since the deploy")
    assert weighed.verdict.startswith(f"Problem confirmed: {NOT_SERVING}; {CRASH_LOOP}; since {ROLLOUT}")


def test_a_report_that_names_a_deploy_hears_when_there_was_none(book: Playbook) -> None:
    told = replace(diagnose(book, [pods(), rollout(recent=False)], 40), symptom="errors after the release")
    assert f"{CRASH_LOOP}; no recent change (the last: revision 7 rolled out 6 d ago)" in told.verdict


def test_a_report_that_names_a_deploy_hears_when_the_last_change_was_the_bots_rollback(
    book: Playbook,
) -> None:
    rolled_back = "revision 9 rolled out 16 min ago: ghcr.io/acme/api-gateway 1.9.0 -> 1.8.2"
    ours = finding("k8s.rollout", "k8s.rollout", Status.OK, f"3/3 available; {rolled_back}", desired=3,
                   last_change=rolled_back, own_rollback=True)  # fmt: skip
    told = replace(diagnose(book, [ours], 40), symptom="504s since the deploy")
    assert told.verdict == f"Checks are healthy; no change since the bot's rollback ({rolled_back}) (1 ok)"


@pytest.mark.parametrize(
    ("report", "points"),
    [("504s since the deploy", True), ("broke after the release", True), ("errors since we rolled out 1.9", True),
     ("just deployed and now 502s", True), ("following the latest rollout", True),
     ("504s since 14:00", False), ("deploy the fix please", False), ("pods keep restarting", False)],
)  # fmt: skip
def test_words_that_point_at_a_change(report: str, points: bool) -> None:
    assert points_at_change(report) is points


# --- unknowns --------------------------------------------------------------------------------------


def test_a_check_that_could_not_run_never_raises_the_sev_nor_confirms_a_problem(book: Playbook) -> None:
    kube_down = "kube-apiserver at https://10.0.0.1 refused the connection"
    findings = [
        finding(s, s, Status.ERROR, kube_down) for s in ("k8s.resource_usage", "k8s.pods", "k8s.endpoints")
    ]
    done = diagnose(book, [*findings, unreachable()], 40)
    assert done.verdict.startswith(f"Could not check: {kube_down}; {kube_down} (4 error)")
    assert (done.suggested_sev, done.remediations) == (None, [])


def test_when_most_checks_could_not_run_the_verdict_says_so(book: Playbook) -> None:
    errors = [
        finding(s, s, Status.ERROR, "kube-apiserver timed out after 3 s")
        for s in ("k8s.pods", "k8s.endpoints")
    ]
    done = diagnose(book, [usage(), *errors], 40)
    assert done.verdict.startswith(
        f"Problem confirmed: {MEMORY} - but 2 of 3 checks could not run (kube-apiserver"
    )


def test_a_healthy_run_suggests_no_sev_and_offers_no_fix(book: Playbook) -> None:
    healthy = [finding(s, s, Status.OK, "fine") for s in ("k8s.resource_usage", "k8s.pods", "k8s.endpoints")]
    done = diagnose(book, healthy, 40)
    assert done.verdict == "Checks are healthy (3 ok)"
    assert (done.suggested_sev, done.sev_reasons, done.remediations) == (None, ["no problem confirmed"], [])


def test_warning_signs_alone_suggest_no_more_than_sev3_unless_a_hint_says_so(tmp_path: Path) -> None:
    busy = "memory 86% of limit on api-gateway-7d9f6b8c5-abc12"
    warned = finding("k8s.resource_usage", "k8s.resource_usage", Status.WARN, busy,
                     fault("Usage/api-gateway:memory", Rank.SATURATED, Status.WARN, busy, "memory-high"))  # fmt: skip
    steps = [{"probe": "k8s.resource_usage"}, {"probe": "k8s.pods"}]
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    plain = playbook(tmp_path / "a", steps, severity={"default": "SEV-2"})
    done = diagnose(plain, [warned], 40)
    assert done.verdict.startswith(f"Warning signs: {busy}")
    assert done.suggested_sev == Sev.SEV3 and "only warning signs" in done.sev_reason
    assert diagnose(plain, [pods()], 40).suggested_sev == Sev.SEV2, "a confirmed problem gets the default"
    hinted = playbook(tmp_path / "b", steps, severity={"default": "SEV-3", "hints": [
        {"sev": "SEV-2", "when": {"probe": "k8s.resource_usage", "status": ["warn", "critical"]}, "why": "Memory is short."}]})  # fmt: skip
    assert diagnose(hinted, [warned], 40).suggested_sev == Sev.SEV2


def test_sev_reasons_read_as_one_sentence() -> None:
    assert join_reasons(
        ["Gateway pods are not serving; complete outage.", "The database cannot be reached."]
    ) == ("Gateway pods are not serving; complete outage; the database cannot be reached.")
    assert join_reasons(["A.", "SEV-1 by policy."]) == "A; SEV-1 by policy."


# --- fixes follow from the findings ------------------------------------------------------------------


def test_a_rollback_needs_a_recent_rollout_and_the_pods_or_endpoints_failing(book: Playbook) -> None:
    assert [a.title for a in diagnose(book, [pods(), rollout()], 40).remediations] == ["Roll back"]
    assert [a.title for a in diagnose(book, [pods(), rollout(recent=False)], 40).remediations] == []
    assert diagnose(book, [pods(), rollout()], 40).suggested_sev == Sev.SEV3, "no hint fired: the default"


@pytest.mark.parametrize(
    ("others", "offered"),
    [([rollout(recent=False, desired=3)], False),  # already runs 3
     ([rollout(recent=False, desired=2)], True),
     ([rollout(recent=False, desired=2), finding("k8s.hpa", "k8s.hpa", Status.WARN, "pinned", current=2, min=2, max=2, pinned_at_max=True)], False),
     ([rollout(recent=False, desired=2), finding("k8s.hpa", "k8s.hpa", Status.OK, "2 replicas", current=2, min=1, max=10, pinned_at_max=False)], True)],
)  # fmt: skip
def test_a_scale_out_is_offered_only_with_room_to_scale(
    book: Playbook, others: list[Finding], offered: bool
) -> None:
    titles = [a.title for a in diagnose(book, [usage(), *others], 40).remediations]
    assert ("Scale to 3" in titles) is offered


def test_a_restart_is_not_offered_for_a_crash_loop(book: Playbook) -> None:
    pending = fault("Pods/api-gateway:not-ready", Rank.FAILING, Status.CRITICAL, "0/3 ready", "not-ready")
    stuck = finding("k8s.pods", "k8s.pods", Status.CRITICAL, "0/3 ready", pending)
    assert "Restart" in [a.title for a in diagnose(book, [stuck], 40).remediations]
    assert "Restart" not in [a.title for a in diagnose(book, [pods()], 40).remediations]


# --- the bundled playbooks' offers -----------------------------------------------------------------


def run_of(catalog: Catalog, playbook_id: str, findings: list[Finding]) -> list[str]:
    return [a.title for a in diagnose(catalog.get(playbook_id), findings, 10).remediations]


def test_the_gateway_latency_playbook_no_longer_offers_restart_or_scale_for_a_crash_loop(
    catalog: Catalog,
) -> None:
    findings = [usage(), pods(), unreachable("circuit-breaker")]
    assert run_of(catalog, "ai-platform/high-latency-or-timeouts", findings) == []
    cpu = fault("Usage/api-gateway:cpu", Rank.SATURATED, Status.CRITICAL, "CPU 97% of limit", "cpu-high")
    hot = finding("k8s.resource_usage", "k8s.resource_usage", Status.CRITICAL, "CPU 97%", cpu)
    two = finding("k8s.pods", "k8s.pods", Status.OK, "2/2 pods ready", scope="service", total=2)
    assert run_of(catalog, "ai-platform/high-latency-or-timeouts", [hot, two]) == [
        "Scale horizontally to 3 replicas"
    ]


def test_service_crashes_offers_4gi_only_for_oom_kills(catalog: Catalog) -> None:
    title = "OOM kills (OOMKilled, exit code 137): increase the memory limit to 4Gi"
    assert run_of(catalog, "microservices-platform/service-crashes", [pods()]) == [title]
    error_exit = fault(
        "Pods/api-gateway:CrashLoopBackOff", Rank.FAILING, Status.CRITICAL, "0/3 ready", "crash-loop"
    )
    crashing = finding("k8s.pods", "k8s.pods", Status.CRITICAL, "0/3 ready", error_exit)
    assert run_of(catalog, "microservices-platform/service-crashes", [crashing]) == []


def test_no_playbook_offers_the_guides_local_port_export(catalog: Catalog) -> None:
    offered = [a for p in catalog for a in p.actions if "API_PORT" in a.typed_params.model_dump_json()]
    assert offered == [], "export API_PORT=8081 is a shell export where the service runs locally"


def test_every_fix_of_the_bundled_playbooks_waits_for_its_findings(catalog: Catalog) -> None:
    every = [*catalog, *catalog.triages.values()]
    assert all(a.conditions for p in every for a in p.actions)
    healthy = {p.id: [finding(s.key, s.probe, Status.OK, "fine") for s in p.probes] for p in every}
    assert {
        pid: run for pid, run in ((p.id, run_of(catalog, p.id, healthy[p.id])) for p in every) if run
    } == {}


def test_two_hints_that_say_the_same_say_it_once() -> None:
    assert join_reasons(
        ["Gateway pods are not serving; complete outage.", "Nothing is serving; complete outage."]
    ) == ("Gateway pods are not serving; complete outage; nothing is serving.")
