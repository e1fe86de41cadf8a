"""Alertmanager's webhook notifications (payload version "4") as typed alerts, and what the bot reads from them.

The shape is Alertmanager's `<webhook_config>` payload (prometheus/alertmanager docs/configuration.md and its
template.Data). It is read loosely, as Alertmanager asks: keys that newer versions add (`notification_reason`
since v0.32, `routeLabels` since v0.34, ...) are ignored, while what the bot relies on must be there with the
right type, or `AlertPayloadError` names what is wrong. A firing alert's `endsAt` is Alertmanager's zero time
(`0001-01-01T00:00:00Z`): it reads as `ends_at = None`.

From an alert, the bot wants: whether it fires (`is_firing`), the catalogue service it is about
(`service_of`), its SEV (`sev_of`) and the text to match playbooks against (`match_text`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.config import Service
from bot.errors import ChatOpsError
from bot.severity import Sev

VERSION = "4"
# Labels that name what an alert is about, in the order they are trusted; `namespace` narrows them.
DEFAULT_SERVICE_LABELS = ("service", "app", "job", "deployment")
DEFAULT_SEV_LABEL = "severity"
DEFAULT_SEV_LEVELS: Mapping[str, Sev] = {
    "critical": Sev.SEV1,
    "error": Sev.SEV2,
    "high": Sev.SEV2,
    "warning": Sev.SEV3,
    "info": Sev.SEV4,
    "low": Sev.SEV4,
}
MATCH_ANNOTATIONS = ("summary", "description")


class AlertPayloadError(ChatOpsError):
    """A webhook body that is not an Alertmanager version-4 notification; `problems` says what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("not an Alertmanager webhook notification: " + "; ".join(problems))


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


def _zero_time_is_none(value: object) -> object:
    """Alertmanager's Go zero time (year 1) means "not ended"."""
    if isinstance(value, str) and value.startswith("0001-01-01T"):
        return None
    return value


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


Labels = dict[str, str]


class Alert(_Loose):
    """One alert of a notification."""

    status: AlertStatus
    labels: Labels
    annotations: Labels = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: Annotated[AwareDatetime | None, BeforeValidator(_zero_time_is_none)] = Field(
        None, alias="endsAt"
    )
    generator_url: str = Field("", alias="generatorURL")
    fingerprint: str = ""

    @property
    def is_firing(self) -> bool:
        return self.status is AlertStatus.FIRING

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    @property
    def title(self) -> str:
        """What to call it in a thread: the summary annotation, else the alert's name."""
        return self.annotations.get("summary", "").strip() or self.name


class AlertBatch(_Loose):
    """One notification: the alerts of one group, as Alertmanager's route grouped them."""

    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    truncated_alerts: int = Field(0, alias="truncatedAlerts", ge=0)
    status: AlertStatus
    receiver: str
    group_labels: Labels = Field(default_factory=dict, alias="groupLabels")
    common_labels: Labels = Field(default_factory=dict, alias="commonLabels")
    common_annotations: Labels = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field("", alias="externalURL")
    alerts: list[Alert] = Field(min_length=1)


def parse_webhook(body: bytes | str) -> AlertBatch:
    """Read a webhook request body.

    Raises:
        AlertPayloadError: not JSON, another payload version, a missing field or a value of the wrong type.
    """
    try:
        data = json.loads(body)
    except ValueError as err:
        raise AlertPayloadError([f"the body is not JSON ({err})"]) from None
    if not isinstance(data, dict):
        raise AlertPayloadError([f"expected a JSON object, got {type(data).__name__}"])
    if data.get("version") != VERSION:
        got = f"version {data['version']!r}" if "version" in data else "no version"
        raise AlertPayloadError([f"expected payload version {VERSION!r}, got {got}"])
    try:
        return AlertBatch.model_validate(data)
    except ValidationError as err:
        raise AlertPayloadError([_problem(e) for e in err.errors()]) from None


def service_of(
    alert: Alert, services: Mapping[str, Service], labels: Sequence[str] = DEFAULT_SERVICE_LABELS
) -> str | None:
    """The catalogue service the alert is about, or None when its labels name none, or several.

    Each label in turn may name a service (by name or alias) or what it runs as (its Kubernetes deployment or
    Service, its Cloud Run service). A `namespace` label the catalogue knows narrows the choice to the services
    in it, and names the service by itself when only one lives there.
    """
    namespace = alert.labels.get("namespace")
    in_namespace = {
        name: s for name, s in services.items() if s.kubernetes and s.kubernetes.namespace == namespace
    }
    candidates = in_namespace or services
    for label in labels:
        found = _named(alert.labels.get(label, ""), candidates)
        if found:
            return found
    return next(iter(in_namespace)) if len(in_namespace) == 1 else None


def sev_of(
    alert: Alert, label: str = DEFAULT_SEV_LABEL, levels: Mapping[str, Sev] = DEFAULT_SEV_LEVELS
) -> Sev | None:
    """The SEV its severity label maps to (case-insensitive), or None without one the mapping knows."""
    value = alert.labels.get(label, "").strip().lower()
    return {key.lower(): sev for key, sev in levels.items()}.get(value)


def match_text(alert: Alert) -> str:
    """The text to match playbooks against: the alert's name and its summary and description."""
    parts = [alert.name, *(alert.annotations.get(key, "") for key in MATCH_ANNOTATIONS)]
    return "\n".join(part.strip() for part in parts if part.strip())


def _named(value: str, services: Mapping[str, Service]) -> str | None:
    wanted = value.strip().lower()
    if not wanted:
        return None
    for name, service in services.items():
        if wanted == name.lower() or wanted in (alias.lower() for alias in service.aliases):
            return name
    runs_as = {name for name, service in services.items() if wanted in _runtime_names(service)}
    return runs_as.pop() if len(runs_as) == 1 else None


def _runtime_names(service: Service) -> set[str]:
    k8s, run = service.kubernetes, service.cloud_run
    names = {k8s.deployment, k8s.service or k8s.deployment} if k8s else set()
    return {name.lower() for name in names | ({run.service} if run else set())}


def _problem(error: Any) -> str:
    """`alerts[0].startsAt: Input should be a valid datetime (got 'yesterday')`."""
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    got = "" if error["type"] == "missing" else f" (got {_short(error['input'])})"
    return f"{where or 'body'}: {error['msg']}{got}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."
