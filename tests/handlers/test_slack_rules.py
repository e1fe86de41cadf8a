"""What a real Slack workspace would do with the bot's messages: nothing typed by a person (or printed by a system
under diagnosis) pings anyone or turns into a link, and a Slack that keeps failing never loses a verdict.
Every message here goes through the stand-in's Block Kit validation, as every message in the suite does."""

from __future__ import annotations

import random

from slack_workspace import OOM_REPORT, Workspace, opened_incident, shown

from bot.incident.view import Offer, OfferKind
from bot.matcher import Matcher
from handlers import blocks
from sandbox.block_kit import message_problems
from sandbox.slack_api import CHANNEL_ID
from sandbox.slack_render import mentions

NASTY = ["<!channel>", "<!here>", "<!everyone>", "<!subteam^S0ONCALL>", "<@U0BOB>", "<#C0INCIDENTS>",
         "<https://evil.example|click me>", "&", "&amp;", "<", ">", "*bold*", "`code`", "```block```"]  # fmt: skip
WORDS = ["the", "gateway", "feels", "odd", "today", "since", "lunch", "weird", "hmm", "users", "say"]


def fuzzed(rng: random.Random, n: int) -> list[str]:
    return [" ".join(rng.choice(NASTY + WORDS) for _ in range(rng.randint(3, 9))) for _ in range(n)]


def bot_output(workspace: Workspace) -> list[object]:
    slack = workspace.slack
    return [m for m in slack.messages(CHANNEL_ID) if m.bot_id] + slack.ephemerals("U0ALICE")


def test_fuzzed_text_never_pings_or_links_on_the_bots_behalf(workspace: Workspace) -> None:
    rng = random.Random(8)
    for text in fuzzed(rng, 6):
        workspace.command(f"api-gateway {text}")  # the symptom echoed into the channel
        workspace.command(text)  # no service named: the guesses echo nothing typed
    workspace.wait_idle()
    root = workspace.slack.messages(CHANNEL_ID, top_level=True)[0]
    for text in fuzzed(rng, 3):
        workspace.say(f"@chatops diagnose {text}", "U0ALICE", root.ts)
    workspace.wait_idle()
    posted = bot_output(workspace)
    assert len(posted) >= 12
    for message in posted:
        assert mentions(message) == [], shown(message)  # type: ignore[arg-type]


def test_rendered_blocks_escape_whatever_people_type(matcher: Matcher) -> None:
    rng = random.Random(9)
    for text in fuzzed(rng, 300):
        result = matcher.match(text, guide="ai-platform")
        offers = [
            Offer(OfferKind.RUN_PLAYBOOK, m.playbook.title, f"s{n}") for n, m in enumerate(result.matches)
        ]
        rendered = blocks.match_blocks(result, offers)
        assert message_problems(rendered) == [], text
        assert mentions({"text": "", "blocks": rendered}) == [], text


def test_when_slack_refuses_every_update_the_checks_and_verdict_still_reach_the_thread(
    workspace: Workspace,
) -> None:
    workspace.slack.fail_next("chat.update", status=200, error="internal_error", times=1000)
    _, thread = opened_incident(workspace, OOM_REPORT)
    finished = [m for m in thread if "Pods that are not Running" in shown(m) and "running…" not in shown(m)]
    assert finished, "the final checklist was posted as a new message when its update failed"
    assert any("*Verdict:*" in shown(m) for m in thread)
    assert any(c.error == "internal_error" for c in workspace.slack.calls("chat.update"))
