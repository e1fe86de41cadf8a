"""Configuration: one YAML file (services, teams, policy), validated at start-up.

Which file, and everything that comes from the environment (secrets, endpoints), is bot.settings' business.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from bot.errors import ConfigError, Problem, UnknownNameError
from bot.severity import Sev
from bot.yamlfile import expected, read, validation_problems

NAME = expected(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", "a name of lowercase letters, digits and dashes, such as api-gateway"
)
SLACK_ID = expected(r"^[UWS][A-Z0-9]{2,}$", "a Slack user or user group id, such as U024BE7LH or S0614TZR7")
ENV_VAR = expected(
    r"^[A-Z_][A-Z0-9_]*$", "the name of an environment variable, such as PAGERDUTY_ROUTING_KEY"
)
URL = expected(r"^https?://", "an http:// or https:// URL")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """15m, 1h, 4h, 24h, 90s, 2d."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"expected a duration such as 15m, 1h, 4h or 24h (got {text!r})")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _parse_duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
HostPort = Annotated[
    str,
    Field(
        pattern=expected(r"^[A-Za-z0-9_.-]+:\d{1,5}$", "host:port, such as db.internal:5432"),
        description="host:port",
    ),
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KubernetesTarget(Strict):
    """Where the service runs in Kubernetes."""

    context: str | None = Field(None, description="kubeconfig context; in-cluster config when absent")
    namespace: str = Field(pattern=NAME)
    deployment: str = Field(pattern=NAME)
    selector: str | None = Field(None, description="label selector; app=<deployment> when absent")
    service: str | None = Field(None, pattern=NAME, description="Kubernetes Service; the deployment's name")
    container: str | None = None
    configmap: str | None = None
    ingress: str | None = None
    certificate: str | None = None


class CloudRunTarget(Strict):
    project: str = Field(
        pattern=expected(
            r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
            "a Google Cloud project id (6 to 30 lowercase letters, digits and dashes)",
        )
    )
    region: str = Field(pattern=expected(r"^[a-z]+-[a-z]+\d$", "a Google Cloud region, such as us-central1"))
    service: str = Field(pattern=NAME)


class CloudLoggingTarget(Strict):
    project: str
    filter: str = Field(min_length=1, description="the service's base filter; probes add time and severity")


_MATCHER = r'[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"'


class Metrics(Strict):
    """How the service's series are found in Prometheus: the playbooks' queries use these through the
    placeholders {metrics_selector} and {status_label}, so no query hard-codes one service's labels."""

    selector: str = Field(
        pattern=expected(
            rf"^\s*{_MATCHER}(\s*,\s*{_MATCHER})*\s*$",
            'PromQL label matchers, such as job="api-gateway", namespace="prod"',
        ),
        description='PromQL label matchers that select the service\'s series, e.g. job="api-gateway"',
    )
    status_label: str = Field(
        "code",
        pattern=expected(r"^[a-zA-Z_][a-zA-Z0-9_]*$", "a Prometheus label name, such as code"),
        description="the label holding the HTTP status code",
    )


class ActionPolicy(Strict):
    """Who may approve one action for one service, and how many approvals it needs (the service's if unset)."""

    approvers: list[Annotated[str, Field(pattern=SLACK_ID)]] = Field(default_factory=list)
    approvals: int | None = Field(None, ge=1, le=5)


class Service(Strict):
    """One service of the catalogue: what it is, who owns it, where its signals live."""

    aliases: list[str] = Field(default_factory=list)
    channels: list[str] = Field(
        default_factory=list,
        description="Slack channels of this service's own incidents (/diagnose there needs no service name)",
    )
    guide: str = Field(description="the troubleshooting guide it follows (a folder of playbooks/)")
    team: str
    description: str | None = None
    kubernetes: KubernetesTarget | None = None
    cloud_run: CloudRunTarget | None = None
    cloud_logging: CloudLoggingTarget | None = None
    health_url: str | None = Field(None, pattern=URL)
    readiness_url: str | None = Field(None, pattern=URL)
    prometheus_url: str | None = Field(None, pattern=URL)
    alertmanager_url: str | None = Field(None, pattern=URL)
    metrics: Metrics | None = Field(None, description="its series in Prometheus (prometheus.query steps)")
    postgres: HostPort | None = None
    redis: HostPort | None = None
    approvers: list[Annotated[str, Field(pattern=SLACK_ID)]] = Field(
        default_factory=list,
        description="Slack user or group ids who may approve actions; the team's if empty",
    )
    approvals: int = Field(
        1, ge=1, le=5, description="approvals a fix needs, from people other than the requester"
    )
    actions: dict[str, ActionPolicy] = Field(
        default_factory=dict, description="per action (e.g. k8s.rollout_undo): who may approve, how many"
    )

    def variables(self, name: str) -> dict[str, str | None]:
        """The values of the playbook placeholders for this service (see bot.templating.VARIABLES)."""
        k8s, run, url = self.kubernetes, self.cloud_run, self.health_url
        parts = urlsplit(url) if url else None
        pg_host, _, pg_port = (self.postgres or "").partition(":")
        redis_host, _, redis_port = (self.redis or "").partition(":")
        return {
            "service": name,
            "team": self.team,
            "namespace": k8s.namespace if k8s else None,
            "deployment": k8s.deployment if k8s else None,
            "selector": (k8s.selector or f"app={k8s.deployment}") if k8s else None,
            "context": k8s.context if k8s else None,
            "k8s_service": (k8s.service or k8s.deployment) if k8s else None,
            "container": k8s.container if k8s else None,
            "configmap": k8s.configmap if k8s else None,
            "ingress": k8s.ingress if k8s else None,
            "certificate": k8s.certificate if k8s else None,
            "health_url": url,
            "readiness_url": self.readiness_url,
            "base_url": f"{parts.scheme}://{parts.netloc}" if parts else None,
            "host": parts.hostname if parts else None,
            "prometheus_url": self.prometheus_url,
            "alertmanager_url": self.alertmanager_url,
            "metrics_selector": self.metrics.selector if self.metrics else None,
            "status_label": self.metrics.status_label if self.metrics else None,
            "project": run.project if run else (self.cloud_logging.project if self.cloud_logging else None),
            "region": run.region if run else None,
            "cloud_run_service": run.service if run else None,
            "log_filter": self.cloud_logging.filter if self.cloud_logging else None,
            "postgres_host": pg_host or None,
            "postgres_port": pg_port or None,
            "redis_host": redis_host or None,
            "redis_port": redis_port or None,
        }


Tier = Literal["oncall", "team_lead", "engineering_manager", "vp_engineering"]
TIER_NAMES = {"oncall": "on-call", "team_lead": "team lead", "engineering_manager": "engineering manager",
              "vp_engineering": "VP Engineering"}  # fmt: skip


class Contact(Strict):
    """A person or group to notify: a Slack id, and the env var holding a PagerDuty routing key, if paged."""

    slack: str = Field(pattern=SLACK_ID)
    pagerduty_routing_key_env: str | None = Field(None, pattern=ENV_VAR)


class Team(Strict):
    """The people behind services: escalation tiers, approvers, and how the team's guide says to run incidents."""

    channel: str | None = None
    oncall: Contact
    team_lead: Contact | None = None
    engineering_manager: Contact | None = None
    vp_engineering: Contact | None = None
    approvers: list[Annotated[str, Field(pattern=SLACK_ID)]] = Field(default_factory=list)
    escalation: list[EscalationStep] | None = Field(
        None, description="the team's own ladder (else the policy's)"
    )
    contacts: list[str] = Field(
        default_factory=list, description="other ways to reach the team (the guide's)"
    )
    checklist: list[str] = Field(
        default_factory=list, description="what support needs (the guide's checklist)"
    )

    def contact(self, tier: str) -> Contact | None:
        contact: Contact | None = getattr(self, tier)
        return contact

    @model_validator(mode="after")
    def _ladder_in_order(self) -> Team:
        _check_order(self.escalation or [])
        return self


def _check_order(ladder: list[EscalationStep]) -> None:
    afters = [step.after for step in ladder]
    if afters != sorted(afters):
        raise ValueError("escalation steps must be in order of 'after'")


class SevLevel(Strict):
    name: str
    meaning: str
    respond_within: Duration
    page_oncall: bool


class EscalationStep(Strict):
    """Notify (and page, if it has a routing key) a tier this long after the incident opened, if by then it is
    still not acknowledged, or still not resolved."""

    tier: Tier
    after: Duration = Field(description="time since the incident opened")
    when: Literal["not_acknowledged", "not_resolved"] = "not_resolved"
    page: bool | None = Field(
        None, description="page the tier (if it has a routing key); by default, when the SEV pages on-call"
    )

    def pages(self, level: SevLevel) -> bool:
        return level.page_oncall if self.page is None else self.page


def default_severities() -> dict[Sev, SevLevel]:
    def level(name: str, meaning: str, within: str, page: bool) -> SevLevel:
        return SevLevel.model_validate(
            {"name": name, "meaning": meaning, "respond_within": within, "page_oncall": page}
        )

    return {
        Sev.SEV1: level("Critical", "Complete service outage, security breach; customer impact", "0m", True),
        # The guide wakes on-call for SEV-1 only: paging SEV-2 too is a team's choice (page_oncall: true).
        Sev.SEV2: level("High", "Major functionality broken, performance issues", "1h", False),
        Sev.SEV3: level("Medium", "Minor functionality issues, monitoring alerts", "4h", False),
        Sev.SEV4: level("Low", "Cosmetic issues, informational", "24h", False),
    }


def _default_escalation() -> list[EscalationStep]:
    """ai-platform.md "Escalation Path": on-call first (15 minutes), then lead, manager, VP while unresolved."""
    steps = [("oncall", "15m", "not_acknowledged"), ("team_lead", "1h", "not_resolved"),
             ("engineering_manager", "4h", "not_resolved"), ("vp_engineering", "24h", "not_resolved")]  # fmt: skip
    return [EscalationStep.model_validate({"tier": t, "after": a, "when": w}) for t, a, w in steps]


class Policy(Strict):
    """The guides' SEV table and escalation timetable (ai-platform.md, "Escalation Procedures") as defaults."""

    severities: dict[Sev, SevLevel] = Field(default_factory=default_severities)
    first_response_within: Duration = timedelta(minutes=15)
    approval_expiry: Duration = timedelta(minutes=15)  # how long a fix request waits for approval
    escalation: list[EscalationStep] = Field(default_factory=_default_escalation, min_length=1)
    escalation_by_severity: dict[Sev, list[EscalationStep]] = Field(
        default_factory=dict, description="a ladder of its own for some SEVs (else `escalation`)"
    )

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        missing = [s.value for s in Sev if s not in self.severities]
        if missing:
            raise ValueError(f"severities must define every level; missing {', '.join(missing)}")
        for ladder in [self.escalation, *self.escalation_by_severity.values()]:
            _check_order(ladder)
        return self


class AlertSettings(Strict):
    """How Alertmanager's alerts are read: which labels name the service, which one the SEV, and its values."""

    service_labels: list[str] = Field(default_factory=lambda: ["service", "app", "job", "deployment"])
    severity_label: str = "severity"
    severities: dict[str, Sev] = Field(
        default_factory=lambda: {
            "critical": Sev.SEV1,
            "page": Sev.SEV1,
            "error": Sev.SEV2,
            "high": Sev.SEV2,
            "warning": Sev.SEV3,
            "info": Sev.SEV4,
            "low": Sev.SEV4,
        }
    )


class PagingSettings(Strict):
    events_url: str = Field(default="https://events.pagerduty.com/v2/enqueue", pattern=URL)
    timeout_s: float = Field(default=10.0, gt=0, le=60)


class SlackSettings(Strict):
    incident_channels: list[str] = Field(default_factory=lambda: ["#incidents"], min_length=1)


class StoreSettings(Strict):
    """Where the store lives: a URL (`sqlite:///path`, `postgresql://...`), else a SQLite file at `path`."""

    url: str | None = Field(
        default=None,
        pattern=expected(r"^(sqlite|postgresql|postgres)://", "a sqlite:/// or postgresql:// URL"),
    )
    path: str = "chatops.db"  # relative to the working directory
    # Resolved incidents older than this are deleted, with their timeline and buttons (`chatops store prune`).
    retention: Duration = timedelta(days=90)

    def location(self) -> str:
        return self.url or f"sqlite:///{self.path}"


class Config(Strict):
    """The whole configuration file."""

    services: dict[Annotated[str, Field(pattern=NAME)], Service] = Field(min_length=1)
    teams: dict[str, Team] = Field(min_length=1)
    policy: Policy = Field(default_factory=Policy)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    paging: PagingSettings = Field(default_factory=PagingSettings)

    def ladder(self, service: str, sev: Sev) -> list[EscalationStep]:
        """The escalation ladder of an incident: the team's own, else the policy's for its SEV, else the policy's."""
        return self.team_ladder(self.services[service].team, sev)

    def team_ladder(self, team: str, sev: Sev) -> list[EscalationStep]:
        return (
            self.teams[team].escalation
            or self.policy.escalation_by_severity.get(sev)
            or self.policy.escalation
        )

    @model_validator(mode="after")
    def _references(self) -> Config:
        names: dict[str, str] = {name: name for name in self.services}
        for name, service in self.services.items():
            if service.team not in self.teams:
                raise ValueError(
                    f"services.{name}.team: unknown team '{service.team}'; teams: {', '.join(self.teams)}"
                )
            for alias in service.aliases:
                if alias in names:
                    raise ValueError(
                        f"services.{name}.aliases: '{alias}' is already used by '{names[alias]}'"
                    )
                names[alias] = name
        return self

    def guide_hints(self) -> dict[str, str]:
        """Names that point at one guide when seen in text: services, aliases, namespaces, deployments."""
        seen: dict[str, set[str]] = {}
        for name, service in self.services.items():
            k8s, run = service.kubernetes, service.cloud_run
            names = [name, *service.aliases]
            names += [k8s.namespace, k8s.deployment] if k8s else []
            names += [run.service] if run else []
            for key in names:
                seen.setdefault(key.lower(), set()).add(service.guide)
        return {key: guides.pop() for key, guides in seen.items() if len(guides) == 1 and len(key) >= 4}

    def find_service_in(self, text: str) -> str | None:
        """The one service named (by name or alias) in a text, if exactly one is."""
        lowered = text.lower()
        found = {
            key
            for key, service in self.services.items()
            for name in (key, *service.aliases)
            if re.search(rf"(?<![a-z0-9-]){re.escape(name.lower())}(?![a-z0-9])", lowered)
        }
        return found.pop() if len(found) == 1 else None

    def service(self, name: str) -> tuple[str, Service]:
        """Find a service by name or alias (case-insensitive)."""
        key = self._service_names.get(name.strip().lower())
        if key is None:
            raise UnknownNameError("service", name, list(self.services))
        return key, self.services[key]

    # Both are read on every /diagnose before Slack is answered: worked out once, not per request.
    @cached_property
    def _service_names(self) -> dict[str, str]:
        """Each service's name and aliases (lower case) to its name."""
        names = {alias.lower(): key for key, service in self.services.items() for alias in service.aliases}
        return names | {key: key for key in self.services}

    @cached_property
    def diagnose_channels(self) -> frozenset[str]:
        """Where /diagnose may open incidents: the incident channels, and every service's own channels."""
        names = set(self.slack.incident_channels)
        names |= {channel for service in self.services.values() for channel in service.channels}
        return frozenset(name.lstrip("#") for name in names)


def load_config(path: Path, guides: list[str] | None = None) -> Config:
    """Read and validate a config file; every problem names the file, line, key path and what was expected.

    With `guides` (those that have playbooks), each service's guide must be one of them.
    """
    if not path.exists():
        raise ConfigError([Problem(str(path), None, "", "file not found")])
    doc = read(path)
    if doc.problems:
        raise ConfigError(doc.problems)
    if not isinstance(doc.data, dict):
        raise ConfigError([doc.problem((), "expected a mapping with at least 'services' and 'teams'")])
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as err:
        raise ConfigError(_config_problems(doc, err)) from None
    if guides is not None:
        problems = [
            doc.problem(
                ("services", name, "guide"), f"unknown guide '{s.guide}'; expected one of {', '.join(guides)}"
            )
            for name, s in config.services.items()
            if s.guide not in guides
        ]
        if problems:
            raise ConfigError(problems)
    return config


def _config_problems(doc, err: ValidationError) -> list[Problem]:
    problems = []
    for problem in validation_problems(doc, err, model=Config):
        # Cross-reference errors name their own key path ("services.x.team: ..."): point at it.
        head, sep, rest = problem.message.partition(": ")
        if sep and head.startswith(("services.", "teams.")):
            loc = tuple(head.split("."))
            problem = doc.problem(loc, rest)
        problems.append(problem)
    return problems
