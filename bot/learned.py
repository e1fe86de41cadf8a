"""What the evaluation texts taught the matcher: two logistic regressions over the words of a text.

The matcher's rules (BM25 over the playbooks, the vocabulary, the phrase cues of bot/intents.py) know what the
guides say; people write incidents in words the guides do not use. Both models read the same features of a text
(its words, word pairs and character 3- to 5-grams, and the matcher's terms) and were trained on the tune split
of the evaluation sets by `benchmarks/train_learned.py`, which also chose their regularisation by cross-validation
on that split:

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
    found.update("t:" + term for term in set(concepts))
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

    # every feature trained on: the `outside` model's weight, and the playbook models' non-zero ones (by index)
    weights: dict[str, tuple[float, tuple[tuple[int, float], ...]]]
    outside_bias: float
    threshold: float
    playbook_ids: tuple[str, ...]
    playbook_bias: tuple[float, ...]
    trained_on: str

    def read(self, text_features: set[str]) -> Reading:
        """What the models make of a text's `features` (one lookup per feature: this runs with every match)."""
        known, outside = 0, 0.0
        raw = [0.0] * len(self.playbook_ids)
        for f in text_features:
            entry = self.weights.get(f)
            if entry is None:
                continue
            known += 1
            outside += entry[0]
            for i, weight in entry[1]:
                raw[i] += weight
        # Each text's features have unit length together, as in training: a long text is not surer for its length.
        scale = 1 / math.sqrt(known) if known else 0.0
        probability = _sigmoid(self.outside_bias + scale * outside)
        return Reading(
            outside=probability > self.threshold,
            outside_probability=probability,
            playbooks={
                playbook: _sigmoid(bias + scale * value)
                for playbook, bias, value in zip(self.playbook_ids, self.playbook_bias, raw, strict=True)
            },
        )


@cache
def learned() -> Learned:
    data = json.loads(WEIGHTS.read_text())
    ids = tuple(sorted(data["playbooks"]))
    per_feature: dict[str, list[tuple[int, float]]] = {}
    for i, playbook in enumerate(ids):
        for f, weight in data["playbooks"][playbook]["weights"].items():
            per_feature.setdefault(f, []).append((i, weight))
    return Learned(
        weights={f: (w, tuple(per_feature.get(f, ()))) for f, w in data["outside"]["weights"].items()},
        outside_bias=data["outside"]["bias"],
        threshold=data["outside"]["threshold"],
        playbook_ids=ids,
        playbook_bias=tuple(data["playbooks"][playbook]["bias"] for playbook in ids),
        trained_on=data["trained_on"],
    )


def digest(examples: list[tuple[set[str], list[str]]]) -> str:
    """A training set's fingerprint (each text's features with the playbooks it fits), kept with the weights so a
    test can tell when the evaluation sets or the vocabulary changed and the models were not trained again."""
    rows = sorted((sorted(text_features), expect) for text_features, expect in examples)
    blob = json.dumps(rows, ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()
