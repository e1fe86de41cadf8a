"""Pages through the outbox: a page is first kept in the store, then delivered; never lost, one alert each.

`message()` is a page as the store keeps it, one per (incident, routing key, action) — a repeat asks for nothing
new — and `flush()` delivers what is due, oldest first per incident (a trigger before its acknowledge before its
resolve), retrying 429s, 5xx and timeouts with backoff. Whoever flushes claims each message first (the store's
conditional write), so two processes or replicas flushing at once send each page once; a sender that dies
mid-send lets another send it again after the claim, which PagerDuty deduplicates by its dedup key. Routing keys
stay in the environment: the store keeps the variable's name, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, Protocol

import httpx

from bot.config import TIER_NAMES
from bot.errors import ChatOpsError
from bot.incidents import Incident, OutboxMessage, Outgoing, TimelineKind
from bot.paging import pagerduty
from bot.settings import Settings
from bot.severity import Sev
from bot.store import Store

Action = Literal["trigger", "acknowledge", "resolve"]
MAX_BACKOFF = timedelta(minutes=5)
BATCH = 20  # messages per flush: a reconcile tick stays bounded however many pages wait
SEND_PHASES = 4  # httpx applies the timeout to connecting, writing, reading and the pool, each
LEASE_MARGIN_S = 5.0


class PageView(Protocol):
    def page_refused(self, incident: Incident, tier: str, reason: str) -> None:
        """PagerDuty will not take this page (a bad routing key, say): people must know nobody was paged."""
        ...


@dataclass
class Pager:
    settings: Settings
    store: Store
    http: httpx.Client

    @staticmethod
    def message(
        incident: Incident, tier: str, key_env: str, action: Action, sev: Sev | None = None
    ) -> Outgoing:
        """The outbox message of a page (the store keeps it): one per (incident, routing key, action), ever, so a
        double click or a retry asks for nothing new."""
        payload = {"action": action, "tier": tier, "key_env": key_env, "incident": incident.id,
                   "title": incident.name, "service": incident.service, "sev": (sev or incident.severity or Sev.SEV1).value,
                   "thread_url": incident.permalink, "opened": incident.created_at.isoformat()}  # fmt: skip
        return Outgoing(f"page:{incident.id}:{key_env}:{action}", "pagerduty", payload)

    def paged_keys(self, incident_id: str) -> dict[str, str]:
        """The routing keys (env names) this incident's triggers went to, with their tier."""
        return {m.payload["key_env"]: m.payload["tier"] for m in self.store.outbox_of(incident_id)
                if m.payload.get("action") == "trigger" and m.state != "rejected"}  # fmt: skip

    def flush(self, view: PageView) -> int:
        """Deliver what is due now (a bounded batch per call); how many were delivered.

        Each message is claimed just before it is sent, for as long as one send can take: a sender that dies
        mid-send (after PagerDuty took the event, perhaps) holds it that long, then another sends it again,
        which PagerDuty deduplicates by the dedup key. So a page is delivered at least once, and opens one alert.
        """
        timeout = self.settings.config.paging.timeout_s
        lease = timedelta(seconds=SEND_PHASES * timeout + LEASE_MARGIN_S)
        delivered = 0
        for _ in range(BATCH):
            message = self.store.claim_outbox(lease)
            if message is None:
                break
            delivered += self._deliver(message, view)
        return delivered

    def _deliver(self, message: OutboxMessage, view: PageView) -> bool:
        payload = message.payload
        incident = self.store.get(message.incident_id)
        try:
            event = self._event(payload)
        except ChatOpsError as error:  # a missing or malformed key: retrying cannot help
            return self._refused(message, incident, str(error), view)
        delivery = pagerduty.send(
            event, self.settings.pagerduty_events_url, self.http, self.settings.config.paging.timeout_s
        )
        if delivery.outcome == pagerduty.Outcome.DELIVERED:
            self.store.outbox_done(message.id, "delivered")
            if incident is not None:
                self.store.append(incident.id, TimelineKind.PAGED, f"PagerDuty {payload['action']} to the {TIER_NAMES[payload['tier']]}",
                                  None, {"tier": payload["tier"], "action": payload["action"]})  # fmt: skip
            return True
        if delivery.outcome == pagerduty.Outcome.RETRY:
            backoff = timedelta(seconds=max(delivery.retry_after_s or 0, 5 * 2 ** min(message.attempts, 6)))
            self.store.outbox_done(
                message.id, "pending", delivery.message, retry_in=min(backoff, MAX_BACKOFF)
            )
            return False
        return self._refused(message, incident, "; ".join([delivery.message, *delivery.errors]), view)

    def _refused(
        self, message: OutboxMessage, incident: Incident | None, reason: str, view: PageView
    ) -> bool:
        self.store.outbox_done(message.id, "rejected", reason)
        if incident is not None:
            self.store.append(incident.id, TimelineKind.PAGED, f"page to the {TIER_NAMES[message.payload['tier']]} refused: {reason}",
                              None, {"tier": message.payload["tier"], "refused": True})  # fmt: skip
            view.page_refused(incident, message.payload["tier"], reason)
        return False

    def _event(self, payload: dict[str, str]) -> pagerduty.PagerDutyEvent:
        key = self.settings.secrets.pagerduty_keys.get(payload["key_env"])
        if key is None:
            raise ChatOpsError(
                f"{payload['key_env']} is not set in the environment, so there is no routing key"
            )
        if payload["action"] == "acknowledge":
            return pagerduty.acknowledge_for(key, payload["incident"])
        if payload["action"] == "resolve":
            return pagerduty.resolve_for(key, payload["incident"])
        return pagerduty.trigger_for(key, payload["incident"], payload["title"], payload["service"], Sev(payload["sev"]),
                                     payload.get("thread_url"))  # fmt: skip
