"""The config file is validated at start-up; bad files are refused with file, key path and expectation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import ROOT

from bot.config import Config, load_config
from bot.errors import ConfigError, UnknownNameError
from bot.severity import Sev

EXAMPLE = (ROOT / "config.example.yaml").read_text()


def bad(tmp_path: Path, old: str, new: str) -> str:
    assert old in EXAMPLE, old
    path = tmp_path / "chatops.yaml"
    path.write_text(EXAMPLE.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(
            path,
            guides=[
                "ai-platform",
                "convergence-data-pipeline",
                "imgstream",
                "microservices-platform",
                "tldr-highlight-api",
            ],
        )
    return str(caught.value)


def test_the_example_describes_all_five_systems(example_config: Config) -> None:
    guides = {s.guide for s in example_config.services.values()}
    assert guides == {
        "imgstream",
        "ai-platform",
        "tldr-highlight-api",
        "convergence-data-pipeline",
        "microservices-platform",
    }
    gateway = example_config.services["api-gateway"]
    assert gateway.kubernetes is not None and gateway.kubernetes.namespace == "arch-separation"
    imgstream = example_config.services["imgstream"]
    assert imgstream.cloud_run is not None and imgstream.cloud_run.service == "imgstream-production"
    assert {"ms-api-gateway", "auth-service", "data-processor", "business-logic"} <= set(
        example_config.services
    )


def test_the_guides_sev_table_and_escalation_timetable_are_the_defaults() -> None:
    config = Config.model_validate(
        {"services": {"x": {"guide": "g", "team": "t"}}, "teams": {"t": {"oncall": {"slack": "U123"}}}}
    )
    policy = config.policy
    assert [(s.tier, s.after, s.when) for s in policy.escalation] == [
        ("oncall", timedelta(minutes=15), "not_acknowledged"),
        ("team_lead", timedelta(hours=1), "not_resolved"),
        ("engineering_manager", timedelta(hours=4), "not_resolved"),
        ("vp_engineering", timedelta(hours=24), "not_resolved"),
    ]
    assert policy.first_response_within == timedelta(minutes=15)
    assert policy.severities[Sev.SEV1].page_oncall, "the guide wakes on-call for SEV-1"
    assert not policy.severities[Sev.SEV2].page_oncall, "paging SEV-2 is a team's choice, not a default"
    assert policy.severities[Sev.SEV2].respond_within == timedelta(hours=1)


def test_services_are_found_by_alias_and_their_values_fill_templates(example_config: Config) -> None:
    name, service = example_config.service("AI-Gateway")
    assert name == "api-gateway"
    values = service.variables(name)
    assert values["namespace"] == "arch-separation"
    assert values["selector"] == "app=api-gateway"
    assert values["base_url"] == "https://api.your-domain.com"
    assert values["postgres_port"] == "5432"
    with pytest.raises(UnknownNameError, match="unknown service 'billing'; known: ai-worker, api-gateway"):
        example_config.service("billing")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "namespace: arch-separation",
            "namespace: 42",
            ":30: services.api-gateway.kubernetes.namespace: expected a valid string (got 42)",
        ),
        (
            "namespace: arch-separation",
            "namespace: Arch_Separation",
            "services.api-gateway.kubernetes.namespace: expected a name of lowercase letters, digits and dashes, "
            "such as api-gateway (got 'Arch_Separation')",
        ),
        (
            "    guide: imgstream\n",
            "    guide: imgstream\n    colour: red\n",
            "services.imgstream.colour: unknown key 'colour'",
        ),
        (
            "respond_within: 1h",
            "respond_within: soon",
            "policy.severities.SEV-2.respond_within: expected a duration such as 15m, 1h, 4h or 24h (got 'soon')",
        ),
        ("    team: tldr\n", "    team: nobody\n", "services.tldr-api.team: unknown team 'nobody'"),
        (
            "aliases: [auth-svc]",
            "aliases: [ai-gateway]",
            "services.auth-service.aliases: 'ai-gateway' is already used by 'api-gateway'",
        ),
        (
            "    guide: imgstream\n",
            "    guide: imgstreem\n",
            "services.imgstream.guide: unknown guide 'imgstreem'; expected one of",
        ),
        (
            "{slack: S0PLATONCALL,",
            "{slack: platform-oncall,",
            "teams.platform.oncall.slack: expected a Slack user or user group id, such as U024BE7LH or S0614TZR7 "
            "(got 'platform-oncall')",
        ),
        (
            "  imgstream:\n",
            "  ImgStream:\n",
            ":10: services.ImgStream: expected a name of lowercase letters, digits and dashes, such as api-gateway",
        ),
        (
            "health_url: https://imgstream.example.com/health",
            "health_url: imgstream.example.com/health",
            "services.imgstream.health_url: expected an http:// or https:// URL (got 'imgstream.example.com/health')",
        ),
        (
            "    - {tier: team_lead, after: 1h, when: not_resolved}\n",
            "    - {tier: team_lead, after: 1h, when: not_resolved}\n    - {tier: cto, after: 2h}\n",
            "policy.escalation.2.tier: expected 'oncall', 'team_lead', 'engineering_manager' or 'vp_engineering'",
        ),
        ("services:\n", "services: [\n", "invalid YAML"),
    ],
)
def test_bad_config_names_file_key_and_expectation(tmp_path: Path, old: str, new: str, expected: str) -> None:
    message = bad(tmp_path, old, new)
    assert str(tmp_path / "chatops.yaml") in message
    assert expected in message


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_config(tmp_path / "nope.yaml")
