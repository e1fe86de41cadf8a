"""The odd ways guides are written, each on a small fixture: what the imported playbooks say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.importer.placeholders import Context, escape_braces, templatize
from bot.importer.run import Imported, import_guide
from bot.importer.text import repair_mojibake

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "guides"


def imported(name: str, ctx: Context | None = None) -> Imported:
    return import_guide((FIXTURES / f"{name}.md").read_text(encoding="utf-8"), "shop", ctx or Context())


def playbook(result: Imported, section: str) -> dict[str, Any]:
    return next(d.data for d in result.drafts if d.section == section)


def kinds(steps: list[dict[str, Any]]) -> list[str]:
    return [s.get("probe") or s.get("action") or "manual" for s in steps]


def test_entries_at_any_heading_depth_with_or_without_issue_prefix_or_bold() -> None:
    result = imported("depths")
    sections = [d.section for d in result.drafts]
    assert sections == ["Checkout Times Out", "Cart Is Empty After Login", "Payments Fail"]
    assert result.drafts[0].id == "shop/checkout-times-out"


def test_symptoms_label_with_text_on_the_same_line_and_as_sub_headings() -> None:
    result = imported("depths")
    assert playbook(result, "Cart Is Empty After Login")["symptoms"] == [
        "Users see an empty cart after they log in."
    ]
    payments = playbook(result, "Payments Fail")
    assert payments["symptoms"] == ['"card_declined" for every card']
    assert kinds(payments["diagnostics"]) == ["k8s.logs"]  # a fence without a language under "#### Diagnosis"
    assert payments["diagnostics"][0]["params"] == {"tail_lines": 50, "selector": "app=payments"}
    assert payments["signals"]["patterns"] == ["card_declined"]


def test_emoji_and_list_numbers_before_a_heading_are_not_part_of_the_entry() -> None:
    result = imported("decorated")
    sections = [d.section for d in result.drafts]
    assert sections == [
        "Index Is Stale",  # a mis-encoded emoji, then "Issue:"
        "Search Is Slow",  # an emoji and "2."
        "Login Loops",  # an emoji, then "Issue:" in bold
        '"Connection reset" from the search proxy',  # a quote that opens the heading stays
        "Cache Misses",  # "Issue" alone in bold, then the colon
    ]
    assert result.drafts[1].id == "shop/search-is-slow"
    assert kinds(result.drafts[1].data["diagnostics"]) == ["k8s.resource_usage"]  # a ~~~ fence


def test_a_section_without_symptoms_is_not_an_entry() -> None:
    assert "Maintenance Notes" not in [d.section for d in imported("depths").drafts]


def test_mojibake_is_repaired_and_an_unsavable_emoji_dropped() -> None:
    result = imported("mojibake")
    entry = result.drafts[0]
    assert entry.section == "Service Won\u2019t Start"
    assert entry.data["symptoms"] == ["Pods exit at once \u2014 no logs"]
    assert result.source.repaired_characters == 1  # the emoji lost its last byte on the way
    assert (
        result.drafts[-1].data["source"]["section"] == "Check Status"
    )  # "General Debugging" is a triage section


def test_repair_leaves_real_latin1_text_alone() -> None:
    assert repair_mojibake("café naïve résumé") == ("café naïve résumé", 0)


def test_numbered_and_bulleted_lists_fenced_and_indented_code() -> None:
    queue = playbook(imported("lists"), "Queue Backlog")
    assert queue["symptoms"] == ["Jobs wait for minutes", "QueueBacklog alert firing"]
    assert kinds(queue["diagnostics"]) == ["k8s.hpa", "k8s.resource_usage", "k8s.events", "manual"]
    usage = queue["diagnostics"][1]
    assert usage["title"] == "Check the worker pods"  # the list item names the fence below it
    assert usage["params"] == {"selector": "app=worker"}
    assert queue["diagnostics"][3] == {
        "manual": "Look at the dashboard",
        "note": "Queue depth panel; Worker count panel",
    }
    assert queue["remediations"][0] == {
        "action": "k8s.scale",
        "title": "Scale out",
        "params": {"replicas": 6, "deployment": "worker"},
        "when": {"facts": ["cpu-high", "over-threshold", "slow"]},  # a drafted fix waits for its findings
    }
    assert queue["signals"]["alerts"] == ["QueueBacklog"]


def test_a_command_in_a_one_line_label_is_a_step() -> None:
    cold = imported("inline-commands").drafts[0].data
    assert cold["symptoms"] == ["the first request after a quiet hour takes 8 seconds"]
    assert cold["diagnostics"] == [
        {"probe": "cloud_run.service", "title": "list the revisions", "params": {"service": "reports"}}
    ]
    assert cold["remediations"] == [
        {
            "action": "cloud_run.scale",
            "title": "keep one instance warm",
            "params": {"min_instances": 1},
            "when": {"facts": ["over-threshold", "slow", "error-entries"]},
        }
    ]


def test_a_guide_without_severity_table_has_no_config_snippet() -> None:
    result = imported("no-severity")
    assert result.snippet is None
    disk = playbook(result, "Disk Full")
    assert disk["diagnostics"] == [{"manual": "df -h", "command": "df -h"}]
    assert disk["signals"]["patterns"] == [r"No\s+space\s+left\s+on\s+device"]


def test_severity_table_and_escalation_path_become_a_policy_snippet() -> None:
    snippet = imported("severity-table").snippet
    assert snippet is not None
    policy = snippet["policy"]
    assert policy["severities"]["SEV-1"] == {
        "name": "SEV-1", "meaning": "Everything is down", "respond_within": "0m", "page_oncall": True,
    }  # fmt: skip
    assert policy["severities"]["SEV-2"]["respond_within"] == "1h"
    assert policy["first_response_within"] == "10m"
    assert policy["escalation"] == [{"tier": "oncall", "after": "0m"}, {"tier": "team_lead", "after": "2h"}]
    assert snippet["teams"]["shop"]["channel"] == "#shop-ops"


def test_a_command_that_writes_in_a_diagnosis_block_stays_manual_with_a_warning() -> None:
    result = imported("mutating-diagnosis")
    stuck = result.drafts[0]
    assert kinds(stuck.data["diagnostics"]) == ["k8s.pods", "manual"]
    manual = stuck.data["diagnostics"][1]
    assert manual["command"] == "kubectl delete pod shop-api-abc12 -n shop --force"
    assert "k8s" not in str(stuck.data.get("remediations", []))
    assert any("kubectl delete pod" in w for w in stuck.warnings)
    outcome = next(o for o in stuck.outcomes if o.command and "delete" in o.command)
    assert outcome.became == ["manual"] and "read-only" in outcome.why


def test_the_services_literals_become_placeholders_and_others_stay() -> None:
    ctx = Context("shop-api", {"namespace": "shop", "deployment": "shop-api", "health_url": "https://shop.example/health",
                               "base_url": "https://shop.example"}, "shop")  # fmt: skip
    command = (
        "kubectl exec deployment/shop-api -n shop -- curl https://shop.example/health https://other.example/x"
    )
    assert templatize(command, ctx) == (
        "kubectl exec deployment/{deployment} -n {namespace} -- curl {health_url} https://other.example/x"
    )
    assert ctx.kept == ["literal URL 'https://other.example/x' kept (not one of shop-api's URLs)"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("print(f'failed: {e}')", "print(f'failed: {e!s}')"),
        ("kubectl get pods -o jsonpath='{.items[*]}'", "kubectl get pods -o jsonpath='{.items[*]}'"),
        ('curl -w "%{time_total}" https://x', None),
    ],
)
def test_braces_that_would_read_as_placeholders(command: str, expected: str | None) -> None:
    assert escape_braces(command)[0] == expected


def test_plain_labels_a_partial_severity_table_and_a_two_step_escalation_sentence() -> None:
    """A runbook written without bold: "Symptoms:", "How to check:", "Fix:", "Resolution: ..."; three SEV
    levels; "Page #payments-oncall first; after 30 minutes escalate to the payments lead"."""
    result = imported("plain-labels")
    assert [d.section for d in result.drafts] == [
        "Card payments fail with 502",
        "Stripe webhooks are not processed",
    ]
    cards = playbook(result, "Card payments fail with 502")
    assert cards["symptoms"][0] == 'checkout shows "Payment failed, try again"'
    assert kinds(cards["diagnostics"]) == ["k8s.pods", "k8s.logs", "http.check"]
    assert kinds(cards["remediations"]) == ["k8s.rollout_restart", "k8s.rollout_undo"]
    webhooks = playbook(result, "Stripe webhooks are not processed")
    assert webhooks["remediations"][0]["manual"].startswith("rotate the webhook secret")
    assert result.snippet is not None
    policy = result.snippet["policy"]
    assert list(policy["severities"]) == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert result.policy.defaulted == ["SEV-4"], "the level the guide leaves out keeps the default"
    assert policy["severities"]["SEV-1"]["page_oncall"], "a guide silent on paging keeps SEV-1's page"
    assert policy["escalation"] == [{"tier": "oncall", "after": "0m"}, {"tier": "team_lead", "after": "30m"}]
    assert "first_response_within" not in policy


def test_problem_headings_with_what_you_see_checks_and_remedy_sub_headings() -> None:
    result = imported("problem-headings")
    assert [d.section for d in result.drafts] == ["Search results are stale", "Search returns 500 errors"]
    stale = playbook(result, "Search results are stale")
    assert stale["symptoms"][0] == "New products do not show up in search for hours"
    assert kinds(stale["diagnostics"]) == ["k8s.pods", "prometheus.query"]  # PromQL in a list item's code
    assert kinds(stale["remediations"]) == ["k8s.scale"]
    errors = playbook(result, "Search returns 500 errors")
    assert kinds(errors["diagnostics"]) == ["k8s.logs", "http.check"]
    assert kinds(errors["remediations"]) == ["k8s.rollout_restart"]


def test_a_troubleshooting_table_gives_one_entry_per_row() -> None:
    """| Symptom | How to check | Likely cause | Fix |: each row is an issue; a SEV table is not."""
    result = imported("table-runbook")
    assert [(d.section, d.line) for d in result.drafts] == [("Checkout returns 502", 7),
                                                            ('Orders stuck in "pending"', 8)]  # fmt: skip
    bad_gateway = playbook(result, "Checkout returns 502")
    assert bad_gateway["symptoms"] == ["Checkout returns 502"]
    assert (
        bad_gateway["summary"] == "Checkout returns 502. Possible causes: pods crash-looping after a deploy."
    )
    assert kinds(bad_gateway["diagnostics"]) == ["k8s.pods"]
    assert kinds(bad_gateway["remediations"]) == ["k8s.rollout_undo"]
    assert kinds(playbook(result, 'Orders stuck in "pending"')["remediations"]) == ["k8s.rollout_restart"]


def test_promql_in_a_diagnosis_is_a_prometheus_query() -> None:
    """A ```promql block, and PromQL as inline code in the diagnosis' list items."""
    backlog = playbook(imported("promql"), "Queue backlog")
    queries = [s["params"]["query"] for s in backlog["diagnostics"] if s.get("probe") == "prometheus.query"]
    assert queries == ['sum(rabbitmq_queue_messages{queue="index"})', "rate(jobs_processed_total[5m])",
                       'up{job="rabbitmq"}']  # fmt: skip
    assert kinds(backlog["remediations"]) == ["k8s.scale"]
