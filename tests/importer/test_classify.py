"""What one guide command becomes in a playbook: the probe or action (with the parameters lifted from it),
or a manual step, for the commands troubleshooting docs use."""

from __future__ import annotations

from typing import Any

import pytest

from bot.importer.classify import classify
from bot.importer.codeblocks import split
from bot.importer.placeholders import Context


def shop() -> Context:
    """A service in Kubernetes with Prometheus, Alertmanager, PostgreSQL and Redis."""
    values: dict[str, str | None] = {
        "service": "shop-api", "namespace": "shop", "deployment": "shop-api", "selector": "app=shop-api",
        "k8s_service": "shop-api", "configmap": "shop-config", "ingress": "shop-api",
        "health_url": "https://shop.example.com/healthz", "base_url": "https://shop.example.com",
        "host": "shop.example.com", "prometheus_url": "http://prometheus.monitoring:9090",
        "alertmanager_url": "http://alertmanager.monitoring:9093", "postgres_host": "shop-db.internal",
        "postgres_port": "5432", "redis_host": "cache.internal", "redis_port": "6379",
    }  # fmt: skip
    return Context("shop-api", values, "shop")


def reports() -> Context:
    """A service on Cloud Run with Cloud Logging."""
    values: dict[str, str | None] = {
        "service": "reports", "cloud_run_service": "reports", "project": "acme", "region": "europe-west1",
        "log_filter": 'resource.type="cloud_run_revision"', "health_url": "https://reports.example.com/healthz",
        "base_url": "https://reports.example.com", "host": "reports.example.com",
    }  # fmt: skip
    return Context("reports", values, None)


def mapped(
    command: str, lang: str = "shell", fix: bool = False, ctx: Context | None = None
) -> list[tuple[str, Any, dict[str, Any]]]:
    return [(m.kind, m.name, m.params) for m in classify(command, lang, fix, ctx or shop())]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("kubectl get po -n shop -l app=shop-api -o wide", [("probe", "k8s.pods", {})]),
        ("kubectl get deploy,pods -n shop", [("probe", "k8s.rollout", {}), ("probe", "k8s.pods", {})]),
        (
            "kubectl describe pod shop-api-7d9f8b6c4-x2x9q -n shop",
            [("probe", "k8s.pods", {}), ("probe", "k8s.events", {})],
        ),
        ("kubectl get ep shop-api -n shop", [("probe", "k8s.endpoints", {})]),
        ("kubectl describe svc shop-api -n shop", [("probe", "k8s.endpoints", {})]),
        ("kubectl get netpol -n shop", [("probe", "k8s.network_policies", {})]),
        ("kubectl get hpa checkout -n shop", [("probe", "k8s.hpa", {"name": "checkout"})]),
        ("kubectl get cm shop-config -n shop -o yaml", [("probe", "k8s.configmap", {})]),
        ("kubectl rollout history deployment/shop-api -n shop", [("probe", "k8s.rollout", {})]),
        ("kubectl get rs -n shop", [("probe", "k8s.rollout", {})]),
        (
            "kubectl top pod -n shop -l app=worker",
            [("probe", "k8s.resource_usage", {"selector": "app=worker"})],
        ),
        ("watch -n 5 'kubectl top pods -l app=shop-api'", [("probe", "k8s.resource_usage", {})]),
        (
            "kubectl logs shop-api-7d9f8b6c4-x2x9q -n shop --previous --tail=50 | grep 'Traceback\\|panic'",
            [("probe", "k8s.logs", {"tail_lines": 50, "patterns": ["Traceback|panic"]})],
        ),
        ("kubectl get pods -n monitoring", [("manual", None, {})]),
        ("kubectl get poddisruptionbudget -n shop", [("manual", None, {})]),
        ("kubectl auth can-i list pods --as system:serviceaccount:shop:default", [("manual", None, {})]),
    ],
)
def test_kubectl_reads_by_verb_and_kind(
    command: str, expected: list[tuple[str, Any, dict[str, Any]]]
) -> None:
    assert mapped(command) == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "kubectl rollout undo deployment/shop-api -n shop --to-revision=4",
            ("action", "k8s.rollout_undo", {"to_revision": 4}),
        ),
        ("kubectl scale deploy/shop-api --replicas=6 -n shop", ("action", "k8s.scale", {"replicas": 6})),
        (
            "kubectl set env deployment/shop-api -n shop LOG_LEVEL=debug",
            ("action", "k8s.set_env", {"env": {"LOG_LEVEL": "debug"}}),
        ),
        (
            "kubectl set resources deployment/shop-api --limits=cpu=2,memory=4Gi",
            ("action", "k8s.set_resources", {"cpu_limit": "2", "memory_limit": "4Gi"}),
        ),
        (
            "export REDIS_URL=redis://cache.internal:6379/0",
            ("action", "k8s.set_env", {"env": {"REDIS_URL": "redis://cache.internal:6379/0"}}),
        ),
        (
            'JAVA_OPTS="-XX:+UseG1GC -XX:MaxGCPauseMillis=200"',
            ("action", "k8s.set_env", {"env": {"JAVA_OPTS": "-XX:+UseG1GC -XX:MaxGCPauseMillis=200"}}),
        ),
    ],
)
def test_kubectl_and_settings_in_a_fix_become_actions(
    command: str, expected: tuple[str, Any, dict[str, Any]]
) -> None:
    assert mapped(command, fix=True) == [expected]


@pytest.mark.parametrize(
    "command",
    [
        "export DATABASE_URL=postgresql://shop:s3cret@shop-db.internal/shop",  # a secret: the action previews values
        "export API_KEY=abc123",
        "export IAP_AUDIENCE=your-audience",  # a value to look up first
        "kubectl set image deployment/shop-api api=shop:1.4.2",  # no action sets an image
        "kubectl delete pod shop-api-7d9f8b6c4-x2x9q",
    ],
)
def test_fixes_no_action_should_do_stay_manual(command: str) -> None:
    assert mapped(command, fix=True) == [("manual", None, {})]


def test_a_setting_in_a_diagnosis_block_is_not_an_action() -> None:
    assert mapped("export LOG_LEVEL=debug") == [("manual", None, {})]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("curl -s https://shop.example.com/healthz | jq .checks.db", [("probe", "http.check", {})]),
        (
            "curl -o /dev/null -s -w '%{time_total}' https://shop.example.com/cart",
            [("probe", "http.check", {"url": "{base_url}/cart"})],
        ),
        ("wget -qO- https://shop.example.com/healthz", [("probe", "http.check", {})]),
        (
            "curl 'http://prometheus.monitoring:9090/api/v1/query?query=up{job=\"shop\"}'",
            [("probe", "prometheus.query", {"query": 'up{job="shop"}', "label": "value"})],
        ),
        (
            "curl -G -s http://localhost:9090/api/v1/query --data-urlencode 'query=sum(rate(http_requests_total[5m]))'",
            [
                (
                    "probe",
                    "prometheus.query",
                    {"query": "sum(rate(http_requests_total[5m]))", "label": "value"},
                )
            ],
        ),
        (
            "curl -s localhost:9090/api/v1/targets | jq '.data.activeTargets[]'",
            [("probe", "prometheus.targets", {})],
        ),
        (
            "curl -s 'http://alertmanager:9093/api/v2/alerts?filter=alertname=\"ShopDown\"'",
            [("probe", "alertmanager.alerts", {"matchers": {"alertname": "ShopDown"}})],
        ),
        (
            "curl -s https://shop.example.com/metrics | grep http_request_duration_seconds",
            [
                (
                    "probe",
                    "prometheus.query",
                    {
                        "query": "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{{metrics_selector}}[5m])) by (le))",
                        "label": "p95 http_request_duration_seconds",
                        "unit": "s",
                    },
                )
            ],
        ),
        ("curl -s https://shop.example.com/metrics | grep cache_", [("manual", None, {})]),
        ("curl -H 'Authorization: Bearer $TOKEN' https://shop.example.com/admin", [("manual", None, {})]),
        ("curl -d '{\"sku\": 1}' https://shop.example.com/cart", [("manual", None, {})]),  # -d sends a POST
    ],
)
def test_http_calls_by_the_api_they_call(
    command: str, expected: list[tuple[str, Any, dict[str, Any]]]
) -> None:
    assert mapped(command) == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "pg_isready -h shop-db.internal -p 5432",
            ("probe", "tcp.connect", {"host": "{postgres_host}", "port": "{postgres_port}"}),
        ),
        (
            "redis-cli -h cache.internal ping",
            ("probe", "tcp.connect", {"host": "{redis_host}", "port": "{redis_port}"}),
        ),
        (
            "nc -zv cache.internal 6379",
            ("probe", "tcp.connect", {"host": "{redis_host}", "port": "{redis_port}"}),
        ),
        ("telnet search.internal 9200", ("probe", "tcp.connect", {"host": "search.internal", "port": 9200})),
        ("dig +short shop.example.com A", ("probe", "dns.resolve", {})),
        (
            "nslookup shop-api.shop.svc.cluster.local",
            ("probe", "dns.resolve", {"host": "{k8s_service}.{namespace}.svc.cluster.local"}),
        ),
        (
            "echo | openssl s_client -connect shop.example.com:443 -servername shop.example.com 2>/dev/null"
            " | openssl x509 -noout -dates",
            ("probe", "tls.certificate", {}),
        ),
    ],
)
def test_names_ports_and_certificates(command: str, expected: tuple[str, Any, dict[str, Any]]) -> None:
    assert mapped(command) == [expected]


@pytest.mark.parametrize(
    ("command", "lang", "query"),
    [
        (
            "SELECT state, count(*) FROM pg_stat_activity GROUP BY state;",
            "sql",
            "sum(pg_stat_activity_count)",
        ),
        (
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction';",
            "sql",
            'sum(pg_stat_activity_count{state="idle in transaction"})',
        ),
        (
            "SELECT pid, now() - query_start AS duration, query FROM pg_stat_activity WHERE state = 'active';",
            "sql",
            'max(pg_stat_activity_max_tx_duration{state="active"})',
        ),
        ("SELECT client_addr, replay_lag FROM pg_stat_replication;", "sql", "max(pg_replication_lag)"),
        (
            'kubectl exec -it deploy/postgres -n shop -- psql -c "SELECT count(*) FROM pg_stat_activity;"',
            "shell",
            "sum(pg_stat_activity_count)",
        ),
        ("docker compose exec db psql -U shop -c 'SELECT * FROM pg_locks'", "shell", "sum(pg_locks_count)"),
    ],
)
def test_sql_on_postgres_views_reads_the_exporters_metric(command: str, lang: str, query: str) -> None:
    found = classify(command, lang, False, shop())
    assert [(m.kind, m.name, m.params["query"], m.approximate) for m in found] == [
        ("probe", "prometheus.query", query, True)
    ]


def test_sql_that_writes_stays_manual() -> None:
    command = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction';"
    assert mapped(command, "sql", fix=True) == [("manual", None, {})]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "kubectl exec shop-api-7d9f8b6c4-x2x9q -n shop -- curl -s http://localhost:8080/healthz",
            ("probe", "http.check", {}),
        ),  # localhost in the service's own pod is the service
        (
            "kubectl exec -it deploy/shop-api -n shop -- nslookup shop-db.internal",
            ("probe", "dns.resolve", {"host": "shop-db.internal"}),
        ),
        (
            "docker compose exec redis redis-cli ping",
            ("probe", "tcp.connect", {"host": "{redis_host}", "port": "{redis_port}"}),
        ),
        (
            "kubectl run curl --image=curlimages/curl --rm -it -- curl http://shop-api.shop:8080/healthz",
            ("probe", "http.check", {"url": "http://shop-api.shop:8080/healthz"}),
        ),
        (
            "kubectl run debug --image=busybox --rm -it -- /bin/sh\n# Inside pod: nslookup shop-api",
            ("probe", "dns.resolve", {"host": "{k8s_service}.{namespace}.svc.cluster.local"}),
        ),
    ],
)
def test_a_command_run_in_a_container_is_checked_from_the_bot(
    command: str, expected: tuple[str, Any, dict[str, Any]]
) -> None:
    found = classify(command, "shell", False, shop())
    assert [(m.kind, m.name, m.params) for m in found] == [expected]
    assert found[0].approximate  # the command is kept beside the probe


def test_a_shell_in_a_container_or_a_write_there_stays_manual() -> None:
    assert mapped("kubectl exec -it deploy/shop-api -n shop -- /bin/sh") == [("manual", None, {})]
    assert mapped("kubectl exec deploy/shop-api -n shop -- rm -rf /tmp/cache") == [("manual", None, {})]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gcloud run services describe reports --region=europe-west1", [("probe", "cloud_run.service", {})]),
        (
            "gcloud run revisions list --service=reports --region=europe-west1",
            [("probe", "cloud_run.service", {})],
        ),
        (
            "gcloud run revisions describe reports-00042-xyz --region=europe-west1",
            [("probe", "cloud_run.service", {})],
        ),
        (
            "gcloud logging read 'resource.type=\"cloud_run_revision\" AND severity>=WARNING' --limit=20 --freshness=30m",
            [
                (
                    "probe",
                    "cloud_logging.query",
                    {"limit": 20, "window_minutes": 30, "min_severity": "WARNING"},
                )
            ],
        ),
        (
            "gcloud beta run services logs read reports --limit=100",
            [("probe", "cloud_logging.query", {"limit": 100})],
        ),
        ("gcloud sql instances describe reports-db", [("manual", None, {})]),
    ],
)
def test_gcloud_reads_by_command_group(command: str, expected: list[tuple[str, Any, dict[str, Any]]]) -> None:
    assert mapped(command, ctx=reports()) == expected


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "gcloud run services update-traffic reports --to-revisions=reports-00041-abc=100",
            [("action", "cloud_run.traffic_rollback", {"to_revision": "reports-00041-abc"})],
        ),
        (
            "gcloud run services update-traffic reports --to-latest",
            [("action", "cloud_run.traffic_to_latest", {})],
        ),
        (
            "gcloud run services update reports --memory=1Gi --max-instances=20",
            [
                ("action", "cloud_run.update_resources", {"memory": "1Gi"}),
                ("action", "cloud_run.scale", {"max_instances": 20}),
            ],
        ),
        (
            "gcloud run services update reports --update-env-vars=BUCKET=acme-reports",
            [("action", "cloud_run.set_env", {"env": {"BUCKET": "acme-reports"}})],
        ),
        (
            "export BUCKET=acme-reports",
            [("action", "cloud_run.set_env", {"env": {"BUCKET": "acme-reports"}})],
        ),
        ("gcloud run services update reports --region=europe-west1", [("action", "cloud_run.redeploy", {})]),
        (
            "gcloud run services update reports --service-account=reports@acme.iam.gserviceaccount.com",
            [("manual", None, {})],
        ),
        (
            "gcloud run deploy reports --image=europe-docker.pkg.dev/acme/reports/app:1.4.2",
            [("manual", None, {})],
        ),
    ],
)
def test_gcloud_fixes_become_cloud_run_actions(
    command: str, expected: list[tuple[str, Any, dict[str, Any]]]
) -> None:
    assert mapped(command, fix=True, ctx=reports()) == expected


@pytest.mark.parametrize(
    ("command", "query"),
    [
        ("uv run celery -A shop.worker inspect stats", "sum(celery_worker_up)"),
        (
            "docker stats --no-stream",
            'max(container_memory_working_set_bytes{name=~".+"} / (container_spec_memory_limit_bytes{name=~".+"} > 0))',
        ),
    ],
)
def test_commands_an_exporter_answers_for_read_its_metric(command: str, query: str) -> None:
    found = classify(command, "shell", False, shop())
    assert [(m.name, m.params["query"], m.approximate) for m in found] == [("prometheus.query", query, True)]


def test_the_health_endpoint_is_checked_without_the_credentials_a_command_sends() -> None:
    found = classify(
        "curl -H 'Authorization: Bearer $TOKEN' https://shop.example.com/healthz", "shell", False, shop()
    )
    assert [(m.name, m.params, m.approximate) for m in found] == [("http.check", {}, True)]


def test_reading_a_buckets_policy_is_not_a_write() -> None:
    found = classify("gsutil iam get gs://shop-uploads", "shell", False, shop())
    assert [(m.kind, m.warning) for m in found] == [("manual", None)]
    assert [
        m.kind
        for m in classify("gsutil iam ch allUsers:objectViewer gs://shop-uploads", "shell", False, shop())
    ] == ["manual"]
    assert classify("gsutil iam ch allUsers:objectViewer gs://shop-uploads", "shell", False, shop())[
        0
    ].warning


def test_a_setting_exported_for_the_script_under_it_is_not_the_services() -> None:
    commands = split(
        "bash",
        "# Update email for alerts\nexport ALERT_EMAIL=ops@example.com\n./scripts/setup-monitoring.sh\n",
        1,
    )
    assert [c.text for c in commands] == ["export ALERT_EMAIL=ops@example.com\n./scripts/setup-monitoring.sh"]
    assert mapped(commands[0].text, fix=True) == [("manual", None, {})]
