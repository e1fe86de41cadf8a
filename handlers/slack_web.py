"""Every Slack Web API call goes through here: one client that waits out 429s (Retry-After) and retries Slack's
transient failures with backoff, and live messages whose updates are coalesced (chat.update is Tier 3, shared by
every incident in the workspace) and whose final content is never lost."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.metrics import metrics

log = logging.getLogger("chatops")
UPDATE_INTERVAL_S = 1.0  # at most about one chat.update per second per message
# Failures Slack documents as temporary: worth another try (HTTP 200 with ok=false, or a 5xx).
TRANSIENT_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


class TransientErrorRetryHandler(RetryHandler):
    """Retries HTTP 5xx answers and `ok: false` with a transient error, with exponential backoff."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None:
            return False
        if response.status_code >= 500:
            return True
        body = response.body or {}
        return (
            response.status_code == 200 and body.get("ok") is False and body.get("error") in TRANSIENT_ERRORS
        )


class ErrorCounter(RetryHandler):
    """Counts every answer Slack refused (chatops_slack_api_errors_total), each try; never asks for a retry.
    The client shows every answer to its retry handlers, so first in line this one sees them all."""

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and (response.status_code != 200 or (response.body or {}).get("ok") is False):
            code = (response.body or {}).get("error") or f"http_{response.status_code}"
            metrics().slack_api_errors.labels(request.url.rsplit("/", 1)[-1], str(code)).inc()
        return False


class ProportionalJitter(Jitter):
    """Up to the interval again (0.5 s -> 0.5..1 s). The SDK's own jitter adds up to a whole second to every
    interval, however short the backoff asked for."""

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


def web_client(token: str, base_url: str | None = None, backoff_s: float = 0.5) -> WebClient:
    """The bot's client; `base_url` (SLACK_API_URL) points it at a local stand-in for tests and the shell."""
    client = WebClient(token=token, base_url=base_url or WebClient.BASE_URL)
    client.retry_handlers.insert(0, ErrorCounter())
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    client.retry_handlers.append(
        TransientErrorRetryHandler(
            max_retry_count=3,
            interval_calculator=BackoffRetryIntervalCalculator(backoff_s, ProportionalJitter()),
        )
    )
    return client


def slack_error(error: BaseException) -> str | None:
    """Slack's error code of a failed call (`not_in_channel`, `invalid_blocks`...), None for other errors."""
    return str(error.response.get("error")) if isinstance(error, SlackApiError) else None


class LiveMessage:
    """A posted message that changes often: the latest content wins, sent at most once per interval.

    `update()` never blocks on Slack; `close()` sends the final content at once and stops the timer. If Slack
    still refuses the final update, the content is posted as a new message in the thread instead, so the last
    state (every check finished) is always there to read.
    """

    def __init__(
        self,
        client: WebClient,
        channel: str,
        ts: str,
        thread_ts: str | None = None,
        interval: float = UPDATE_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client, self.channel, self.ts, self.thread_ts = client, channel, ts, thread_ts
        self.interval, self.clock = interval, clock
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

    def close(self, text: str, blocks: list[dict[str, Any]]) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._pending = {"text": text, "blocks": blocks}
        if not self._flush(final=True):
            self.client.chat_postMessage(
                channel=self.channel, thread_ts=self.thread_ts, text=text, blocks=blocks
            )

    def _flush(self, final: bool = False) -> bool:
        """Send the newest content; False when Slack refused it (an interim one only matters until the next)."""
        with self._lock:
            content, self._pending, self._timer = self._pending, None, None
            if content is None:
                return True
            self._last_sent = self.clock()
            self.sent += 1
            # Sent under the lock so two flushes can never reorder an older content over a newer one.
            try:
                self.client.chat_update(channel=self.channel, ts=self.ts, **content)
            except SlackApiError as error:
                log.warning(
                    "chat.update of %s failed%s: %s", self.ts, " (final)" if final else "", slack_error(error)
                )
                return False
            return True
