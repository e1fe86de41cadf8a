"""The matcher ranks playbooks for what people type and what alerts say, explains its pick, and abstains."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.config import Config
from bot.matcher import Matcher, terms
from bot.playbooks_loader import Catalog

EVAL = Path(__file__).resolve().parents[1] / "benchmarks" / "matcher_eval.yaml"


@pytest.fixture(scope="module")
def hinted(catalog: Catalog, example_config: Config) -> Matcher:
    return Matcher(catalog, example_config.guide_hints())


@pytest.mark.parametrize(
    ("text", "guide", "acceptable"),
    [
        ("FATAL: sorry, too many clients already", None,
         {"ai-platform/connection-pool-exhaustion", "tldr-highlight-api/connection-pool-exhausted",
          "microservices-platform/connection-pool-exhaustion"}),
        ("FATAL: sorry, too many clients already", "tldr-highlight-api", {"tldr-highlight-api/connection-pool-exhausted"}),
        ("pods keep restarting OOMKilled", "microservices-platform",
         {"microservices-platform/memory-leaks", "microservices-platform/service-crashes"}),
        ("504 from the gateway since 14:00", "ai-platform", {"ai-platform/high-latency-or-timeouts"}),
        ("redis.exceptions.ConnectionError: Error 111 connecting to localhost:6379. Connection refused.", None,
         {"tldr-highlight-api/redis-connection-refused"}),
        ("OSError: [Errno 98] Address already in use", None, {"tldr-highlight-api/port-already-in-use"}),
        ("certificate has expired for api.your-domain.com", None, {"ai-platform/ssl-tls-issues"}),
        ("replica is 45 seconds behind the primary", None, {"microservices-platform/replication-lag"}),
    ],
)  # fmt: skip
def test_representative_texts_pick_the_right_playbook(
    hinted: Matcher, text: str, guide: str | None, acceptable: set[str]
) -> None:
    result = hinted.match(text, guide=guide)
    assert not result.abstained
    assert result.matches[0].playbook.id in acceptable
    assert result.matches[0].why, "every pick says why"


def test_an_error_string_is_named_in_the_explanation(matcher: Matcher) -> None:
    best = matcher.match("psycopg2.OperationalError: FATAL:  sorry, too many clients already").matches[0]
    assert any("too many clients" in reason for reason in best.why)


@pytest.mark.parametrize(
    "text",
    ["how do I enable dark mode", "", "   ", "hey, anyone around?", "thanks!", "?!*+[](){}\\",
     "where do I submit expense reports", "write me a haiku about kubernetes"],
)  # fmt: skip
def test_abstains_when_nothing_fits_and_still_shows_candidates_safely(hinted: Matcher, text: str) -> None:
    result = hinted.match(text)
    assert result.abstained
    assert result.best is None
    assert len(result.matches) <= 3


def test_a_service_narrows_the_ranking_to_its_guide(matcher: Matcher) -> None:
    result = matcher.match("high memory usage", guide="tldr-highlight-api", top=5)
    assert {m.playbook.guide for m in result.matches} == {"tldr-highlight-api"}


def test_a_service_named_in_the_text_favours_its_guide(catalog: Catalog, hinted: Matcher) -> None:
    text = "auth-service-7c9d8f6b5-qwe12   0/1   CrashLoopBackOff   17 (2m14s ago)   1h"
    assert hinted.match(text).matches[0].playbook.guide == "microservices-platform"
    assert any("mentions auth-service" in reason for reason in hinted.match(text).matches[0].why)


def test_long_noisy_text_is_handled(hinted: Matcher) -> None:
    log = "\n".join(
        ["INFO request ok"] * 2000
        + ["ERROR asyncpg.exceptions.TooManyConnectionsError: sorry, too many clients already"]
    )
    result = hinted.match(log)
    assert not result.abstained
    assert "connection-pool" in result.matches[0].playbook.id


def test_ranking_is_deterministic_and_json_has_the_documented_shape(hinted: Matcher) -> None:
    first = hinted.match("p95 latency through the roof", service="api-gateway", guide="ai-platform").to_json()
    assert (
        first
        == hinted.match("p95 latency through the roof", service="api-gateway", guide="ai-platform").to_json()
    )
    assert set(first) == {"query", "service", "abstained", "not_incident", "matches"}
    assert all(set(m) == {"id", "title", "guide", "section", "score", "why"} for m in first["matches"])  # type: ignore[union-attr]


def test_vocabulary_folds_synonyms_and_error_spellings() -> None:
    assert terms("OOMKilled") == terms("oom kill")
    assert "oom" in terms("container ran out of memory")
    assert "connlimit" in terms("too many connections")
    assert terms("503ing") == terms("503")
    assert "jwt" in terms("JWTs")


def test_quality_on_the_evaluation_set(hinted: Matcher, example_config: Config) -> None:
    """A floor under the benchmark's figures, so a change that breaks matching fails here too."""
    queries = yaml.safe_load(EVAL.read_text())["queries"]
    top3 = labelled = abstained = unlabelled = 0
    for query in queries:
        guide = example_config.service(query["service"])[1].guide if query.get("service") else None
        result = hinted.match(query["text"], guide=guide)
        if query["expect"]:
            labelled += 1
            top3 += not result.abstained and bool(
                set(query["expect"]) & {m.playbook.id for m in result.matches}
            )
        else:
            unlabelled += 1
            abstained += result.abstained
    assert labelled >= 150 and unlabelled >= 50
    assert top3 / labelled >= 0.9
    assert abstained / unlabelled >= 0.8
