"""The incident thread's buttons. A button's value is an opaque id of state in the store; we trust nothing else
in the payload but the clicking user, and a stale or forged id changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack

from bot.errors import UnknownNameError
from handlers import blocks, messages
from handlers.commands.diagnose import refresh_root, run_playbook
from handlers.deps import Deps
from handlers.ids import ActionId
from handlers.routes import Route


def clicked(body: dict[str, Any], deps: Deps, kind: str) -> tuple[str, dict[str, Any]] | None:
    """(user, payload) of a click whose state exists and is of the expected kind."""
    state = deps.store.get_state(body["actions"][0].get("value", ""))
    if state is None or state[0] != kind:
        return None
    return body["user"]["id"], state[1]


def handle_set_severity_action(deps: Deps, body: dict[str, Any]) -> None:
    click = clicked(body, deps, "set_severity")
    if click is None:
        return
    user, payload = click
    incident = deps.store.set_severity(payload["incident"], payload["sev"], by=user, why=f"set by <@{user}>")
    if incident is not None and incident.thread_ts:  # None: it already was that SEV (a double click)
        refresh_root(deps, incident.id)
        deps.client.chat_postMessage(channel=incident.channel, thread_ts=incident.thread_ts,
                                     text=messages.severity_set(user, payload["sev"]))  # fmt: skip


def handle_run_playbook_action(deps: Deps, body: dict[str, Any]) -> None:
    click = clicked(body, deps, "run_playbook")
    if click is None or not deps.store.claim_state(body["actions"][0]["value"], by=click[0]):
        return  # unknown, or already pressed: run once
    user, payload = click
    try:
        playbook = deps.catalog.get(payload["playbook"])
    except UnknownNameError:
        return
    replace_pressed(deps, body, messages.ran(user, playbook.title))
    run_playbook(deps, payload["incident"], playbook, user)


def replace_pressed(deps: Deps, body: dict[str, Any], note: str) -> None:
    """Swap the pressed button for a note of who pressed it, so nobody presses it again."""
    message = body.get("message")  # Slack sends the message the button is on
    if not message:
        return
    pressed = body["actions"][0]["value"]
    deps.client.chat_update(channel=body["channel"]["id"], ts=message["ts"], text=message.get("text", ""),
                            blocks=blocks.without_button(message.get("blocks", []), pressed, note))  # fmt: skip


def handle_request_action_action(deps: Deps, body: dict[str, Any]) -> None:
    click = clicked(body, deps, "request_action")
    if click is None:
        return
    user, payload = click
    deps.store.append(payload["incident"], "action_requested", f"<@{user}> asked for a fix", user, payload)
    deps.client.chat_postEphemeral(channel=body["channel"]["id"], user=user, text=messages.APPROVALS_PENDING)


def routes(deps: Deps) -> list[Route]:
    def bind(handler: Callable[[Deps, dict[str, Any]], None]) -> Callable[..., None]:
        def on_click(ack: Ack, body: dict[str, Any]) -> None:
            ack()  # at once; what the click does happens in the background
            deps.later(handler, body, tell=(body["channel"]["id"], body["user"]["id"]))

        return on_click

    return [
        Route("action", ActionId.SET_SEVERITY.value, bind(handle_set_severity_action)),
        Route("action", ActionId.RUN_PLAYBOOK.value, bind(handle_run_playbook_action)),
        Route("action", ActionId.REQUEST_ACTION.value, bind(handle_request_action_action)),
    ]
