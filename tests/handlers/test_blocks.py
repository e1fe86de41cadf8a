"""What the incident thread shows, built from real engine results, within Slack's Block Kit limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Config
from bot.findings import Diagnosis
from bot.incident.view import Offer, OfferKind
from bot.incidents import Incident
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.runner import Runner
from bot.severity import Sev, Status
from handlers import blocks
from handlers.ids import ActionId
from sandbox import FakeKubeApi, sandboxed


def offers(kind: OfferKind, labels: list[str]) -> list[Offer]:
    """Offers as the flows make them: each with the opaque id of state they keep."""
    return [Offer(kind, label, f"state-{kind.value}-{n}") for n, label in enumerate(labels)]


@pytest.fixture(scope="module")
def crashloop(catalog: Catalog, example_config: Config) -> Diagnosis:
    playbook = catalog.get("ai-platform/5xx-errors")
    with FakeKubeApi("crashloop-oom") as cluster:
        service = sandboxed(example_config.services["api-gateway"])
        return Runner(Clients(kubeconfig=cluster.kubeconfig_path)).run(playbook, "api-gateway", service)


def texts(rendered: list[dict[str, Any]]) -> str:
    return json.dumps(rendered)


def buttons(rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in rendered if b["type"] == "actions" for e in b["elements"]]


def test_the_checklist_shows_pending_then_each_status_with_its_summary(crashloop: Diagnosis) -> None:
    playbook = crashloop.playbook
    pending = texts(blocks.checklist(playbook, {}))
    assert pending.count(":hourglass_flowing_sand:") == len(playbook.probes)
    done = texts(blocks.checklist(playbook, {f.step: f for f in crashloop.findings}))
    assert ":red_circle:" in done and "3 CrashLoopBackOff; last exit OOMKilled (137)" in done
    assert ":fast_forward:" in done  # systems the sandbox does not simulate
    assert ":hourglass_flowing_sand:" not in done


def test_verdict_offers_sev_buttons_and_fixes_that_carry_only_opaque_ids(
    crashloop: Diagnosis, example_config: Config
) -> None:
    values = example_config.services["api-gateway"].variables("api-gateway")
    sevs = offers(OfferKind.SET_SEVERITY, [s.value for s in Sev])
    fixes = offers(OfferKind.REQUEST_ACTION, ["Roll back the recent deployment (breaking change)"])
    rendered = blocks.verdict_blocks(crashloop, values, sevs, fixes)
    shown = texts(rendered)
    assert "*Suggested severity:* SEV-1" in shown
    assert "kubectl exec -it deployment/postgres -n arch-separation -- pg_isready" in shown
    sev_buttons = [b for b in buttons(rendered) if b["action_id"].startswith(ActionId.SET_SEVERITY)]
    assert [b["text"]["text"] for b in sev_buttons] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert [b["action_id"] for b in sev_buttons] == [f"set_severity:{n}" for n in range(4)], (
        "unique in the block"
    )
    assert all(ActionId.SET_SEVERITY.pattern().match(b["action_id"]) for b in sev_buttons)
    fix_buttons = [b for b in buttons(rendered) if b["action_id"].startswith(ActionId.REQUEST_ACTION)]
    assert [b["text"]["text"] for b in fix_buttons] == ["Roll back the recent deployment (breaking change)"]
    assert [b["value"] for b in buttons(rendered)] == [o.state for o in [*sevs, *fixes]], "only opaque ids"


def test_an_abstention_offers_the_closest_playbooks_as_buttons(matcher: Matcher) -> None:
    result = matcher.match("the gateway feels weird", guide="ai-platform")
    candidates = offers(OfferKind.RUN_PLAYBOOK, [m.playbook.title for m in result.matches])
    rendered = blocks.match_blocks(result, candidates)
    assert "No confident match" in texts(rendered)
    assert [b["text"]["text"] for b in buttons(rendered)] == [f"Run {o.label}" for o in candidates]
    assert len({b["action_id"] for b in buttons(rendered)}) == len(candidates) >= 2


def test_text_from_people_and_systems_cannot_ping_or_link() -> None:
    typed = "<!channel> <@U0BOSS> see <https://evil.example|here> & the thing"
    incident = Incident("INC-1", "api-gateway", typed, "C1", "U1", datetime.now(UTC))
    rendered = texts(blocks.incident_root(incident, (Status.WARN, typed)))
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    assert "<@U0BOSS>" not in rendered and "<https://" not in rendered and "&amp;" in rendered


def test_when_nothing_fits_the_thread_says_how_to_describe_it(matcher: Matcher) -> None:
    rendered = blocks.match_blocks(matcher.match("the purple widget wobbles"), [])
    assert "No playbook fits" in texts(rendered) and "@chatops diagnose" in texts(rendered)
    assert buttons(rendered) == []


def test_a_how_to_question_is_told_apart_from_an_incident(matcher: Matcher) -> None:
    rendered = blocks.match_blocks(matcher.match("how do I enable dark mode"), [])
    assert "reads like a how-to question, not an incident" in texts(rendered) and buttons(rendered) == []


def test_every_playbook_renders_within_slacks_limits(catalog: Catalog, example_config: Config) -> None:
    values = example_config.services["api-gateway"].variables("api-gateway")
    for playbook in catalog:
        diagnosis = Diagnosis(playbook, [], playbook.severity.default, ["default"], playbook.actions, 0.0)
        sevs = offers(OfferKind.SET_SEVERITY, [s.value for s in Sev])
        fixes = offers(OfferKind.REQUEST_ACTION, [a.title for a in playbook.actions])
        rendered = blocks.checklist(playbook, {}) + blocks.verdict_blocks(diagnosis, values, sevs, fixes)
        assert len(rendered) <= blocks.MAX_BLOCKS, playbook.id
        for block in rendered:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= blocks.MAX_SECTION_TEXT, playbook.id
            if block["type"] == "actions":
                assert len(block["elements"]) <= 25
                assert all(len(e["text"]["text"]) <= blocks.MAX_BUTTON_TEXT for e in block["elements"])
