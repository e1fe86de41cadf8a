"""Alertmanager's alerts, as incidents: a firing alert opens one in the service's channel (SEV from its labels,
the matching playbook's checks run), or attaches to the open incident of the same service and alert; a
resolved alert is noted and triggers nothing else; a delivery seen before changes nothing. The bot never
remediates from an alert: fixes still need a person's request and a second person's approval.

The edge keeps each delivery in the store before it answers Alertmanager (bot.store.lifecycle `keep_alerts`);
`take` handles it once; the reconciler hands on again what a stopped worker left (RETAKE_AFTER).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.alerts import Alert, AlertBatch, match_text, parse_webhook, service_of, sev_of
from bot.incident.parse import incident_channel_for
from bot.incident.requests import Asker, DiagnoseRequest
from bot.incidents import Incident, TimelineKind

if TYPE_CHECKING:
    from bot.incident.flows import IncidentFlows
    from bot.incident.view import IncidentView

ALERTMANAGER = "alertmanager"  # who opened an incident from an alert, in its timeline
RETAKE_AFTER = timedelta(minutes=2)


class AlertView(Protocol):
    def alert_noted(self, incident: Incident, alert: Alert, what: str) -> None:
        """A line in the incident's thread: the alert fired again, or resolved."""
        ...

    def alert_unplaced(self, channel: str, alert: Alert) -> None:
        """An alert whose labels name no service of the catalogue, said in the incident channel."""
        ...


class AlertIntake:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows

    def take(self, intake_id: int, view: IncidentView) -> None:
        body = self.flows.store.take_alerts(intake_id)
        if body is None:  # another worker has it, or it is done
            return
        batch = parse_webhook(body)  # checked when it came in
        for alert in batch.alerts:
            self._one(alert, batch, view)
        self.flows.store.alerts_done(intake_id)

    def _one(self, alert: Alert, batch: AlertBatch, view: IncidentView) -> None:
        flows, config = self.flows, self.flows.config
        seen = f"alert:{alert.fingerprint or alert.name}:{alert.status}:{alert.starts_at.isoformat()}"
        if not flows.store.claim(seen):
            return  # delivered before (Alertmanager repeats, or a retry): nothing new
        service = service_of(alert, config.services, config.alerts.service_labels)
        if service is None:
            view.alert_unplaced(incident_channel_for(config, None), alert)
            return
        key = f"{service}/{alert.name}"
        attached = flows.store.open_for_alert(key)
        if attached is not None:
            what = "firing" if alert.is_firing else "resolved"
            flows.store.append(attached.id, TimelineKind.ALERT, f"{alert.name} {what}: {alert.title}", ALERTMANAGER,
                               {"fingerprint": alert.fingerprint, "status": what, "labels": alert.labels})  # fmt: skip
            view.alert_noted(attached, alert, what)
            return
        if not alert.is_firing:
            return  # resolved before anyone opened an incident for it
        sev = sev_of(alert, config.alerts.severity_label, config.alerts.severities)
        asker = Asker(ALERTMANAGER, incident_channel_for(config, service))
        flows.diagnose(DiagnoseRequest(asker, service, match_text(alert), sev, title=alert.title, alert_key=key,
                                       detected_at=alert.starts_at), view)  # fmt: skip
