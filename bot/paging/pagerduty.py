"""PagerDuty Events API v2: typed events that PagerDuty will accept, and one attempt to deliver one.

The models check PagerDuty's documented rules (developer-docs `events-API-v2/02-Trigger-Events.md`, api-schema
`reference/events-v2/openapiv3.json`) before anything is sent, so a 400 means PagerDuty changed, not that we
built a bad event. `send` posts once and says what to do next:

- `delivered`: 202, with the dedup_key PagerDuty keeps the alert under;
- `retry`: 429, 5xx, 408, a timeout or a connection error, with a backoff (`Retry-After` when given);
- `rejected`: 400 and other answers retrying cannot fix, with PagerDuty's errors.

`trigger_for`, `acknowledge_for` and `resolve_for` map an incident to its events: one alert per incident, its
dedup_key the incident id, so a retried trigger never pages twice and acknowledge/resolve find the alert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.errors import ChatOpsError
from bot.incidents import redact_data
from bot.redaction import redact
from bot.severity import Sev

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
CLIENT = "incident-chatops"
DEFAULT_TIMEOUT_S = 10.0
SUMMARY_MAX, DEDUP_KEY_MAX = 1024, 255  # 02-Trigger-Events.md; PagerDuty rejects a longer summary (400)
MAX_EVENT_BYTES = 512 * 1024  # 01-Overview.md, "Size Limits"
RATE_LIMITED_BACKOFF_S = (
    30.0  # 05-Rate-Limits.md: "retrying 3 times with each request being 30 seconds apart"
)
BACKOFF_S = 5.0  # 5xx and network errors: "retry after some time"
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")
_URL = r"^https?://\S+$"


class Severity(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class EventAction(StrEnum):
    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


SEVERITY_FOR_SEV = {
    Sev.SEV1: Severity.CRITICAL,
    Sev.SEV2: Severity.ERROR,
    Sev.SEV3: Severity.WARNING,
    Sev.SEV4: Severity.INFO,
}


class InvalidEventError(ChatOpsError):
    """An event PagerDuty would refuse (a routing key of the wrong form, a blank source, ...)."""


def is_routing_key(text: str) -> bool:
    """Whether the text has the form of an Events API v2 integration key: 32 letters and digits."""
    return bool(_ROUTING_KEY.match(text))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Link(_Strict):
    href: str = Field(pattern=_URL)
    text: str | None = None


class Image(_Strict):
    src: str = Field(pattern=r"^https://\S+$", description="PagerDuty shows only images served over HTTPS")
    href: str | None = Field(None, pattern=_URL)
    alt: str | None = None


class Payload(_Strict):
    """The PD-CEF fields of a trigger; the summary and details are redacted before anything checks them."""

    summary: str
    source: str = Field(pattern=r"\S")
    severity: Severity
    timestamp: AwareDatetime | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(None, alias="class")
    custom_details: dict[str, Any] | None = None

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        value = redact(value)
        if not value.strip():
            raise ValueError("must not be blank")
        if len(value) > SUMMARY_MAX:
            raise ValueError(f"is {len(value)} characters; PagerDuty refuses more than {SUMMARY_MAX}")
        return value

    @field_validator("custom_details")
    @classmethod
    def _details(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else dict(redact_data(value))


class PagerDutyEvent(_Strict):
    """One alert event: a trigger (with a payload), or an acknowledge or resolve of a dedup_key."""

    routing_key: SecretStr  # anyone holding it can page: kept out of reprs and logs
    event_action: EventAction
    dedup_key: str | None = Field(None, min_length=1, max_length=DEDUP_KEY_MAX)
    payload: Payload | None = None
    client: str | None = None
    client_url: str | None = Field(None, pattern=_URL)
    links: list[Link] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)

    @field_validator("routing_key")
    @classmethod
    def _routing_key(cls, value: SecretStr) -> SecretStr:
        key = value.get_secret_value()
        if not is_routing_key(key):
            # Never echo the key: say only what is wrong with it.
            raise ValueError(
                f"must be an Events API v2 integration key (32 letters and digits); got {len(key)} characters"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _fits(cls, data: Any) -> Any:
        # Measured before the fields are read (and redacted), so an oversized event is refused at once.
        size = len(json.dumps(data, default=str).encode())
        if size > MAX_EVENT_BYTES:
            raise ValueError(f"the event is {size // 1024} KB; PagerDuty refuses more than 512 KB")
        return data

    @model_validator(mode="after")
    def _action_needs(self) -> PagerDutyEvent:
        if self.event_action is EventAction.TRIGGER and self.payload is None:
            raise ValueError("a trigger needs a payload (summary, source, severity)")
        if self.event_action is not EventAction.TRIGGER and not self.dedup_key:
            raise ValueError(f"{self.event_action.value} needs the dedup_key of the alert")
        return self

    def body(self) -> dict[str, Any]:
        """The JSON body to post."""
        body = self.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"routing_key"})
        body = {key: value for key, value in body.items() if value != []}
        return {"routing_key": self.routing_key.get_secret_value(), **body}


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Delivery:
    """What one attempt came to; `message` and `errors` are PagerDuty's words when it answered."""

    outcome: Outcome
    status: int | None = None  # HTTP status; None when there was no answer
    dedup_key: str | None = None  # delivered: the key PagerDuty keeps the alert under
    message: str = ""
    errors: tuple[str, ...] = ()
    retry_after_s: float | None = None  # retry: wait at least this long


def send(
    event: PagerDutyEvent, url: str, http: httpx.Client, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Delivery:
    """Post the event once and classify the answer; never raises for what PagerDuty or the network does."""
    try:
        response = http.post(url, json=event.body(), timeout=timeout_s)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as err:
        return Delivery(Outcome.REJECTED, message=f"the events URL is not an http(s) URL: {err}")
    except httpx.TimeoutException:
        return Delivery(Outcome.RETRY, message=f"no answer within {timeout_s:g} s", retry_after_s=BACKOFF_S)
    except httpx.TransportError as err:
        return Delivery(Outcome.RETRY, message=f"could not reach PagerDuty: {err}", retry_after_s=BACKOFF_S)
    return classify(response, event.dedup_key)


def classify(response: httpx.Response, sent_dedup_key: str | None = None) -> Delivery:
    """The outcome of PagerDuty's answer (01-Overview.md, "Response Codes & Retry Logic")."""
    status = response.status_code
    message, errors, body = _explain(response)
    if 200 <= status < 300:
        answered = body.get("dedup_key")
        dedup_key = answered if isinstance(answered, str) and answered else sent_dedup_key
        return Delivery(Outcome.DELIVERED, status, dedup_key, message, errors)
    if status in (408, 429) or status >= 500:
        default = RATE_LIMITED_BACKOFF_S if status == 429 else BACKOFF_S
        wait = retry_after(response)
        return Delivery(Outcome.RETRY, status, None, message, errors, default if wait is None else wait)
    return Delivery(Outcome.REJECTED, status, None, message, errors)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a `Retry-After` header: delay-seconds, or an HTTP-date against the answer's `Date`."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        until, sent = parsedate_to_datetime(value), parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None  # an HTTP-date needs the answer's own Date to mean anything here
    return max(0.0, (until - sent).total_seconds())


def trigger_for(
    routing_key: str | SecretStr,
    incident_id: str,
    title: str,
    service: str,
    sev: Sev,
    thread_url: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> PagerDutyEvent:
    """The trigger that pages for an incident: `[SEV-1] api-gateway: <title>`, linked to its Slack thread.

    `details` go into the alert's custom details beside the incident's; `at` is when the incident opened, which
    PagerDuty shows even when the event is delivered late.

    Raises:
        InvalidEventError: when PagerDuty would refuse it (e.g. a routing key of the wrong form).
    """
    custom = {**(details or {}), "incident": incident_id, "service": service, "severity": sev.value}
    if thread_url:
        custom["slack_thread"] = thread_url
    payload = {
        "summary": fit_summary(f"[{sev.value}] {service}: {title}"),
        "source": service,
        "severity": SEVERITY_FOR_SEV[sev],
        "timestamp": at,
        "custom_details": custom,
    }
    links = [{"href": thread_url, "text": f"Slack thread of {incident_id}"}] if thread_url else []
    return _event(
        routing_key,
        EventAction.TRIGGER,
        incident_id,
        payload=payload,
        client=CLIENT,
        client_url=thread_url,
        links=links,
    )


def acknowledge_for(routing_key: str | SecretStr, incident_id: str) -> PagerDutyEvent:
    """Acknowledge the incident's alert: PagerDuty stops notifying while someone works on it."""
    return _event(routing_key, EventAction.ACKNOWLEDGE, incident_id)


def resolve_for(routing_key: str | SecretStr, incident_id: str) -> PagerDutyEvent:
    """Resolve the incident's alert."""
    return _event(routing_key, EventAction.RESOLVE, incident_id)


def fit_summary(text: str) -> str:
    """The text, redacted, cut to PagerDuty's 1024 characters (a long title must not stop a page)."""
    # Only the start is shown: redact no more than can be kept, as a huge title would take long to redact.
    text = " ".join(redact(text[: 4 * SUMMARY_MAX]).split())
    return text if len(text) <= SUMMARY_MAX else f"{text[: SUMMARY_MAX - 1]}…"


def _event(
    routing_key: str | SecretStr, action: EventAction, dedup_key: str, **fields: Any
) -> PagerDutyEvent:
    try:
        return PagerDutyEvent.model_validate(
            {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key, **fields}
        )
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors()
        )
        raise InvalidEventError(
            f"PagerDuty would refuse the {action.value} for {dedup_key}: {problems}"
        ) from None


def _explain(response: httpx.Response) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """PagerDuty's message and errors, from a JSON body or (e.g. "Invalid routing key") a plain one."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text or f"HTTP {response.status_code}"), ((text,) if text else ()), {}
    if not isinstance(body, dict):
        return f"HTTP {response.status_code}", (), {}
    message, errors = body.get("message"), body.get("errors")
    return (
        message if isinstance(message, str) else f"HTTP {response.status_code}",
        tuple(str(e) for e in errors) if isinstance(errors, list) else (),
        body,
    )
