"""The matcher's learned models (bot/learned.py), through the matcher: what a user notices of them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from builders import playbook

from bot.learned import digest, learned
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog

EVALUATION = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_weights_were_trained_on_the_current_tune_split(matcher: Matcher) -> None:
    # benchmarks/train_learned.py reads the tune split alone; a text added to it, or a vocabulary change in what
    # the matcher reads of one, needs the models trained again; a text added to the test split changes nothing.
    examples = []
    for name in ("matcher_eval.yaml", "matcher_eval_real.yaml"):
        for entry in yaml.safe_load((EVALUATION / name).read_text())["queries"]:
            if entry.get("split", "tune") == "tune":
                examples.append((matcher.learned_features(entry["text"]), sorted(entry["expect"])))
    assert learned().trained_on == digest(examples), "run: python benchmarks/train_learned.py"


@pytest.mark.parametrize(
    "text",
    [
        # feature titles that are only a noun phrase: no cue of bot/intents.py names them
        "Per-route timeouts",
        "Prometheus metrics for webhook deliveries",
        "Configurable retry backoff for webhook deliveries",
        "Allow custom health check path",
        "Support for Redis Sentinel",
        # incidents of systems no guide covers, which share a generic word with a playbook
        "Kafka consumer group lag keeps growing on the orders topic",
        "MongoDB replica set election keeps failing",
    ],
)
def test_a_text_unlike_the_catalogues_incidents_abstains(matcher: Matcher, text: str) -> None:
    result = matcher.match(text)
    assert result.abstained and result.best is None
    assert result.matches, "the closest playbooks are still offered"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("checkout is returning 502 for everyone", "ai-platform/5xx-errors"),
        ("we're leaking memory somewhere", "microservices-platform/memory-leaks"),
        ("uploads fail with 403", "imgstream/cannot-upload-files"),
        ("our nightly job hangs forever", "pipeline-stuck-hanging|tasks-not-being-processed"),
    ],
)
def test_incidents_in_plain_words_are_not_refused(matcher: Matcher, text: str, expected: str) -> None:
    result = matcher.match(text)
    assert result.best is not None and re.search(expected, result.best.playbook.id), result.matches


def test_a_known_error_string_is_never_refused_by_the_model(matcher: Matcher) -> None:
    # The model weighs words; an error string a playbook knows is evidence, whatever the words around it.
    text = "Knex: Timeout acquiring a connection. The pool is probably full."
    assert learned().read(matcher.learned_features(text)).outside, "the model alone would refuse this text"
    result = matcher.match(text)
    assert result.best is not None and result.best.playbook.id.endswith("connection-pool-exhaustion")
    assert any(why.startswith("error string") for why in result.best.why)


def test_with_a_playbook_the_models_never_saw_the_rules_alone_decide(
    catalog: Catalog, tmp_path: Path
) -> None:
    # A team's imported guide: its texts must not be refused as unlike the bundled catalogue, nor its playbooks
    # ranked below the bundled ones for lack of a learned probability.
    imported = playbook(tmp_path, [{"probe": "k8s.pods"}], id="shop/consumer-lag", source={"guide": "shop", "section": "Consumer lag"},
                        title="Kafka consumer lag", symptoms=["kafka consumer group lag keeps growing"])  # fmt: skip
    text = "Kafka consumer group lag keeps growing on the orders topic"
    assert Matcher(catalog).match(text).abstained, "the bundled catalogue's model refuses it"
    mixed = Matcher(Catalog([*catalog, imported]))
    for result in (mixed.match(text), mixed.match(text, guide="shop")):
        assert result.best is not None and result.best.playbook.id == "shop/consumer-lag"
        assert not any("reads like its reports" in why for m in result.matches for why in m.why)
    bundled = mixed.match("pods keep restarting, OOMKilled", guide="microservices-platform")
    assert any("reads like its reports" in why for m in bundled.matches for why in m.why), (
        "a bundled guide keeps them"
    )
