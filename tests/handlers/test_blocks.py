"""What the incident thread shows, built from real engine results, within Slack's Block Kit limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.config import Config
from bot.findings import Diagnosis
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.runner import Runner
from handlers import blocks
from handlers.ids import ActionId
from sandbox import FakeKubeApi, sandboxed


class Stash:
    """Opaque ids for button state, as the store hands them out."""

    def __init__(self) -> None:
        self.state: dict[str, tuple[str, dict[str, Any]]] = {}

    def __call__(self, kind: str, payload: dict[str, Any]) -> str:
        key = f"s{len(self.state)}"
        self.state[key] = (kind, payload)
        return key


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
    stash = Stash()
    values = example_config.services["api-gateway"].variables("api-gateway")
    rendered = blocks.verdict_blocks(crashloop, values, "INC-1", stash)
    shown = texts(rendered)
    assert "*Suggested severity:* SEV-1" in shown
    assert "kubectl exec -it deployment/postgres -n arch-separation -- pg_isready" in shown
    sev_buttons = [b for b in buttons(rendered) if b["action_id"] == ActionId.SET_SEVERITY]
    assert [b["text"]["text"] for b in sev_buttons] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    fixes = [b for b in buttons(rendered) if b["action_id"] == ActionId.REQUEST_ACTION]
    assert [b["text"]["text"] for b in fixes] == ["Roll back the recent deployment (breaking change)"]
    for b in buttons(rendered):
        assert b["value"] in stash.state, "a button's value is an id of state we keep"


def test_an_abstention_offers_the_closest_playbooks_as_buttons(matcher: Matcher) -> None:
    stash = Stash()
    result = matcher.match("the gateway feels weird", guide="ai-platform")
    rendered = blocks.match_blocks("INC-2", result, stash)
    assert "No confident match" in texts(rendered)
    assert len(buttons(rendered)) >= 2
    assert all(b["action_id"] == ActionId.RUN_PLAYBOOK for b in buttons(rendered))
    offered = [stash.state[b["value"]][1]["playbook"] for b in buttons(rendered)]
    assert "ai-platform/high-latency-or-timeouts" in offered


def test_when_nothing_fits_the_thread_says_how_to_describe_it(matcher: Matcher) -> None:
    rendered = blocks.match_blocks("INC-2", matcher.match("how do I enable dark mode"), Stash())
    assert "No playbook fits" in texts(rendered) and "@chatops diagnose" in texts(rendered)
    assert buttons(rendered) == []


def test_every_playbook_renders_within_slacks_limits(catalog: Catalog, example_config: Config) -> None:
    values = example_config.services["api-gateway"].variables("api-gateway")
    for playbook in catalog:
        diagnosis = Diagnosis(playbook, [], playbook.severity.default, ["default"], playbook.actions, 0.0)
        rendered = blocks.checklist(playbook, {}) + blocks.verdict_blocks(diagnosis, values, "INC-3", Stash())
        assert len(rendered) <= blocks.MAX_BLOCKS, playbook.id
        for block in rendered:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= blocks.MAX_SECTION_TEXT, playbook.id
            if block["type"] == "actions":
                assert len(block["elements"]) <= 25
                assert all(len(e["text"]["text"]) <= blocks.MAX_BUTTON_TEXT for e in block["elements"])
