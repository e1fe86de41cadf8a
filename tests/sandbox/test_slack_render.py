"""sandbox.slack_render: what a message would ping or link (`mentions`), and views drawn for the terminal."""

from __future__ import annotations

from typing import Any

from sandbox.slack_render import Buttons, Message, mentions, render_view


def test_mentions_in_text_mrkdwn_rich_text_and_attachments() -> None:
    message: dict[str, Any] = {
        "text": "<!here|here> SEV1 for <!subteam^S0ONCALL|@platform-oncall>, ask <@U0ALICE>",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "In <#C0INCIDENTS> see <https://grafana.example/d/1|dashboard>"},
             "fields": [{"type": "mrkdwn", "text": "<!channel>"}, {"type": "plain_text", "text": "<!everyone> <@U0BOB>"}]},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "by <@U0BOB> at <!date^1700000000^{time}|10:13>"}]},
            {"type": "header", "text": {"type": "plain_text", "text": "<!channel>"}},
            {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
                {"type": "broadcast", "range": "everyone"}, {"type": "usergroup", "usergroup_id": "S0DBA"},
                {"type": "link", "url": "https://runbook.example", "text": "runbook"}]}]},
        ],
        "attachments": [{"pretext": "<@U0CAROL>", "text": "<mailto:oncall@example.com>",
                         "fields": [{"title": "Owner", "value": "<#C0OPS>"}],
                         "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<!everyone>"}}]}],
    }  # fmt: skip
    assert mentions(message) == [
        "<!here>", "<!subteam^S0ONCALL>", "<@U0ALICE>",
        "<#C0INCIDENTS>", "<https://grafana.example/d/1|dashboard>", "<!channel>",
        "<@U0BOB>",
        "<!everyone>", "<!subteam^S0DBA>", "<https://runbook.example|runbook>",
        "<@U0CAROL>", "<mailto:oncall@example.com>", "<#C0OPS>", "<!everyone>",
    ]  # fmt: skip


def test_escaped_text_and_plain_text_ping_nobody() -> None:
    escaped = "&lt;!channel&gt; 5xx &gt; 2% &amp; rising, &lt;@U0ALICE&gt; a<b"
    assert mentions({"text": escaped}) == []
    stored = Message(
        "C0INCIDENTS",
        "1.000001",
        "",
        [{"type": "section", "text": {"type": "plain_text", "text": "<!here>"}}],
    )
    assert mentions(stored) == []


DECLARE = {
    "id": "V0000001",
    "type": "modal",
    "title": {"type": "plain_text", "text": "Declare an incident"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {"type": "input", "block_id": "what", "label": {"type": "plain_text", "text": "What is happening?"},
         "element": {"type": "plain_text_input", "action_id": "symptom", "multiline": True,
                     "placeholder": {"type": "plain_text", "text": "e.g. checkout returns 502"}},
         "hint": {"type": "plain_text", "text": "Users' words are fine"}},
        {"type": "input", "block_id": "service", "label": {"type": "plain_text", "text": "Service"},
         "element": {"type": "static_select", "action_id": "service",
                     "placeholder": {"type": "plain_text", "text": "Pick a service"},
                     "initial_option": {"text": {"type": "plain_text", "text": "api-gateway"}, "value": "api-gateway"},
                     "options": [{"text": {"type": "plain_text", "text": "api-gateway"}, "value": "api-gateway"},
                                 {"text": {"type": "plain_text", "text": "billing"}, "value": "billing"}]}},
        {"type": "input", "block_id": "sev", "optional": True, "label": {"type": "plain_text", "text": "Severity"},
         "element": {"type": "radio_buttons", "action_id": "sev",
                     "options": [{"text": {"type": "plain_text", "text": "SEV1"}, "value": "1"},
                                 {"text": {"type": "plain_text", "text": "SEV2"}, "value": "2"}]}},
        {"type": "input", "block_id": "who", "label": {"type": "plain_text", "text": "Commander"},
         "element": {"type": "users_select", "action_id": "who"}},
        {"type": "actions", "block_id": "more", "elements": [
            {"type": "button", "action_id": "runbook", "text": {"type": "plain_text", "text": "Open runbook"}}]},
    ],
}  # fmt: skip


def test_a_modal_shows_what_to_fill_in() -> None:
    screen = Buttons()
    assert render_view(DECLARE, screen) == "\n".join([
        "Declare an incident",
        "━━━━━━━━━━━━━━━━━━━",
        "What is happening? *",
        "  [ e.g. checkout returns 502 ] (multi-line)",
        "  Users' words are fine",
        "Service *",
        "  <Pick a service: ✓ api-gateway / billing>",
        "Severity",
        "  ( ) SEV1  ( ) SEV2",
        "Commander *",
        "  <Select: a person>",
        "[1] Open runbook",
        "[Cancel]  [Declare]",
    ])  # fmt: skip
    assert (screen[1].action_id, screen[1].view_id, screen[1].message_ts) == ("runbook", "V0000001", None)
