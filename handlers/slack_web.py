"""Every Slack Web API call goes through here: one client that honours 429 Retry-After, and live messages
whose updates are coalesced (chat.update is Tier 3, shared by every incident in the workspace)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

UPDATE_INTERVAL_S = 1.0  # at most about one chat.update per second per message


def web_client(token: str, base_url: str | None = None) -> WebClient:
    """The bot's client; `base_url` (SLACK_API_URL) points it at a local stand-in for tests and the shell."""
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return client


class LiveMessage:
    """A posted message that changes often: the latest content wins, sent at most once per interval.

    `update()` never blocks on Slack; `close()` sends the final content at once and stops the timer.
    """

    def __init__(
        self,
        client: WebClient,
        channel: str,
        ts: str,
        interval: float = UPDATE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.channel, self.ts, self.interval, self.clock = client, channel, ts, interval, clock
        self._lock = threading.Lock()
        self._pending: dict[str, Any] | None = None
        self._timer: threading.Timer | None = None
        self._last_sent = float("-inf")
        self.sent = 0

    def update(self, text: str, blocks: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending = {"text": text, "blocks": blocks}
            if self._timer is not None:
                return  # a flush is already scheduled; it will send this newest content
            wait = max(0.0, self._last_sent + self.interval - self.clock())
            self._timer = threading.Timer(wait, self._flush)
            self._timer.daemon = True
            self._timer.start()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._flush()

    def _flush(self) -> None:
        with self._lock:
            content, self._pending, self._timer = self._pending, None, None
            if content is None:
                return
            self._last_sent = self.clock()
            self.sent += 1
            # Sent under the lock so two flushes can never reorder an older content over a newer one.
            self.client.chat_update(channel=self.channel, ts=self.ts, **content)
