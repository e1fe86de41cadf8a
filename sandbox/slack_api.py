"""A local stand-in for the Slack Web API: `slack_sdk.WebClient(token=TOKEN, base_url=fake.api_url)` works unchanged.

`POST` (or `GET`) `/api/<method>`, the token as `Authorization: Bearer` or a `token` parameter, the body
form-encoded (JSON-valued fields such as `blocks` as strings) or JSON. Answers as Slack's: HTTP 200 with
`{"ok": true, ...}` or `{"ok": false, "error": ...}`, HTTP 429 + `Retry-After` when rate limited. Methods:
auth.test, chat.postMessage / update / postEphemeral / getPermalink, conversations.info / history / replies,
reactions.add, users.info, usergroups.users.list, views.open / push / update / publish,
apps.connections.open (only with `app_token`: the `socket_url` of a sandbox.socket_mode stand-in) and the
three steps of `files_upload_v2` (files.getUploadURLExternal, `POST /upload/v1/<file id>` here,
files.completeUploadExternal); others are `unknown_method`. Stricter than Slack: an unknown `thread_ts` is
`thread_not_found`. Messages and their checks: sandbox.slack_render; Block Kit checks: sandbox.block_kit.

Modals need a trigger_id: `trigger_id(user)` issues one as an interaction would; it works once, within 3 s of
the stand-in's clock (`invalid_trigger_id`, `exchanged_trigger_id`, `expired_trigger_id` otherwise).

State for tests and the shell: `messages()`, `thread()`, `ephemerals()`, `files`, `views`, `view(id)`,
`modal(user)`, `home(user)`, `usergroups`, `calls()`; `render()` and `render_view()` draw what a person sees;
`say()` posts as a person; `add_channel()`, `add_user()` and `add_usergroup()` furnish the workspace.
`limit()` and `fail_next()` make it refuse calls as Slack does.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from sandbox import block_kit
from sandbox.serving import QuietServer, serve, stop
from sandbox.slack_render import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_ID,
    Buttons,
    Edit,
    Message,
    SlackError,
    checked_content,
    fill_in_ids,
    render_message,
    render_view,
    short_id,
)

TOKEN, TEAM_DOMAIN = "xoxb-sandbox-bot-token", "sandbox"
CHANNEL_ID, CHANNEL_NAME = "C0INCIDENTS", "incidents"
PEOPLE = {"U0ALICE": "alice", "U0BOB": "bob"}
USERGROUPS = {"S0ONCALL": ("platform-oncall", ["U0ALICE", "U0BOB"])}  # sandbox.config_yaml's on-call group
MAX_HOOK_USES, HOOK_TTL_S = 5, 30 * 60  # a response_url works 5 times within 30 minutes
JSON_FIELDS = ("blocks", "attachments", "view", "files", "metadata")
TRIGGER_TTL = 3.0  # seconds a trigger_id can open a modal (Slack's modals guide)
MAX_STACK = 3  # views.push: push_limit_reached, "Currently the limit is 3"
MAX_VIEW_BYTES = 250_000  # views.*: view_too_large, "greater than 250kb"
Json = dict[str, Any]


@dataclass(frozen=True)
class Call:
    method: str
    params: Json  # the token left out
    time: float
    status: int = 200  # HTTP status answered
    error: str | None = None  # Slack's error code, None when ok


@dataclass
class Trigger:
    """A trigger_id the stand-in issued: for whom, when, and whether a view was opened with it already."""

    user: str
    issued: float
    exchanged: bool = False


@dataclass
class Hook:
    """A response_url: who it answers, where, and how often it was used."""

    user: str
    channel: str
    message_ts: str | None
    issued: float
    uses: int = 0


@dataclass
class UploadedFile:
    id: str
    name: str
    length: int
    title: str = ""
    content: bytes | None = None  # None until the upload URL received it
    channel: str | None = None  # where files.completeUploadExternal shared it
    thread_ts: str | None = None
    initial_comment: str = ""

    @property
    def text(self) -> str:
        return (self.content or b"").decode("utf-8", "replace")

    def to_api(self) -> Json:
        return {"id": self.id, "name": self.name, "title": self.title or self.name, "size": len(self.content or b""),
                "user": BOT_USER_ID, "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{self.id}"}  # fmt: skip


class FakeSlackApi:
    """`with FakeSlackApi() as slack:` serves until the block ends; `WebClient(token=TOKEN, base_url=slack.api_url)`."""

    def __init__(self, token: str = TOKEN, clock: Callable[[], float] = time.time, app_token: str | None = None,
                 socket_url: str | None = None) -> None:  # fmt: skip
        self.token, self.clock = token, clock
        self.app_token, self.socket_url = app_token, socket_url  # Socket Mode: sandbox.socket_mode
        self.channels: dict[str, Json] = {}
        self.users: dict[str, Json] = {}
        self.files: dict[str, UploadedFile] = {}
        self.usergroups: dict[str, Json] = {}
        self._views: dict[str, Json] = {}  # view id -> the view as Slack keeps it (its latest version)
        self._viewers: dict[str, str] = {}  # view id -> the user who sees it
        self._hooks: dict[str, Hook] = {}  # response_url id -> what it answers
        self._stacks: dict[str, list[str]] = {}  # user -> their open modal's view ids, root first
        self._homes: dict[str, str] = {}  # user -> their Home tab's view id
        self._triggers: dict[str, Trigger] = {}
        self._messages: dict[str, list[Message]] = {}
        # Messages by (channel, ts), found at once as Slack finds them: a scan made each update cost as much as the
        # channel's history, and a benchmark's stand-in slowed down run after run.
        self._by_ts: dict[tuple[str, str], Message] = {}
        self._ephemerals: list[Message] = []
        self._calls: list[Call] = []
        self._limits: dict[str, tuple[int, float, bool]] = {}  # method -> (calls, window s, per channel)
        self._accepted: dict[tuple[str, str], list[float]] = {}
        self._failures: dict[str, list[tuple[int, int, str]]] = {}  # method -> [(status, retry_after, error)]
        self._last_us, self._serial = 0, 0
        self._lock = threading.RLock()
        self._server: QuietServer | None = None
        self.add_channel(CHANNEL_ID, CHANNEL_NAME)
        self.add_user(BOT_USER_ID, BOT_NAME, is_bot=True)
        for user_id, name in PEOPLE.items():
            self.add_user(user_id, name)
        for group_id, (handle, members) in USERGROUPS.items():
            self.add_usergroup(group_id, handle, members)
        self._methods: dict[str, Callable[[Json], Json]] = {
            "auth.test": self._auth_test, "chat.postMessage": self._post_message, "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral, "chat.getPermalink": self._permalink,
            "conversations.info": self._conversation_info, "conversations.history": self._history,
            "conversations.replies": self._replies, "reactions.add": self._react, "users.info": self._user_info,
            "files.getUploadURLExternal": self._upload_url, "files.completeUploadExternal": self._complete_upload,
            "views.open": self._open_view, "views.push": self._push_view, "views.update": self._update_view,
            "views.publish": self._publish_view, "usergroups.users.list": self._usergroup_users,
            "files.upload": self._deprecated, "apps.connections.open": self._open_connection,
        }  # fmt: skip

    # --- what tests and the shell use ---

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        """The `base_url` for WebClient (with the trailing slash it needs)."""
        return f"{self.url}/api/"

    def __enter__(self) -> FakeSlackApi:
        self._server = serve(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self._server)

    def add_channel(self, channel_id: str, name: str, is_private: bool = False) -> None:
        self.channels[channel_id] = {"id": channel_id, "name": name, "is_channel": True, "is_private": is_private,
                                     "is_archived": False, "is_member": True, "created": 1_700_000_000,
                                     "context_team_id": TEAM_ID}  # fmt: skip

    def add_user(self, user_id: str, name: str, real_name: str | None = None, is_bot: bool = False) -> None:
        real_name = real_name or name.title()
        profile = {"real_name": real_name, "display_name": name, "team": TEAM_ID}
        self.users[user_id] = {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": real_name,
                               "deleted": False, "is_bot": is_bot, "is_admin": False, "tz": "Europe/London",
                               "profile": profile}  # fmt: skip

    def add_usergroup(
        self, usergroup_id: str, handle: str, users: list[str], name: str | None = None
    ) -> None:
        """A user group (`<!subteam^ID>` pings its members); its users must exist already."""
        unknown = [u for u in users if u not in self.users]
        if unknown:
            raise ValueError(f"no such users: {unknown}")
        self.usergroups[usergroup_id] = {"id": usergroup_id, "team_id": TEAM_ID, "handle": handle,
                                         "name": name or handle, "is_usergroup": True, "users": list(users),
                                         "user_count": len(users), "date_delete": 0}  # fmt: skip

    def trigger_id(self, user: str) -> str:
        """A trigger_id as an interaction by `user` brings (a slash command, a click): it opens one view."""
        if user not in self.users:
            raise ValueError(f"no such user: {user}")
        with self._lock:
            self._serial += 1
            trigger = f"{int(self.clock())}.{self._serial}.{short_id(f'trigger/{self._serial}')}"
            self._triggers[trigger] = Trigger(user, self.clock())
            return trigger

    def limit(self, method: str, per_minute: int | None = None, per_second: int | None = None,
              per_channel: bool = False) -> None:  # fmt: skip
        """Answer 429 past this many accepted calls in the last 60 s (or 1 s), across the workspace or per channel."""
        calls = per_second if per_second is not None else per_minute or 0
        self._limits[method] = (calls, 1.0 if per_second is not None else 60.0, per_channel)

    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1,
                  error: str | None = None) -> None:  # fmt: skip
        """The next `times` calls of `method` get this HTTP status (200 with `error`: Slack's ok=false)."""
        default = {429: "ratelimited", 200: "internal_error"}.get(status, "fatal_error")
        self._failures.setdefault(method, []).extend([(status, retry_after, error or default)] * times)

    def calls(self, method: str | None = None, since: int = 0) -> list[Call]:
        """The calls made (of one method), in order; `since`: only those after the first `since` calls of all."""
        with self._lock:
            return [c for c in self._calls[since:] if method in (None, c.method)]

    def messages(self, channel: str = CHANNEL_ID, top_level: bool = False) -> list[Message]:
        """Every message in the channel in posting order, thread replies included unless `top_level`."""
        with self._lock:
            found = self._messages.get(self._channel_id(channel), [])
            return [m for m in found if not (top_level and m.is_reply and m.subtype != "thread_broadcast")]

    def message(self, channel: str, ts: str) -> Message:
        with self._lock:
            return self._find(self._channel_id(channel), ts)

    def thread(self, channel: str, ts: str) -> list[Message]:
        """The parent and its replies, as conversations.replies lists them."""
        with self._lock:
            parent = self._find(self._channel_id(channel), ts)
            return [parent, *parent.replies]

    def ephemerals(self, user: str) -> list[Message]:
        with self._lock:
            return [m for m in self._ephemerals if m.ephemeral_to == user]

    @property
    def views(self) -> list[Json]:
        """Every view opened, pushed or published, as it is now, oldest first."""
        with self._lock:
            return list(self._views.values())

    def view(self, view_id: str) -> Json:
        with self._lock:
            return self._views[view_id]

    def response_url(self, user: str, channel: str, message_ts: str | None) -> str:
        """The response_url an interaction brings: it works 5 times within 30 minutes (Slack's rule), and
        `replace_original` / `delete_original` act on the message the interaction came from."""
        with self._lock:
            hook = self._id("R")
            self._hooks[hook] = Hook(user, channel, message_ts, self.clock())
            return f"{self.url}/response/{hook}"

    def close_modal(self, user: str) -> None:
        """The person's modal closes (Slack closes it when a submission is acknowledged without errors)."""
        with self._lock:
            self._stacks.pop(user, None)

    def modal(self, user: str) -> Json | None:
        """The modal `user` sees now (the top of their stack), if any."""
        with self._lock:
            stack = self._stacks.get(user)
            return self._views[stack[-1]] if stack else None

    def home(self, user: str) -> Json | None:
        """The Home tab published for `user`, if any."""
        with self._lock:
            return self._views.get(self._homes.get(user, ""))

    def say(self, user: str, channel: str, text: str, thread_ts: str | None = None) -> Message:
        """A person's message (they type, no API call): for the shell and for tests."""
        with self._lock:
            params = {"channel": channel, "text": text, "thread_ts": thread_ts}
            return self._add(params, self._content(params), user=user, bot_id=None)

    def render(self, channel: str, ts: str, buttons: Buttons | None = None) -> str:
        """What a person sees of that message, with names filled in for mentions."""
        return render_message(self.message(channel, ts), buttons, names=self._name)

    def render_view(self, view_id: str, buttons: Buttons | None = None) -> str:
        """What a person sees of that modal or Home tab: its inputs as fields to fill in."""
        return render_view(self.view(view_id), buttons, names=self._name)

    def _name(self, ident: str) -> str | None:
        return (self.users.get(ident) or self.channels.get(ident) or self.usergroups.get(ident) or {}).get(
            "name"
        )

    # --- serving ---

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers: dict[str, str] = {}
        if parts.path.startswith("/upload/v1/") and handler.command == "POST":
            status, answer = self._receive_upload(parts.path.rsplit("/", 1)[-1], body)
        elif parts.path.startswith("/response/") and handler.command == "POST":
            with self._lock:
                status, answer = self._respond(parts.path.rsplit("/", 1)[-1], body)
        elif parts.path.startswith("/api/"):
            params = dict(parse_qsl(parts.query)) | _body_params(handler.headers.get("Content-Type"), body)
            bearer = handler.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            with self._lock:
                status, data, headers = self._api(parts.path[len("/api/") :], params, bearer)
            answer = json.dumps(data)
        else:
            status, answer = 404, "Not Found"
        payload = answer.encode()
        headers["Content-Type"] = (
            f"{'application/json' if answer.startswith('{') else 'text/plain'}; charset=utf-8"
        )
        headers["Content-Length"] = str(len(payload))
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:  # the client hung up
            pass

    def _api(self, method: str, params: Json, bearer: str) -> tuple[int, Json, dict[str, str]]:
        token = str(params.pop("token", "") or bearer)
        params = {k: _decode(k, v) for k, v in params.items() if v is not None}
        status, headers, now = 200, {}, self.clock()
        failures = self._failures.get(method)
        if not token or token not in (self.token, self.app_token):
            data: Json = {"ok": False, "error": "not_authed" if not token else "invalid_auth"}
        elif (token == self.app_token) != (method == "apps.connections.open"):  # app-level token: only there
            data = {"ok": False, "error": "not_allowed_token_type"}
        elif failures:
            status, retry_after, error = failures.pop(0)
            data = {"ok": False, "error": error}
            headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        elif (wait := self._rate_limited(method, params, now)) is not None:
            status, headers = 429, {"Retry-After": str(wait)}
            data = {"ok": False, "error": "ratelimited"}
        elif method not in self._methods:
            data = {"ok": False, "error": "unknown_method", "req_method": method}
        else:
            try:
                data = {"ok": True, **self._methods[method](params)}
            except SlackError as failure:
                data = {"ok": False, "error": failure.error, **failure.extra}
            except (AttributeError, KeyError, TypeError, ValueError):  # arguments of the wrong shape
                data = {"ok": False, "error": "invalid_arguments"}
        self._calls.append(Call(method, params, now, status, data.get("error")))
        return status, data, headers

    def _rate_limited(self, method: str, params: Json, now: float) -> int | None:
        """Seconds to wait when this call is over the method's limit; else None (and the call counts)."""
        if method not in self._limits:
            return None
        calls, window, per_channel = self._limits[method]
        key = (method, str(params.get("channel", "")) if per_channel else "")
        recent = [t for t in self._accepted.get(key, []) if t > now - window]
        self._accepted[key] = recent
        if len(recent) >= calls:
            return max(1, math.ceil(recent[0] + window - now)) if recent else math.ceil(window)
        recent.append(now)
        return None

    # --- state ---

    def _ts(self) -> str:
        self._last_us = max(int(self.clock() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def _id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}0{self._serial:08X}"

    def _channel_id(self, ref: Any) -> str:
        ref = str(ref or "")
        if ref in self.channels:
            return ref
        found = [cid for cid, c in self.channels.items() if c["name"] == ref.lstrip("#")]
        if not found:
            raise SlackError("channel_not_found")
        return found[0]

    def _find(self, channel: str, ts: Any, error: str = "message_not_found") -> Message:
        msg = self._by_ts.get((channel, ts)) if isinstance(ts, str) else None
        if msg is None:
            raise SlackError(error)
        return msg

    def _user(self, user_id: Any) -> Json:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def _content(self, params: Json) -> tuple[str, list[Json], list[Json]]:
        return checked_content(params, seed=str(self._last_us))

    def _add(self, params: Json, content: tuple[str, list[Json], list[Json]], **fields: Any) -> Message:
        channel = self._channel_id(params.get("channel"))
        parent = None
        if params.get("thread_ts"):
            parent = self._find(channel, params["thread_ts"], "thread_not_found")
            parent = self._find(channel, parent.thread_ts) if parent.is_reply else parent
        broadcast = parent is not None and str(params.get("reply_broadcast")).lower() in ("1", "true")
        text, blocks, attachments = content
        msg = Message(channel, self._ts(), text, blocks, attachments=attachments,
                      thread_ts=parent.ts if parent else None, subtype="thread_broadcast" if broadcast else None,
                      **fields)  # fmt: skip
        if parent is not None:
            parent.thread_ts = parent.ts
            parent.replies.append(msg)
        self._messages.setdefault(channel, []).append(msg)
        self._by_ts[(channel, msg.ts)] = msg
        return msg

    # --- methods ---

    def _auth_test(self, params: Json) -> Json:
        return {"url": f"https://{TEAM_DOMAIN}.slack.com/", "team": TEAM_DOMAIN.title(), "user": BOT_NAME,
                "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}  # fmt: skip

    def _post_message(self, params: Json) -> Json:
        self._channel_id(params.get("channel"))
        msg = self._add(params, self._content(params))
        return {"channel": msg.channel, "ts": msg.ts, "message": msg.to_api()}

    def _update(self, params: Json) -> Json:
        channel = self._channel_id(params.get("channel"))
        msg = self._find(channel, params.get("ts"))
        if msg.bot_id != BOT_ID:
            raise SlackError("cant_update_message")
        text, blocks, attachments = self._content({"text": msg.text, "blocks": msg.blocks, **params})
        msg.edits.append(Edit(self._ts(), msg.text, msg.blocks))
        msg.text, msg.blocks, msg.attachments = text, blocks, attachments or msg.attachments
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.to_api()}

    def _post_ephemeral(self, params: Json) -> Json:
        channel, user = self._channel_id(params.get("channel")), self._user(params.get("user"))["id"]
        text, blocks, attachments = self._content(params)
        msg = Message(channel, self._ts(), text, blocks, attachments=attachments, thread_ts=params.get("thread_ts"),
                      ephemeral_to=user)  # fmt: skip
        self._ephemerals.append(msg)
        return {"message_ts": msg.ts}

    def _permalink(self, params: Json) -> Json:
        channel = self._channel_id(params.get("channel"))
        msg = self._find(channel, params.get("message_ts"))
        link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{msg.ts.replace('.', '')}"
        if msg.is_reply:
            link += f"?thread_ts={msg.thread_ts}&cid={channel}"
        return {"channel": channel, "permalink": link}

    def _conversation_info(self, params: Json) -> Json:
        return {"channel": self.channels[self._channel_id(params.get("channel"))]}

    def _history(self, params: Json) -> Json:
        top = self.messages(self._channel_id(params.get("channel")), top_level=True)
        return _page([m.to_api() for m in reversed(top)], params)

    def _replies(self, params: Json) -> Json:
        channel = self._channel_id(params.get("channel"))
        msg = self._find(channel, params.get("ts"), "thread_not_found")
        thread = self.thread(channel, msg.thread_ts if msg.is_reply else msg.ts)  # type: ignore[arg-type]
        return _page([m.to_api() for m in thread], params)

    def _react(self, params: Json) -> Json:
        msg = self._find(self._channel_id(params.get("channel")), params.get("timestamp"))
        name = str(params.get("name") or "").strip(":")
        if not name:
            raise SlackError("invalid_name")
        if BOT_USER_ID in msg.reactions.get(name, []):
            raise SlackError("already_reacted")
        msg.reactions.setdefault(name, []).append(BOT_USER_ID)
        return {}

    def _user_info(self, params: Json) -> Json:
        return {"user": self._user(params.get("user"))}

    def _upload_url(self, params: Json) -> Json:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            raise SlackError("invalid_arguments")
        upload = UploadedFile(self._id("F"), str(params["filename"]), int(params["length"]))
        self.files[upload.id] = upload
        return {"upload_url": f"{self.url}/upload/v1/{upload.id}", "file_id": upload.id}

    def _respond(self, hook_id: str, body: bytes) -> tuple[int, str]:
        hook = self._hooks.get(hook_id)
        if hook is None:
            return 404, "no_active_hooks"
        if hook.uses >= MAX_HOOK_USES or self.clock() - hook.issued > HOOK_TTL_S:
            return 404, "expired_url" if hook.uses < MAX_HOOK_USES else "used_url"
        try:
            params = json.loads(body.decode() or "{}")
            content = self._content(params)
        except (ValueError, SlackError):
            return 400, "invalid_payload"
        hook.uses += 1
        original = (
            next((m for m in self._ephemerals if m.ts == hook.message_ts), None) if hook.message_ts else None
        )
        if original is not None and (params.get("replace_original") or params.get("delete_original")):
            original.edits.append(Edit(self._ts(), original.text, original.blocks))
            original.text, original.blocks = ("", []) if params.get("delete_original") else content[:2]
        else:
            self._ephemerals.append(
                Message(hook.channel, self._ts(), content[0], content[1], ephemeral_to=hook.user)
            )
        return 200, "ok"

    def _receive_upload(self, file_id: str, body: bytes) -> tuple[int, str]:
        with self._lock:
            if file_id not in self.files:
                return 404, "Not Found"
            self.files[file_id].content = body
            return 200, f"OK - {len(body)}"

    def _complete_upload(self, params: Json) -> Json:
        wanted = params.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise SlackError("invalid_arguments")
        uploads = [self.files.get(str(f.get("id"))) for f in wanted]
        if any(u is None or u.content is None for u in uploads):
            raise SlackError("file_not_found")
        channel = params.get("channel_id") or (str(params.get("channels") or "").split(",")[0] or None)
        channel = self._channel_id(channel) if channel else None
        done: list[UploadedFile] = [u for u in uploads if u is not None]
        for upload, spec in zip(done, wanted, strict=True):
            upload.title = str(spec.get("title") or upload.name)
            upload.channel, upload.thread_ts = channel, params.get("thread_ts")
            upload.initial_comment = str(params.get("initial_comment") or "")
        if channel:  # Slack shares the files as one message from the uploader
            share = {"channel": channel, "thread_ts": params.get("thread_ts")}
            msg = self._add(share, (str(params.get("initial_comment") or ""), [], []))
            msg.files = [u.to_api() for u in done]
        return {"files": [u.to_api() for u in done]}

    def _open_view(self, params: Json) -> Json:
        trigger, view = self._trigger(params), self._checked_view(params, "modal")
        opened = self._store_view(view, trigger.user)
        trigger.exchanged = True  # only once the view opened: a refused call leaves the trigger usable
        self._stacks[trigger.user] = [opened["id"]]
        return {"view": opened}

    def _push_view(self, params: Json) -> Json:
        trigger, view = self._trigger(params), self._checked_view(params, "modal")
        stack = self._stacks.get(trigger.user)
        if not stack:  # nothing open to push onto
            raise SlackError("not_found")
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        pushed = self._store_view(view, trigger.user, root_view_id=stack[0], previous_view_id=stack[-1])
        trigger.exchanged = True
        stack.append(pushed["id"])
        return {"view": pushed}

    def _update_view(self, params: Json) -> Json:
        if not (params.get("view_id") or params.get("external_id")):
            raise SlackError("invalid_arguments")
        found = self._views.get(str(params.get("view_id") or "")) or self._by_external_id(
            params.get("external_id")
        )
        if found is None:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != found["hash"]:
            raise SlackError("hash_conflict")
        view = self._checked_view(params, found["type"], replacing=found["id"])
        return {"view": self._store_view(view, self._viewers[found["id"]], replacing=found)}

    def _publish_view(self, params: Json) -> Json:
        user = params.get("user_id")
        if user not in self.users:  # the views.publish reference's example answer
            raise SlackError("invalid_arguments", response_metadata={"messages": ["invalid `user_id`"]})
        current = self._views.get(self._homes.get(user, ""))
        if current and params.get("hash") and params["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._checked_view(params, "home", replacing=current["id"] if current else None)
        published = self._store_view(view, user, replacing=current)
        self._homes[user] = published["id"]
        return {"view": published}

    def _trigger(self, params: Json) -> Trigger:
        if not params.get("trigger_id") or "view" not in params:
            raise SlackError("invalid_arguments")
        trigger = self._triggers.get(str(params["trigger_id"]))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.exchanged:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        return trigger

    def _checked_view(
        self, params: Json, surface: Literal["modal", "home"], replacing: str | None = None
    ) -> Json:
        """The `view` argument, or the error Slack answers for it."""
        view = params.get("view")
        if problems := block_kit.view_problems(view, surface):
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        assert isinstance(view, dict)  # view_problems would have said otherwise
        if len(json.dumps(view).encode()) > MAX_VIEW_BYTES:
            raise SlackError("view_too_large")
        owner = self._by_external_id(view.get("external_id"))
        if owner is not None and owner["id"] != replacing:
            raise SlackError("duplicate_external_id")
        return view

    def _by_external_id(self, external_id: Any) -> Json | None:
        return next(
            (v for v in self._views.values() if external_id and v["external_id"] == external_id), None
        )

    def _store_view(self, view: Json, user: str, replacing: Json | None = None, **links: str) -> Json:
        """The view as Slack keeps and returns it: ids, a fresh hash, generated block and action ids."""
        view_id = replacing["id"] if replacing else self._id("V")
        fill_in_ids(view.get("blocks") or [], f"{view_id}/{self._serial}")
        self._serial += 1
        stored = {"id": view_id, "team_id": TEAM_ID, "type": view["type"], "blocks": view.get("blocks") or [],
                  "private_metadata": "", "callback_id": "", "external_id": "", "state": {"values": {}},
                  "hash": f"{int(self.clock())}.{short_id(f'{view_id}/{self._serial}')}",
                  "clear_on_close": False, "notify_on_close": False, "root_view_id": view_id,
                  "previous_view_id": None, "app_id": APP_ID, "bot_id": BOT_ID, **view}  # fmt: skip
        if replacing:  # views.update and views.publish keep the view's place in the stack
            stored.update(
                root_view_id=replacing["root_view_id"], previous_view_id=replacing["previous_view_id"]
            )
        stored.update(links)
        self._views[view_id], self._viewers[view_id] = stored, user
        return stored

    def _usergroup_users(self, params: Json) -> Json:
        if not params.get("usergroup"):
            raise SlackError("invalid_arguments")
        group = self.usergroups.get(str(params["usergroup"]))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group["users"])}

    def _deprecated(self, params: Json) -> Json:
        raise SlackError("method_deprecated")

    def _open_connection(self, params: Json) -> Json:
        if not self.socket_url:  # no Socket Mode stand-in running
            raise SlackError("internal_error")
        return {"url": f"{self.socket_url}?ticket={self._id('T')}&app_id={APP_ID}"}


def _body_params(content_type: str | None, body: bytes) -> Json:
    if not body:
        return {}
    if (content_type or "").startswith("application/json"):
        parsed = _decode("blocks", body.decode("utf-8", "replace"))
        return parsed if isinstance(parsed, dict) else {}
    return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))


def _decode(key: str, value: Any) -> Any:
    """Form bodies carry JSON-valued fields as strings; Slack parses them (a bad one stays a string: rejected)."""
    if key in JSON_FIELDS and isinstance(value, str):
        try:
            return json.loads(value) if value else None
        except json.JSONDecodeError:
            return value
    return value


def _page(items: list[Json], params: Json) -> Json:
    start, size = int(params.get("cursor") or 0), int(params.get("limit") or 1000)
    more = start + size < len(items)
    return {"messages": items[start : start + size], "has_more": more,
            "response_metadata": {"next_cursor": str(start + size) if more else ""}}  # fmt: skip
