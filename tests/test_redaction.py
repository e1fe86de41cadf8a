"""Secrets never leave the engine; ordinary log lines come through unchanged, or they stop being evidence."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fakes.cloud_logging_api import FakeCloudLogging
from google.auth.credentials import AnonymousCredentials

from bot.config import Service
from bot.findings import Finding
from bot.playbook import Playbook
from bot.playbooks_loader import load_file
from bot.probes.base import Clients
from bot.redaction import redact
from bot.runner import Runner
from bot.severity import Status

PEM_BODY = "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MvBmN6yNRzZLh1vT"

# (text, secrets that must disappear, surrounding text that must stay)
MUST_REDACT = [
    pytest.param(
        "GET /v1/images Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
        ["4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"],
        ["GET /v1/images Authorization: Bearer "],
        id="bearer-token",
    ),
    pytest.param(
        "rejected eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c for user",
        ["eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"],
        ["rejected ", " for user"],
        id="jwt",
    ),
    pytest.param(
        "using key AKIAIOSFODNN7EXAMPLE for s3",
        ["AKIAIOSFODNN7EXAMPLE"],
        ["using key ", " for s3"],
        id="aws-key-id",
    ),
    pytest.param(
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nAWS_REGION=us-east-1",
        ["wJalrXUtnFEMI", "bPxRfiCYEXAMPLEKEY"],
        ["AWS_SECRET_ACCESS_KEY=", "AWS_REGION=us-east-1"],
        id="aws-secret-env",
    ),
    pytest.param(
        "slack token xoxb-2048351029-3301234567890-AbCdEfGhIjKlMnOpQrStUvWx rejected",
        ["xoxb-2048351029", "AbCdEfGhIjKlMnOpQrStUvWx"],
        ["slack token ", " rejected"],
        id="slack-bot-token",
    ),
    pytest.param(
        "user token xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef",
        ["xoxp-", "0123456789abcdef0123456789abcdef"],
        ["user token "],
        id="slack-user-token",
    ),
    pytest.param(
        "SLACK_APP_TOKEN: xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef0123456789",
        ["xapp-1-A0123456789", "abcdef0123456789abcdef"],
        ["SLACK_APP_TOKEN: "],
        id="slack-app-token",
    ),
    pytest.param(
        "posting to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX failed",
        ["T00000000/B00000000", "XXXXXXXXXXXXXXXXXXXXXXXX"],
        ["posting to https://hooks.slack.com/", " failed"],
        id="slack-webhook",
    ),
    pytest.param(
        "GEMINI_API_KEY set to AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY in env",
        ["AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"],
        ["GEMINI_API_KEY set to ", " in env"],
        id="gcp-api-key",
    ),
    pytest.param(
        "metadata server gave ya29.a0AfH6SMBx3jQ8kR2Xn7vLp9QwErTyUiOpAsDfGhJkLzXcVbNm then 401",
        ["ya29.a0AfH6SMBx3jQ8kR2Xn7vLp9Qw"],
        ["metadata server gave ", " then 401"],
        id="gcp-access-token",
    ),
    pytest.param(
        '{"type": "service_account", "project_id": "imgstream-prod", "private_key": '
        f'"-----BEGIN PRIVATE KEY-----\\n{PEM_BODY}\\n-----END PRIVATE KEY-----\\n", '
        '"client_email": "imgstream@imgstream-prod.iam.gserviceaccount.com"}',
        [PEM_BODY],
        [
            '"project_id": "imgstream-prod"',
            '"client_email": "imgstream@imgstream-prod.iam.gserviceaccount.com"',
        ],
        id="service-account-json",
    ),
    pytest.param(
        f"loaded key:\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\nx2UqK8l0p3cXy7Q=\n-----END RSA PRIVATE KEY-----\nok",
        [PEM_BODY, "x2UqK8l0p3cXy7Q="],
        ["loaded key:\n", "\nok"],
        id="pem-private-key",
    ),
    pytest.param(
        "git clone https://ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789@github.com/org/repo",
        ["ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"],
        ["git clone https://", "@github.com/org/repo"],
        id="github-token",
    ),
    pytest.param(
        "GITHUB_TOKEN=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW",
        ["github_pat_11ABCDEFG0123456789", "abcdefghijklmnopqrstuvwxyz"],
        ["GITHUB_TOKEN="],
        id="github-fine-grained-token",
    ),
    pytest.param(
        "connecting with password=hunter2 to db",
        ["hunter2"],
        ["connecting with password=", " to db"],
        id="password=",
    ),
    pytest.param(
        "GET /callback?code=abc&token=9f8e7d6c5b4a39281706f5e4d3c2b1a0&next=/home 302",
        ["9f8e7d6c5b4a39281706f5e4d3c2b1a0"],
        ["GET /callback?code=abc&token=", "&next=/home 302"],
        id="token=-in-query",
    ),
    pytest.param(
        "config: api_key: sk_live_51HxYzAbCdEfGhIjKlMnOpQr timeout: 30",
        ["sk_live_51HxYzAbCdEfGhIjKlMnOpQr"],
        ["config: api_key: ", " timeout: 30"],
        id="api_key:",
    ),
    pytest.param(
        "DATABASE_PASSWORD=Tr0ub4dor&3\nREDIS_PASSWORD='correct horse battery'\nSECRET_KEY=django-insecure-8c3f\nLOG_LEVEL=info",
        ["Tr0ub4dor", "&3", "correct horse battery", "horse", "django-insecure-8c3f"],
        ["DATABASE_PASSWORD=", "REDIS_PASSWORD='", "SECRET_KEY=", "LOG_LEVEL=info"],
        id="env-dump",
    ),
    pytest.param(
        '{"user": "app", "password": "s3cr3t!Pa55", "host": "db"}',
        ["s3cr3t!Pa55"],
        ['{"user": "app", "password": "', '", "host": "db"}'],
        id="json-password",
    ),
    pytest.param(
        "could not connect: postgres://app_user:Sup3rS3cret@tldr-db.internal:5432/tldr",
        ["Sup3rS3cret"],
        ["could not connect: postgres://app_user:", "@tldr-db.internal:5432/tldr"],
        id="postgres-url",
    ),
    pytest.param(
        "redis://:r3d1sP4ss@tldr-redis.internal:6379/0 refused",
        ["r3d1sP4ss"],
        ["redis://:", "@tldr-redis.internal:6379/0 refused"],
        id="redis-url-without-user",
    ),
    pytest.param(
        "https://storage.googleapis.com/imgstream/a.jpg?X-Goog-Algorithm=GOOG4-RSA-SHA256"
        "&X-Goog-Credential=sa%40p.iam.gserviceaccount.com%2F20250314%2Fauto%2Fstorage%2Fgoog4_request"
        "&X-Goog-Date=20250314T135800Z&X-Goog-Expires=900&X-Goog-Signature=5b1f0e0a9c8d7e6f5a4b3c2d1e0f9a8b7c6d",
        ["5b1f0e0a9c8d7e6f5a4b3c2d1e0f9a8b7c6d", "sa%40p.iam"],
        [
            "https://storage.googleapis.com/imgstream/a.jpg?X-Goog-Algorithm=GOOG4-RSA-SHA256",
            "&X-Goog-Expires=900",
        ],
        id="gcs-signed-url",
    ),
    pytest.param(
        "https://bucket.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250314%2Fus-east-1"
        "&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
        ["AKIAIOSFODNN7EXAMPLE", "fe5f80f77d5fa3beca038a248ff027d0", "AWS KEY ID]"],
        ["https://bucket.s3.amazonaws.com/k?X-Amz-Credential="],
        id="s3-presigned-url",
    ),
]

MUST_KEEP = [
    'FATAL:  password authentication failed for user "tldr"',
    "jwt.exceptions.ExpiredSignatureError: Signature has expired",
    "image gcr.io/imgstream-prod/imgstream@sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "request 3f2a9c1e-77b0-4d7e-9a51-0c8e2b4f6a10 failed",
    "deployed commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904 (4b825dc)",
    "pod api-gateway-7d9f8c6b5d-x2k9q in CrashLoopBackOff",
    "GET https://imgstream.example.com/api/images?page=2&limit=50 returned 504",
    "postgres://tldr-db.internal:5432/tldr and redis://tldr-redis.internal:6379/0",
    "2025-03-14T13:58:02.118Z ERROR upstream connect error",
    "gemini request max_tokens=100 temperature=0.2",
    "token validation failed: wrong audience",
    "JWT token verification failed for audience imgstream",
    "jwt: invalid token: token is expired",
    "Invalid token: signature verification failed",
    "Bearer token missing from request",
    "Basic authentication required",
    "Failed to fetch secret projects/imgstream-prod/secrets/db-password/versions/latest: PERMISSION_DENIED",
    "tokens used: 1532 of 2048",
    "revision imgstream-production-00043-abc failed",
]


@pytest.mark.parametrize(("text", "secrets", "kept"), MUST_REDACT)
def test_secrets_are_removed_and_the_context_stays(text: str, secrets: list[str], kept: list[str]) -> None:
    clean = redact(text)
    assert "[REDACTED" in clean
    for secret in secrets:
        assert secret not in clean
    for part in kept:
        assert part in clean
    assert redact(clean) == clean  # applying it twice changes nothing


@pytest.mark.parametrize("text", MUST_KEEP)
def test_ordinary_log_lines_are_not_altered(text: str) -> None:
    assert redact(text) == text


def test_the_runner_redacts_a_probe_finding_before_anyone_sees_it(tmp_path: Path) -> None:
    playbook = {
        "id": "imgstream/redaction-check",
        "title": "Redaction check",
        "summary": "A probe whose evidence carries secrets.",
        "source": {"guide": "imgstream", "section": "Redaction check"},
        "symptoms": ["secrets in logs"],
        "diagnostics": [
            {
                "probe": "cloud_logging.query",
                # A literal secret in a filter: the probe shows the filter as is, the runner must mask it.
                "params": {"critical_count": 2, "match": 'jsonPayload.url:"api_key=k8s9d7f6g5h4j3"'},
            }
        ],
        "severity": {"default": "SEV-3"},
    }
    Playbook.model_validate(playbook)
    path = tmp_path / "redaction-check.yaml"
    path.write_text(yaml.safe_dump(playbook))
    loaded, problems = load_file(path)
    assert loaded is not None, problems
    service = Service.model_validate(
        {
            "guide": "imgstream",
            "team": "imgstream",
            "cloud_logging": {"project": "imgstream-prod", "filter": "x"},
        }
    )
    seen: list[Finding] = []
    with FakeCloudLogging() as fake:
        fake.add("upstream 401 with Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", minutes_ago=2)
        fake.add("could not connect to postgres://app:Sup3rS3cret@db.internal:5432/img", minutes_ago=1)
        clients = Clients(cloud_logging_endpoint=fake.url, google_credentials=AnonymousCredentials())
        diagnosis = Runner(clients=clients).run(loaded, "imgstream", service, on_finding=seen.append)
    (finding,) = seen
    assert finding == diagnosis.findings[0]
    assert finding.status == Status.CRITICAL
    shown = f"{finding.summary}\n{finding.evidence}"
    for secret in ("4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c", "Sup3rS3cret", "k8s9d7f6g5h4j3"):
        assert secret not in shown
    assert 'AND (jsonPayload.url:"api_key=[REDACTED]")' in finding.evidence
    assert "Sup3rS3cret" not in str(finding.data["groups"])  # log messages in data are masked too
    assert "'could not connect to postgres://app:[REDACTED]@db.internal:5432/img' x1" in finding.summary
    assert "'upstream 401 with Authorization: Bearer [REDACTED]' x1" in finding.summary
