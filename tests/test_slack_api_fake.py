"""The Slack Web API stand-in, driven by the official slack_sdk WebClient, and what a person would see."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from sandbox.slack_api import BOT_ID, BOT_USER_ID, CHANNEL_ID, TOKEN, FakeSlackApi
from sandbox.slack_render import Buttons, render_message

C = CHANNEL_ID


@pytest.fixture
def slack() -> Iterator[FakeSlackApi]:
    with FakeSlackApi() as fake:
        yield fake


def client(fake: FakeSlackApi, token: str = TOKEN) -> WebClient:
    return WebClient(token=token, base_url=fake.api_url)


def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as failure:
        call()  # type: ignore[operator]
    return str(failure.value.response["error"])


def test_auth_test_and_bolt_start_against_the_fake(slack: FakeSlackApi) -> None:
    me = client(slack).auth_test()
    assert (me["user_id"], me["bot_id"]) == (BOT_USER_ID, BOT_ID)
    App(client=client(slack), signing_secret="s3cret")  # Bolt calls auth.test once at start
    assert [c.method for c in slack.calls()] == ["auth.test", "auth.test"]
    assert "token" not in slack.calls()[0].params


def test_wrong_or_missing_token_is_refused(slack: FakeSlackApi) -> None:
    assert (
        error_of(lambda: client(slack, "xoxb-wrong").chat_postMessage(channel=C, text="hi")) == "invalid_auth"
    )
    assert error_of(lambda: WebClient(base_url=slack.api_url).auth_test()) == "not_authed"
    assert slack.messages(C) == []


def test_unknown_method(slack: FakeSlackApi) -> None:
    assert error_of(lambda: client(slack).api_call("chat.frobnicate")) == "unknown_method"
    odd = {"channel": C, "ts": "1.000001", "limit": "many"}
    assert (
        error_of(lambda: client(slack).api_call("conversations.history", params=odd)) == "invalid_arguments"
    )
    assert (
        error_of(lambda: client(slack).api_call("files.upload", data={"content": "x"})) == "method_deprecated"
    )


def test_ts_unique_and_increasing_even_from_many_threads(slack: FakeSlackApi) -> None:
    web, seen = client(slack), []
    posts = [threading.Thread(target=lambda: seen.append(web.chat_postMessage(channel=C, text="x")["ts"]))
             for _ in range(20)]  # fmt: skip
    for t in posts:
        t.start()
    for t in posts:
        t.join()
    stored = [m.ts for m in slack.messages(C)]
    assert len(set(seen)) == 20 and sorted(seen) == sorted(stored)
    assert stored == sorted(stored, key=float)


def test_thread_replies_are_listed_by_conversations_replies(slack: FakeSlackApi) -> None:
    web = client(slack)
    root = web.chat_postMessage(channel="#incidents", text="INC-1 api-gateway 5xx")
    assert root["channel"] == C and root["message"]["bot_id"] == BOT_ID
    first = web.chat_postMessage(channel=C, thread_ts=root["ts"], text="checking pods")
    web.chat_postMessage(channel=C, thread_ts=first["ts"], text="pods OOMKilled")  # a reply's ts: same thread
    slack.say("U0ALICE", C, "on it", thread_ts=root["ts"])
    web.chat_postMessage(channel=C, text="unrelated")

    listed = web.conversations_replies(channel=C, ts=root["ts"])["messages"]
    assert [m["text"] for m in listed] == [
        "INC-1 api-gateway 5xx",
        "checking pods",
        "pods OOMKilled",
        "on it",
    ]
    assert listed[0]["reply_count"] == 3 and listed[0]["reply_users"] == [BOT_USER_ID, "U0ALICE"]
    assert all(m["thread_ts"] == root["ts"] for m in listed)
    assert "bot_id" not in listed[3] and listed[3]["user"] == "U0ALICE"
    assert [m.text for m in slack.thread(C, root["ts"])] == [m["text"] for m in listed]
    assert [m.text for m in slack.messages(C, top_level=True)] == ["INC-1 api-gateway 5xx", "unrelated"]
    history = web.conversations_history(channel=C)["messages"]
    assert [m["text"] for m in history] == ["unrelated", "INC-1 api-gateway 5xx"]
    page = web.conversations_replies(channel=C, ts=root["ts"], limit=2)
    assert page["has_more"] and len(page["messages"]) == 2
    assert (
        error_of(lambda: web.chat_postMessage(channel=C, thread_ts="1.000001", text="x"))
        == "thread_not_found"
    )


def test_form_encoded_and_json_bodies_both_work(slack: FakeSlackApi) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*form*"}}]
    web = client(slack)
    web.api_call("chat.postMessage", data={"channel": C, "text": "f", "blocks": json.dumps(blocks)})
    web.api_call("chat.postMessage", json={"channel": C, "text": "j", "blocks": blocks})
    sent = slack.messages(C)
    assert [(m.text, m.blocks[0]["text"]["text"]) for m in sent] == [("f", "*form*"), ("j", "*form*")]
    assert all(m.blocks[0]["block_id"] for m in sent)  # Slack fills in a block_id
    assert error_of(lambda: web.api_call("chat.postMessage", data={"channel": C, "blocks": "[{"})) == (
        "invalid_blocks_format"
    )


def test_chat_update_keeps_the_history_and_shows_edited(slack: FakeSlackApi) -> None:
    web = client(slack)
    ts = web.chat_postMessage(channel=C, text="running", blocks=[section("⏳ probes running")])["ts"]
    web.chat_update(channel=C, ts=ts, text="2 of 3", blocks=[section(":white_check_mark: pods")])
    answer = web.chat_update(channel=C, ts=ts, text="done", blocks=[section(":red_circle: *memory*")])
    assert answer["ts"] == ts and answer["message"]["edited"]["user"] == BOT_USER_ID
    msg = slack.message(C, ts)
    assert [e.text for e in msg.edits] == ["running", "2 of 3"] and msg.text == "done"
    assert msg.edits[0].blocks[0]["text"]["text"] == "⏳ probes running"
    assert slack.render(C, ts) == "🔴 memory (edited)"
    web.chat_update(channel=C, ts=ts, text="text only")  # blocks left out: Slack keeps them
    assert slack.message(C, ts).blocks[0]["text"]["text"] == ":red_circle: *memory*"
    assert error_of(lambda: web.chat_update(channel=C, ts="1.000002", text="x")) == "message_not_found"
    assert error_of(lambda: web.chat_update(channel="C404", ts=ts, text="x")) == "channel_not_found"
    mine = slack.say("U0BOB", C, "hello")
    assert error_of(lambda: web.chat_update(channel=C, ts=mine.ts, text="x")) == "cant_update_message"


def test_validation_like_slack(slack: FakeSlackApi) -> None:
    web = client(slack)
    post = web.chat_postMessage
    assert error_of(lambda: post(channel="C404", text="x")) == "channel_not_found"
    assert error_of(lambda: post(channel=C, text="x" * 40_001)) == "msg_too_long"
    assert error_of(lambda: web.api_call("chat.postMessage", json={"channel": C})) == "no_text"
    with pytest.raises(SlackApiError) as failure:
        post(channel=C, text="x", blocks=[section(str(i)) for i in range(51)])
    assert failure.value.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in failure.value.response["response_metadata"]["messages"][0]
    assert error_of(lambda: post(channel=C, text="x", blocks=[section("y" * 3001)])) == "invalid_blocks"
    assert error_of(lambda: post(channel=C, text="x", blocks=[{"type": "nope"}])) == "invalid_blocks"
    not_a_button = [{"type": "actions", "elements": ["Approve"]}]
    assert error_of(lambda: post(channel=C, text="x", blocks=not_a_button)) == "invalid_blocks"
    too_much = [section("z" * 3000) for _ in range(5)]
    assert error_of(lambda: post(channel=C, text="x", blocks=too_much)) == "msg_blocks_too_long"
    post(channel=C, text="x", blocks=[section(str(i)) for i in range(50)])
    assert len(slack.messages(C)) == 1


def test_ephemerals_permalinks_reactions_users_and_channels(slack: FakeSlackApi) -> None:
    web = client(slack)
    root = web.chat_postMessage(channel=C, text="root")["ts"]
    reply = web.chat_postMessage(channel=C, text="reply", thread_ts=root)["ts"]
    eph = web.chat_postEphemeral(channel=C, user="U0ALICE", text="only you", thread_ts=root)["message_ts"]
    assert [(m.text, m.thread_ts) for m in slack.ephemerals("U0ALICE")] == [("only you", root)]
    assert slack.ephemerals("U0BOB") == [] and len(slack.messages(C)) == 2
    assert error_of(lambda: web.chat_update(channel=C, ts=eph, text="x")) == "message_not_found"
    assert error_of(lambda: web.chat_postEphemeral(channel=C, user="U404", text="x")) == "user_not_found"

    link = web.chat_getPermalink(channel=C, message_ts=reply)["permalink"]
    assert (
        link == f"https://sandbox.slack.com/archives/{C}/p{reply.replace('.', '')}?thread_ts={root}&cid={C}"
    )
    web.reactions_add(channel=C, timestamp=root, name="eyes")
    assert error_of(lambda: web.reactions_add(channel=C, timestamp=root, name="eyes")) == "already_reacted"
    assert slack.message(C, root).reactions == {"eyes": [BOT_USER_ID]}
    assert slack.render(C, root) == "root\n👀 1\n💬 1 reply"

    alice = web.users_info(user="U0ALICE")["user"]
    assert (alice["name"], alice["is_bot"], alice["profile"]["display_name"]) == ("alice", False, "alice")
    assert error_of(lambda: web.users_info(user="U404")) == "user_not_found"
    assert web.conversations_info(channel=C)["channel"]["name"] == "incidents"
    assert error_of(lambda: web.conversations_info(channel="C404")) == "channel_not_found"
    assert error_of(lambda: web.api_call("conversations.info")) == "channel_not_found"
    assert error_of(lambda: web.chat_getPermalink(channel=C, message_ts="1.000009")) == "message_not_found"


def test_files_upload_v2_into_a_thread(slack: FakeSlackApi) -> None:
    web = client(slack)
    root = web.chat_postMessage(channel=C, text="INC-2")["ts"]
    done = web.files_upload_v2(channel=C, thread_ts=root, content="line 1\nline 2\n", filename="pod.log",
                               title="api-gateway logs", initial_comment="Full logs")  # fmt: skip
    assert done["file"]["title"] == "api-gateway logs"
    [upload] = slack.files.values()
    assert (upload.name, upload.title, upload.text) == ("pod.log", "api-gateway logs", "line 1\nline 2\n")
    assert (upload.channel, upload.thread_ts, upload.length) == (C, root, 14)
    shared = slack.thread(C, root)[-1]
    assert slack.render(C, shared.ts) == "Full logs\n📎 api-gateway logs (pod.log)"
    assert [c.method for c in slack.calls()][-2:] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    bogus: list[dict[str, str | None]] = [{"id": "F404", "title": "x"}]
    assert error_of(lambda: web.files_completeUploadExternal(files=bogus, channel_id=C)) == "file_not_found"


def modal(title: str = "Why?", **fields: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("reason")],
        **fields,
    }


def test_views_open_takes_a_trigger_once_within_three_seconds() -> None:
    now = [1_700_000_000.0]
    with FakeSlackApi(clock=lambda: now[0]) as slack:
        web = client(slack)
        trigger = slack.trigger_id("U0ALICE")
        opened = web.views_open(trigger_id=trigger, view=modal(callback_id="why"))["view"]
        assert opened["id"].startswith("V") and opened["root_view_id"] == opened["id"] and opened["hash"]
        assert opened["blocks"][0]["block_id"]  # Slack fills in block ids in views too
        assert slack.views == [opened] and slack.modal("U0ALICE") == opened and slack.modal("U0BOB") is None
        assert error_of(lambda: web.views_open(trigger_id=trigger, view=modal())) == "exchanged_trigger_id"
        assert (
            error_of(lambda: web.views_open(trigger_id="123.456.abc", view=modal())) == "invalid_trigger_id"
        )
        assert error_of(lambda: web.views_open(trigger_id="", view=modal())) == "invalid_arguments"
        late = slack.trigger_id("U0BOB")
        now[0] += 3.5
        assert error_of(lambda: web.views_open(trigger_id=late, view=modal())) == "expired_trigger_id"


def test_views_open_refuses_bad_views_with_slacks_messages(slack: FakeSlackApi) -> None:
    web, trigger = client(slack), slack.trigger_id("U0ALICE")
    with pytest.raises(SlackApiError) as failure:
        web.views_open(trigger_id=trigger, view=modal("A title far longer than 24"))
    assert failure.value.response["error"] == "invalid_arguments"
    assert failure.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    home = {"type": "home", "blocks": [section("x")]}
    assert error_of(lambda: web.views_open(trigger_id=trigger, view=home)) == "invalid_arguments"
    web.views_open(trigger_id=trigger, view=modal())  # the refused calls did not use the trigger up
    second = slack.trigger_id("U0BOB")
    taken = modal(external_id="inc-1")
    web.views_open(trigger_id=second, view=taken)
    third = slack.trigger_id("U0BOB")
    assert error_of(lambda: web.views_open(trigger_id=third, view=taken)) == "duplicate_external_id"


def test_views_push_stacks_up_to_three(slack: FakeSlackApi) -> None:
    web = client(slack)
    assert (
        error_of(lambda: web.views_push(trigger_id=slack.trigger_id("U0ALICE"), view=modal())) == "not_found"
    )
    root = web.views_open(trigger_id=slack.trigger_id("U0ALICE"), view=modal("Root"))["view"]
    second = web.views_push(trigger_id=slack.trigger_id("U0ALICE"), view=modal("Second"))["view"]
    assert (second["root_view_id"], second["previous_view_id"]) == (root["id"], root["id"])
    web.views_push(trigger_id=slack.trigger_id("U0ALICE"), view=modal("Third"))
    assert slack.modal("U0ALICE")["title"]["text"] == "Third"  # type: ignore[index]
    push = lambda: web.views_push(trigger_id=slack.trigger_id("U0ALICE"), view=modal("Fourth"))  # noqa: E731
    assert error_of(push) == "push_limit_reached"


def test_views_update_by_id_or_external_id_with_the_hash(slack: FakeSlackApi) -> None:
    web = client(slack)
    opened = web.views_open(trigger_id=slack.trigger_id("U0ALICE"), view=modal(external_id="inc-7"))["view"]
    updated = web.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal("Checking…", external_id="inc-7")
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert slack.modal("U0ALICE")["title"]["text"] == "Checking…"  # type: ignore[index]
    stale = lambda: web.views_update(view_id=opened["id"], hash=opened["hash"], view=modal("Late"))  # noqa: E731
    assert error_of(stale) == "hash_conflict"
    web.views_update(external_id="inc-7", view=modal("Done", external_id="inc-7"))
    assert slack.view(opened["id"])["title"]["text"] == "Done"
    assert error_of(lambda: web.views_update(view_id="V404", view=modal())) == "not_found"
    assert error_of(lambda: web.api_call("views.update", json={"view": modal()})) == "invalid_arguments"
    long = modal(private_metadata="x" * 3001)
    assert error_of(lambda: web.views_update(view_id=opened["id"], view=long)) == "invalid_arguments"


def test_views_publish_keeps_one_home_tab_per_user(slack: FakeSlackApi) -> None:
    web = client(slack)
    home = {"type": "home", "blocks": [section("*Open incidents*: none")]}
    first = web.views_publish(user_id="U0ALICE", view=home)["view"]
    again = web.views_publish(user_id="U0ALICE", view=home, hash=first["hash"])["view"]
    assert again["id"] == first["id"] and slack.home("U0ALICE") == again and slack.home("U0BOB") is None
    stale = lambda: web.views_publish(user_id="U0ALICE", view=home, hash=first["hash"])  # noqa: E731
    assert error_of(stale) == "hash_conflict"
    with pytest.raises(SlackApiError) as failure:
        web.views_publish(user_id="U404", view=home)
    assert failure.value.response["response_metadata"]["messages"] == ["invalid `user_id`"]
    assert error_of(lambda: web.views_publish(user_id="U0BOB", view=modal())) == "invalid_arguments"
    assert slack.render_view(first["id"]) == "Home\n━━━━\nOpen incidents: none"


def test_usergroups_users_list(slack: FakeSlackApi) -> None:
    web = client(slack)
    assert web.usergroups_users_list(usergroup="S0ONCALL")["users"] == ["U0ALICE", "U0BOB"]
    slack.add_usergroup("S0DBA", "dba", ["U0BOB"])
    assert web.usergroups_users_list(usergroup="S0DBA")["users"] == ["U0BOB"]
    assert error_of(lambda: web.usergroups_users_list(usergroup="S404")) == "no_such_subteam"
    assert error_of(lambda: web.api_call("usergroups.users.list")) == "invalid_arguments"
    with pytest.raises(ValueError, match="U404"):
        slack.add_usergroup("S0X", "x", ["U404"])


def test_invalid_blocks_reach_the_client_with_slacks_pointers(slack: FakeSlackApi) -> None:
    twice = {"type": "actions", "elements": [
        {"type": "button", "action_id": "run_playbook", "value": "a", "text": {"type": "plain_text", "text": "A"}},
        {"type": "button", "action_id": "run_playbook", "value": "b", "text": {"type": "plain_text", "text": "B"}},
    ]}  # fmt: skip
    with pytest.raises(SlackApiError) as failure:
        client(slack).chat_postMessage(channel=C, text="pick", blocks=[section("Pick one"), twice])
    assert failure.value.response["error"] == "invalid_blocks"
    assert failure.value.response["response_metadata"]["messages"] == [
        "[ERROR] duplicate action_id [json-pointer:/blocks/1/elements/1/action_id]"
    ]
    bad = [{"color": "#f00", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}]}]
    with pytest.raises(SlackApiError) as failure:
        client(slack).chat_postMessage(channel=C, text="x", attachments=bad)
    assert failure.value.response["error"] == "invalid_attachments"
    assert failure.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be a valid enum value [json-pointer:/attachments/0/blocks/0/text/type]"
    ]
    assert slack.messages(C) == []


def test_a_429_is_retried_by_the_rate_limit_handler(slack: FakeSlackApi) -> None:
    ts = client(slack).chat_postMessage(channel=C, text="v1")["ts"]
    slack.fail_next("chat.update", 429, retry_after=1)
    with pytest.raises(SlackApiError) as failure:  # without a retry handler the 429 reaches the caller
        client(slack).chat_update(channel=C, ts=ts, text="v2")
    assert failure.value.response.status_code == 429 and failure.value.response.headers["Retry-After"] == "1"

    slack.fail_next("chat.update", 429, retry_after=1)
    web = client(slack)
    web.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    web.chat_update(channel=C, ts=ts, text="v3")
    updates = slack.calls("chat.update")
    assert [(c.status, c.error) for c in updates] == [(429, "ratelimited"), (429, "ratelimited"), (200, None)]
    assert updates[2].time - updates[1].time >= 1.0  # it waited for Retry-After
    assert slack.message(C, ts).text == "v3"


def test_limit_per_minute_answers_429_until_the_window_moves() -> None:
    now = [1_700_000_000.0]
    with FakeSlackApi(clock=lambda: now[0]) as slack:
        slack.limit("chat.update", per_minute=2)
        web = client(slack)
        ts = web.chat_postMessage(channel=C, text="v0")["ts"]
        web.chat_update(channel=C, ts=ts, text="v1")
        now[0] += 20
        web.chat_update(channel=C, ts=ts, text="v2")
        with pytest.raises(SlackApiError) as failure:
            web.chat_update(channel=C, ts=ts, text="v3")
        assert failure.value.response.status_code == 429
        assert failure.value.response.headers["Retry-After"] == "40"
        now[0] += 41
        web.chat_update(channel=C, ts=ts, text="v4")
        assert slack.message(C, ts).text == "v4"
        slack.fail_next("chat.postMessage", 200, error="is_archived")
        assert error_of(lambda: web.chat_postMessage(channel=C, text="x")) == "is_archived"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


VERDICT: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "INC-7 :rotating_light:"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Verdict:* OOM in <@U0ALICE>'s deploy, see <https://grafana.example/d/1|dashboard> &amp; <#C0INCIDENTS>"},
     "accessory": {"type": "button", "action_id": "open_logs", "value": "logs-1",
                   "text": {"type": "plain_text", "text": "Logs"}}},
    {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Service*\napi-gateway"},
                                   {"type": "plain_text", "text": "SEV2"}]},
    {"type": "divider"},
    {"type": "actions", "block_id": "remediations", "elements": [
        {"type": "button", "action_id": "approve", "value": "fix-9", "style": "primary",
         "text": {"type": "plain_text", "text": ":white_check_mark: Approve"},
         "confirm": {"title": {"type": "plain_text", "text": "Sure?"}, "text": {"type": "plain_text", "text": "Rolls back"},
                     "confirm": {"type": "plain_text", "text": "Roll back"}, "deny": {"type": "plain_text", "text": "No"}}},
        {"type": "button", "action_id": "reject", "value": "fix-9", "text": {"type": "plain_text", "text": "Reject"}},
    ]},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "_read-only probes_ · 3 of 3 done"}]},
    {"type": "rich_text", "elements": [
        {"type": "rich_text_list", "style": "bullet", "elements": [
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "raise the limit"}]},
            {"type": "rich_text_section", "elements": [{"type": "text", "text": "ask "}, {"type": "user", "user_id": "U0BOB"}]},
        ]},
        {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "kubectl get pods"}]},
    ]},
]  # fmt: skip


def test_render_what_a_person_sees_with_numbered_buttons(slack: FakeSlackApi) -> None:
    web = client(slack)
    ts = web.chat_postMessage(channel=C, text="INC-7 verdict", blocks=VERDICT)["ts"]
    screen = Buttons()
    assert slack.render(C, ts, screen) == "\n".join([
        "INC-7 🚨",
        "═══════",
        "Verdict: OOM in @alice's deploy, see dashboard (https://grafana.example/d/1) & #incidents",
        "[1] Logs",
        "Service\napi-gateway",
        "SEV2",
        "─" * 40,
        "[2] ✅ Approve  [3] Reject",
        "read-only probes · 3 of 3 done",
        "• raise the limit",
        "• ask @bob",
        "```\nkubectl get pods\n```",
    ])  # fmt: skip
    approve = screen[2]
    assert (approve.action_id, approve.value, approve.block_id) == ("approve", "fix-9", "remediations")
    assert (approve.message_ts, approve.channel, approve.style) == (ts, C, "primary")
    assert approve.confirm is not None and screen[1].block_id  # Slack gave the section a block_id
    other = web.chat_postMessage(channel=C, text="more", blocks=[VERDICT[4]], thread_ts=ts)["ts"]
    assert slack.render(C, other, screen) == "[4] ✅ Approve  [5] Reject"
    slack.render(C, ts, screen)  # drawn again: the same numbers
    assert len(screen) == 5 and screen[5].message_ts == other and screen.get(6) is None


def test_render_plain_dicts_and_text_only_messages() -> None:
    clicked = {"type": "message", "ts": "1678252213.679169", "text": "This is a section block with a button.",
               "blocks": [{"type": "section", "block_id": "8KR",
                           "text": {"type": "mrkdwn", "text": "This is a section block with a button."},
                           "accessory": {"type": "button", "action_id": "button", "value": "clicked",
                                         "text": {"type": "plain_text", "text": "Click Me"}}}]}  # fmt: skip
    screen = Buttons()
    assert (
        render_message(clicked, screen, channel="C111")
        == "This is a section block with a button.\n[1] Click Me"
    )
    assert (screen[1].block_id, screen[1].channel, screen[1].value) == ("8KR", "C111", "clicked")
    text_only = {"ts": "1.1", "text": "*deploy* _done_ ~maybe~ <!here> :tada: snake_case_name a*b"}
    assert render_message(text_only) == "deploy done maybe @here 🎉 snake_case_name a*b"
    assert render_message({"text": "5xx &gt; 2%\n&gt; users see errors"}) == "5xx > 2%\n│ users see errors"
    link = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Runbook"},
        "url": "https://x.example/rb",
    }
    assert (
        render_message({"blocks": [{"type": "actions", "elements": [link]}]})
        == "[1] Runbook <https://x.example/rb>"
    )


def test_tokens_in_the_body_work_too(slack: FakeSlackApi) -> None:
    web = WebClient(base_url=slack.api_url)
    assert web.auth_test(token=TOKEN)["ok"]
    started = time.time()
    assert slack.calls()[0].time <= started
