"""One Settings object, read once at start-up: the config file, the secrets and endpoints from the environment.
Nothing else reads the environment, and serving never loads the stand-ins or clients it does not use."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from bot.errors import ChatOpsError
from bot.settings import Secrets, Settings, config_path

PACKAGES = ("bot", "handlers", "sandbox")


def test_config_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert config_path(None, env={}).name == "config.example.yaml"  # bundled defaults
    (tmp_path / "chatops.yaml").write_text("x: 1")
    assert config_path(None, env={}) == Path("chatops.yaml")
    assert config_path(None, env={"CHATOPS_CONFIG": "/etc/chatops.yaml"}) == Path("/etc/chatops.yaml")
    assert config_path("mine.yaml", env={"CHATOPS_CONFIG": "/etc/chatops.yaml"}) == Path("mine.yaml")


def test_secrets_come_from_the_environment_and_never_print() -> None:
    secrets = Secrets.from_env({"SLACK_BOT_TOKEN": "xoxb-123-456-abcdef", "SLACK_SIGNING_SECRET": "s3cr3t"})
    assert secrets.slack_bot_token is not None
    assert secrets.slack_bot_token.get_secret_value() == "xoxb-123-456-abcdef"
    assert "xoxb" not in repr(secrets) and "s3cr3t" not in str(secrets)
    assert Secrets.from_env({}).slack_app_token is None
    with pytest.raises(ChatOpsError, match="set SLACK_APP_TOKEN"):
        Secrets.from_env({}).require("slack_app_token", "the app-level token")


def test_the_settings_take_what_the_environment_says() -> None:
    env = {"SLACK_API_URL": "http://127.0.0.1:9/api/", "KUBECONFIG": "/etc/kube", "PORT": "8080",
           "CHATOPS_CLOUD_RUN_ENDPOINT": "http://127.0.0.1:9", "PAGERDUTY_KEY_PLATFORM": "k" * 32,
           "CHATOPS_STORE_URL": "sqlite:////var/lib/chatops.db"}  # fmt: skip
    settings = Settings.load(str(ROOT / "config.example.yaml"), env=env)
    assert settings.endpoints.slack_api_url == "http://127.0.0.1:9/api/"
    assert (settings.endpoints.kubeconfig, settings.port) == ("/etc/kube", 8080)
    assert settings.endpoints.cloud_run == "http://127.0.0.1:9"
    assert settings.store_url == "sqlite:////var/lib/chatops.db"
    assert settings.secrets.pagerduty_keys["PAGERDUTY_KEY_PLATFORM"].get_secret_value() == "k" * 32
    assert "k" * 32 not in repr(settings)
    with pytest.raises(ChatOpsError, match="PORT must be a port number"):
        Settings.load(str(ROOT / "config.example.yaml"), env={"PORT": "http"})


def test_a_replica_takes_its_name_and_its_leases_timings_from_the_environment() -> None:
    env = {"POD_NAME": "chatops-7f9c-a", "POD_NAMESPACE": "chatops", "CHATOPS_LEASE_DURATION": "4",
           "CHATOPS_LEASE_RENEW_DEADLINE": "2.5", "CHATOPS_LEASE_RETRY_PERIOD": "0.5",
           "CHATOPS_RECONCILE_INTERVAL": "1"}  # fmt: skip
    replica = Settings.load(str(ROOT / "config.example.yaml"), env=env).replica
    assert (replica.identity, replica.namespace, replica.lease_name) == (
        "chatops-7f9c-a",
        "chatops",
        "chatops-leader",
    )
    assert (replica.lease_duration_s, replica.renew_deadline_s, replica.retry_period_s) == (4, 2.5, 0.5)
    assert replica.reconcile_interval_s == 1.0
    defaults = Settings.load(str(ROOT / "config.example.yaml"), env={}).replica
    assert (defaults.lease_duration_s, defaults.renew_deadline_s, defaults.retry_period_s) == (15, 10.0, 2.0)


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"CHATOPS_LEASE_DURATION": "2.5"}, "CHATOPS_LEASE_DURATION must be a whole number of seconds"),
        ({"CHATOPS_LEASE_RETRY_PERIOD": "soon"}, "CHATOPS_LEASE_RETRY_PERIOD must be a number of seconds"),
        ({"CHATOPS_RECONCILE_INTERVAL": "inf"}, "CHATOPS_RECONCILE_INTERVAL must be a number of seconds"),
        # A renewal deadline past the lease's duration would let a stalled leader lead beside its successor.
        ({"CHATOPS_LEASE_DURATION": "5", "CHATOPS_LEASE_RENEW_DEADLINE": "6"},
         r"CHATOPS_LEASE_DURATION > CHATOPS_LEASE_RENEW_DEADLINE > CHATOPS_LEASE_RETRY_PERIOD > 0 \(got 5, 6, 2 s\)"),
        ({"CHATOPS_LEASE_RETRY_PERIOD": "0"}, "CHATOPS_LEASE_RETRY_PERIOD > 0"),
        ({"CHATOPS_RECONCILE_INTERVAL": "0"}, "CHATOPS_RECONCILE_INTERVAL must be more than 0 s"),
    ],
)  # fmt: skip
def test_lease_timings_that_could_let_two_replicas_lead_are_refused_at_start_up(
    env: dict[str, str], error: str
) -> None:
    with pytest.raises(ChatOpsError, match=error):
        Settings.load(str(ROOT / "config.example.yaml"), env=env)


def test_nothing_but_the_settings_reads_the_environment() -> None:
    reads = re.compile(r"os\.environ|os\.getenv|\bgetenv\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "bot" / "settings.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert offenders == []


def imported_by(code: str) -> set[str]:
    listing = "import sys; print('\\n'.join(sys.modules), file=sys.stderr)"
    run = subprocess.run([sys.executable, "-c", f"{code}\n{listing}"], capture_output=True, text=True, check=True,
                         cwd=ROOT)  # fmt: skip
    return set(run.stderr.split())


def test_serving_never_imports_a_stand_in() -> None:
    loaded = imported_by("import bot, bot.cli, handlers.cli, handlers.app, handlers.workers, handlers.web")
    assert not {m for m in loaded if m == "sandbox" or m.startswith("sandbox.")}


def test_commands_that_need_no_cluster_do_not_import_its_client() -> None:
    loaded = imported_by("from handlers.cli import main\nmain(['playbooks', 'list'])")
    assert "kubernetes" not in loaded and "google.cloud.run_v2" not in loaded
    matched = imported_by(
        "from handlers.cli import main\nmain(['match', 'api-gateway pods keep restarting'])"
    )
    assert not {"kubernetes", "urllib3", "httpx", "sqlite_utils"} & matched, (
        "matching calls no system, opens no store"
    )
