"""What an entry's own words, and the guide's alerting rules, add to a draft beyond its commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.importer.placeholders import Context
from bot.importer.run import Imported, import_guide

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "guides"


def shop() -> Context:
    """A service in Kubernetes with a health endpoint, Prometheus, Alertmanager, PostgreSQL and Redis."""
    values: dict[str, str | None] = {
        "service": "shop-api", "namespace": "shop", "deployment": "shop-api", "selector": "app=shop-api",
        "health_url": "https://shop.example.com/healthz", "base_url": "https://shop.example.com",
        "prometheus_url": "http://prometheus:9090", "alertmanager_url": "http://alertmanager:9093",
        "postgres_host": "shop-db", "postgres_port": "5432", "redis_host": "cache", "redis_port": "6379",
    }  # fmt: skip
    return Context("shop-api", values, "shop")


def imported() -> Imported:
    return import_guide((FIXTURES / "suggestions.md").read_text(encoding="utf-8"), "shop", shop())


def probes(result: Imported, section: str) -> list[tuple[str, dict[str, Any]]]:
    draft = next(d for d in result.drafts if d.section == section)
    return [(d["probe"], d.get("params", {})) for d in draft.data["diagnostics"] if "probe" in d]


def test_the_guides_alert_rule_about_an_entry_gives_its_query_and_alert() -> None:
    found = probes(imported(), "Database Connection Failed")
    assert ("prometheus.query", {"query": 'up{job="postgres"}', "label": "DatabaseDown", "direction": "below",
                                 "critical": 0.5}) in found  # fmt: skip
    assert ("alertmanager.alerts", {"matchers": {"alertname": "DatabaseDown"}}) in found


def test_an_alerts_state_can_be_said_in_other_words_and_its_subject_by_a_check() -> None:
    found = probes(
        imported(), "Tasks Not Being Processed"
    )  # "stuck in PENDING" is a backlog; "Check queue status"
    assert (
        "prometheus.query",
        {"query": "celery_queue_length", "label": "QueueBacklog", "critical": 100.0},
    ) in found
    assert ("alertmanager.alerts", {"matchers": {"alertname": "QueueBacklog"}}) in found
    assert any(
        p == "prometheus.query" and q["query"] == "sum(celery_worker_up)" for p, q in found
    )  # celery inspect


def test_an_alert_is_not_about_an_entry_that_only_names_its_subject() -> None:
    found = probes(imported(), "Slow Reports")  # "Check database performance": nothing is down
    assert "alertmanager.alerts" not in [p for p, _ in found]
    assert ("prometheus.query", {"query": "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{{metrics_selector}}[5m])) by (le))",
                                 "label": "p95 latency", "unit": "s", "warn": 2.0, "critical": 4.0}) in found  # fmt: skip


def test_an_entry_about_another_platform_gets_no_kubernetes_probes() -> None:
    found = [p for p, _ in probes(imported(), "Edge Worker Not Responding")]
    assert "http.check" in found  # the health endpoint works wherever the service runs
    assert not [p for p in found if p.startswith("k8s.")]


def test_logs_are_searched_for_quoted_messages_not_quoted_values() -> None:
    assert ("k8s.logs", {"patterns": ["connection\\s+refused"]}) in probes(
        imported(), "Database Connection Failed"
    )
    assert "k8s.logs" not in [p for p, _ in probes(imported(), "Pipeline Stuck")]


def test_a_status_in_another_systems_error_is_not_the_services_status_ratio() -> None:
    upstream = [
        q.get("label")
        for p, q in probes(imported(), "Payment Provider Rejects Calls")
        if p == "prometheus.query"
    ]
    assert "401 ratio" not in upstream
    own = [
        q.get("label") for p, q in probes(imported(), "Admin Pages Refuse Access") if p == "prometheus.query"
    ]
    assert "401 ratio" in own


def test_nothing_is_suggested_without_a_service() -> None:
    result = import_guide((FIXTURES / "suggestions.md").read_text(encoding="utf-8"), "shop", Context())
    assert all(o.part != "suggested" for d in result.drafts for o in d.outcomes)


def test_a_fix_that_sets_the_cloud_run_environment_shows_the_environment_first() -> None:
    guide = """# Gallery troubleshooting

## Uploads fail

**Symptoms:**
- Uploads fail with 500

**Solutions:**
1. **Point the service at the right bucket:**
   ```bash
   gcloud run services update gallery \\
     --set-env-vars="BUCKET=your-bucket" --region=us-central1
   ```

## Uploads are slow

**Symptoms:**
- Uploads take 10 s

**Solutions:**
1. **More memory:**
   ```bash
   gcloud run services update gallery --memory=2Gi --region=us-central1
   ```
"""
    values: dict[str, str | None] = {
        "service": "gallery", "project": "gallery-prod", "region": "us-central1", "cloud_run_service": "gallery"
    }  # fmt: skip
    result = import_guide(guide, "gallery", Context("gallery", values, "gallery"))
    assert "cloud_run.service" in [p for p, _ in probes(result, "Uploads fail")]
    assert "cloud_run.service" not in [p for p, _ in probes(result, "Uploads are slow")], (
        "resources are not it"
    )
