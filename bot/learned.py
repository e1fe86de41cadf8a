"""What the evaluation texts taught the matcher: two logistic regressions over the words of a text's start.

The matcher's rules (BM25 over the playbooks, the vocabulary, the phrase cues of bot/intents.py) know what the
guides say; people write incidents in words the guides do not use. Both models read the same features of a text
(its words, word pairs and character 3- to 5-grams, and the matcher's terms) and were trained on the tune split of the evaluation sets by
`benchmarks/train_learned.py`, which also chose their regularisation by cross-validation on that split:

- `outside`: the probability that the text fits no playbook. Real texts that get past the rules are mostly a
  feature title that is only a noun phrase ("Per-route timeouts"), a chore, or an incident of a system no guide
  covers ("kafka consumer group lag climbing") matched on one generic word. Its threshold is the one that refused
  1% of the tune split's incidents in cross-validation.
- `playbooks`: one sparse model per playbook, the probability that the text is one of its incidents (L1: each
  playbook keeps the few dozen features that tell it from the rest).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

WEIGHTS = Path(__file__).with_name("learned.json")
CHARS = 500  # a title and its first lines say what kind of text it is
_WORD = re.compile(r"\w+")


def features(text: str, concepts: Iterable[str]) -> set[str]:
    """Words ("w:pool"), word pairs ("b:pool exhausted") and character 3- to 5-grams of each word, space-padded
    (" poo", "ool ", ...), of the text's start, and the matcher's terms of the whole text ("t:slow" for
    "p95 4500ms"). The grams carry a word's stem and its typos, and the CJK texts' characters; the terms carry what
    the vocabulary reads in the words (latencies, typos, translations)."""
    words = _WORD.findall(text[:CHARS].lower())
    found = {f"b:{first} {second}" for first, second in pairwise(words)}
    found.update("t:" + term for term in concepts)
    for word in set(words):
        found.update(_word_features(word))
    return found


@lru_cache(maxsize=1 << 16)
def _word_features(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    grams = (padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    return ("w:" + word, *grams)


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z > -700 else 0.0


@dataclass(frozen=True)
class Reading:
    """What the models make of one text."""

    outside: bool
    outside_probability: float
    playbooks: dict[str, float]  # playbook id -> probability that the text is one of its incidents


@dataclass(frozen=True)
class Learned:
    """The trained weights; `trained_on` is the digest of the tune split they were trained on."""

    vocabulary: dict[str, float]  # every feature trained on, with the `outside` model's weight
    outside_bias: float
    threshold: float
    playbook_bias: dict[str, float]
    playbook_weights: dict[
        str, list[tuple[str, float]]
    ]  # feature -> (playbook id, weight), the non-zero ones
    trained_on: str

    def read(self, text_features: set[str]) -> Reading:
        """What the models make of a text's `features`."""
        known, outside = 0, 0.0
        raw: dict[str, float] = {}
        for f in text_features:
            weight = self.vocabulary.get(f)
            if weight is None:
                continue
            known += 1
            outside += weight
            for playbook, playbook_weight in self.playbook_weights.get(f, ()):
                raw[playbook] = raw.get(playbook, 0.0) + playbook_weight
        # Each text's features have unit length together, as in training: a long text is not surer for its length.
        scale = 1 / math.sqrt(known) if known else 0.0
        probability = _sigmoid(self.outside_bias + scale * outside)
        return Reading(
            outside=probability > self.threshold,
            outside_probability=probability,
            playbooks={p: _sigmoid(bias + scale * raw.get(p, 0.0)) for p, bias in self.playbook_bias.items()},
        )


@cache
def learned() -> Learned:
    data = json.loads(WEIGHTS.read_text())
    by_feature: dict[str, list[tuple[str, float]]] = {}
    for playbook, model in data["playbooks"].items():
        for f, weight in model["weights"].items():
            by_feature.setdefault(f, []).append((playbook, weight))
    return Learned(
        vocabulary=data["outside"]["weights"],
        outside_bias=data["outside"]["bias"],
        threshold=data["outside"]["threshold"],
        playbook_bias={playbook: model["bias"] for playbook, model in data["playbooks"].items()},
        playbook_weights=by_feature,
        trained_on=data["trained_on"],
    )


def digest(examples: list[tuple[set[str], list[str]]]) -> str:
    """A training set's fingerprint (each text's features with the playbooks it fits), kept with the weights so a
    test can tell when the evaluation sets or the vocabulary changed and the models were not trained again."""
    rows = sorted((sorted(text_features), expect) for text_features, expect in examples)
    blob = json.dumps(rows, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()
