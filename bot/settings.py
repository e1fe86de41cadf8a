"""Settings: the config file and the environment, read once at start-up into one object handed to everything.

This is the only module that reads the environment. What comes from it:

    CHATOPS_CONFIG                    the config file (after --config; else ./chatops.yaml, else the bundled example)
    CHATOPS_STORE_URL                 the store (`sqlite:///path`, `postgresql://...`); else the config's `store`
    SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN   Slack credentials
    SLACK_API_URL                     another Slack Web API base URL (the shell and tests use a local stand-in)
    PORT                              the default port of `serve` and `socket`
    KUBECONFIG                        the kubeconfig the probes use (in-cluster config when unset)
    CHATOPS_CLOUD_LOGGING_ENDPOINT, CHATOPS_CLOUD_RUN_ENDPOINT   Google API endpoints (air-gapped or test setups)
    CHATOPS_PAGERDUTY_EVENTS_URL      another PagerDuty Events API v2 URL (else the config's paging.events_url)
    CHATOPS_ALERTMANAGER_TOKEN        the bearer token (or basic-auth password) Alertmanager sends to /alertmanager
    POD_NAME, POD_NAMESPACE, CHATOPS_LEASE_NAME   this replica and its Lease, when several share PostgreSQL
    CHATOPS_LEASE_DURATION, CHATOPS_LEASE_RENEW_DEADLINE, CHATOPS_LEASE_RETRY_PERIOD   the Lease's timings (seconds;
                                      default 15, 10, 2, as client-go's); CHATOPS_RECONCILE_INTERVAL (default 5 s)
    the variables the config names for PagerDuty routing keys (teams.<team>.<tier>.pagerduty_routing_key_env)
    XDG_CACHE_HOME, HOME              where the validated catalogue is cached (bot.catalogue_cache)

and what it sets: PROMETHEUS_MULTIPROC_DIR, the only way to tell prometheus-client where the processes of one
`chatops serve` count (bot.metrics chooses the directory; spawned workers inherit it).

Secrets are `SecretStr`: they print as `**********` and never reach a log line by accident.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from bot.config import Config, load_config
from bot.errors import ChatOpsError
from bot.resources import bundled

CONFIG_ENV = "CHATOPS_CONFIG"
DEFAULT_CONFIG = Path("chatops.yaml")
DEFAULT_PORT = 3000
CLOUD_RUN_API = "https://run.googleapis.com"
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Secrets(BaseModel):
    """Secrets come from the environment only, never from the config file."""

    model_config = ConfigDict(frozen=True)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    pagerduty_keys: dict[str, SecretStr] = {}  # env var name -> routing key, for the names the config uses
    alertmanager_token: SecretStr | None = None  # what Alertmanager must send to POST /alertmanager

    @classmethod
    def from_env(cls, env: Mapping[str, str], key_names: set[str] | None = None) -> Secrets:
        slack = {name: env.get(name.upper()) or None for name in ("slack_bot_token", "slack_signing_secret",
                                                                  "slack_app_token")}  # fmt: skip
        keys = {name: env[name] for name in sorted(key_names or ()) if env.get(name)}
        token = env.get("CHATOPS_ALERTMANAGER_TOKEN") or None
        return cls.model_validate({**slack, "pagerduty_keys": keys, "alertmanager_token": token})

    def require(self, name: str, hint: str) -> str:
        """A Slack secret's value, or a clear error naming the variable to set."""
        value: SecretStr | None = getattr(self, name)
        if value is None:
            raise ChatOpsError(f"set {name.upper()} ({hint}) in the environment")
        return value.get_secret_value()


class Endpoints(BaseModel):
    """Where the bot reaches the systems, when not their public defaults."""

    model_config = ConfigDict(frozen=True)

    slack_api_url: str | None = None
    kubeconfig: str | None = None
    cloud_logging: str | None = None
    cloud_run: str = CLOUD_RUN_API
    pagerduty_events: str | None = None  # else the config's paging.events_url


LEASE_TIMINGS = {
    "lease_duration_s": "CHATOPS_LEASE_DURATION",
    "renew_deadline_s": "CHATOPS_LEASE_RENEW_DEADLINE",
    "retry_period_s": "CHATOPS_LEASE_RETRY_PERIOD",
    "reconcile_interval_s": "CHATOPS_RECONCILE_INTERVAL",
}


def _seconds(env: Mapping[str, str], name: str, whole: bool) -> float | None:
    """A number of seconds from the environment (None when unset); a clear error naming the variable else."""
    text = (env.get(name) or "").strip()
    if not text:
        return None
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number of seconds" if whole else "a number of seconds"
        raise ChatOpsError(f"{name} must be {kind} (got {text!r})") from None
    if not math.isfinite(value):
        raise ChatOpsError(f"{name} must be a number of seconds (got {text!r})")
    return value


class Replica(BaseModel):
    """Who this replica is, for leader election (a Kubernetes Lease) when several share a PostgreSQL store, and
    how often it does the leader's rounds.

    A replica that dies holding the Lease is replaced within `lease_duration_s` (plus one `retry_period_s`);
    one that cannot renew stops leading after `renew_deadline_s`, before anyone else may start."""

    model_config = ConfigDict(frozen=True)

    identity: str | None = None  # POD_NAME
    namespace: str | None = None  # POD_NAMESPACE
    lease_name: str = "chatops-leader"  # CHATOPS_LEASE_NAME
    lease_duration_s: int = 15  # CHATOPS_LEASE_DURATION (whole seconds: the Lease's leaseDurationSeconds)
    renew_deadline_s: float = 10.0  # CHATOPS_LEASE_RENEW_DEADLINE
    retry_period_s: float = 2.0  # CHATOPS_LEASE_RETRY_PERIOD
    reconcile_interval_s: float = 5.0  # CHATOPS_RECONCILE_INTERVAL: escalations, pages, expiries

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Replica:
        """The replica's identity and timings; timings that could let two replicas lead at once are refused."""
        timings = {
            field: _seconds(env, name, field == "lease_duration_s") for field, name in LEASE_TIMINGS.items()
        }
        replica = cls.model_validate({
            "identity": env.get("POD_NAME") or None,
            "namespace": env.get("POD_NAMESPACE") or None,
            "lease_name": env.get("CHATOPS_LEASE_NAME") or "chatops-leader",
            **{field: value for field, value in timings.items() if value is not None},
        })  # fmt: skip
        if not replica.lease_duration_s > replica.renew_deadline_s > replica.retry_period_s > 0:
            raise ChatOpsError(
                "the Lease's timings must keep CHATOPS_LEASE_DURATION > CHATOPS_LEASE_RENEW_DEADLINE > "
                f"CHATOPS_LEASE_RETRY_PERIOD > 0 (got {replica.lease_duration_s:g}, {replica.renew_deadline_s:g}, "
                f"{replica.retry_period_s:g} s)"
            )
        if replica.reconcile_interval_s <= 0:
            raise ChatOpsError(
                f"CHATOPS_RECONCILE_INTERVAL must be more than 0 s (got {replica.reconcile_interval_s:g})"
            )
        return replica


class Settings(BaseModel):
    """Everything the bot was started with; picklable, so worker processes get the same one."""

    model_config = ConfigDict(frozen=True)

    config_file: Path
    playbooks_dir: Path | None = None
    config: Config
    secrets: Secrets = Secrets()
    endpoints: Endpoints = Endpoints()
    store_url: str
    port: int = DEFAULT_PORT
    replica: Replica = Replica()

    @property
    def pagerduty_events_url(self) -> str:
        """Where pages go: the environment's override, else the config's."""
        return self.endpoints.pagerduty_events or self.config.paging.events_url

    @classmethod
    def load(
        cls,
        config_arg: str | None = None,
        playbooks_arg: str | None = None,
        env: Mapping[str, str] | None = None,
        guides: list[str] | None = None,
    ) -> Settings:
        """Read the config file (validated against the playbooks' `guides`) and the environment."""
        env = os.environ if env is None else env
        path = config_path(config_arg, env)
        config = load_config(path, guides=guides)
        return cls.from_config(config, path, env, playbooks_arg)

    @classmethod
    def from_config(
        cls, config: Config, path: Path, env: Mapping[str, str], playbooks_arg: str | None = None
    ) -> Settings:
        key_names = {
            contact.pagerduty_routing_key_env
            for team in config.teams.values()
            for contact in (team.oncall, team.team_lead, team.engineering_manager, team.vp_engineering)
            if contact is not None and contact.pagerduty_routing_key_env
        }
        port = env.get("PORT") or str(DEFAULT_PORT)
        if not port.isdigit():
            raise ChatOpsError(f"PORT must be a port number (got {port!r})")
        return cls(
            config_file=path,
            playbooks_dir=Path(playbooks_arg) if playbooks_arg else None,
            config=config,
            secrets=Secrets.from_env(env, key_names),
            endpoints=Endpoints(
                slack_api_url=env.get("SLACK_API_URL") or None,
                kubeconfig=env.get("KUBECONFIG") or None,
                cloud_logging=env.get("CHATOPS_CLOUD_LOGGING_ENDPOINT") or None,
                cloud_run=env.get("CHATOPS_CLOUD_RUN_ENDPOINT") or CLOUD_RUN_API,
                pagerduty_events=env.get("CHATOPS_PAGERDUTY_EVENTS_URL") or None,
            ),
            store_url=env.get("CHATOPS_STORE_URL") or config.store.location(),
            port=int(port),
            replica=Replica.from_env(env),
        )


def config_path(explicit: str | None = None, env: Mapping[str, str] | None = None) -> Path:
    """The config file to use: `--config`, `$CHATOPS_CONFIG`, `./chatops.yaml`, or the bundled example."""
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else bundled("config.example.yaml")


def use_metrics_dir(directory: Path) -> None:
    """Where prometheus-client keeps this process's samples (and its children's: they inherit it)."""
    os.environ[METRICS_DIR_ENV] = str(directory)


def cache_dir(env: Mapping[str, str] | None = None) -> Path | None:
    """The bot's cache folder: $XDG_CACHE_HOME/chatops, else ~/.cache/chatops (None with neither set)."""
    env = os.environ if env is None else env
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "chatops"
    return Path(env["HOME"]) / ".cache" / "chatops" if env.get("HOME") else None
