"""Whether a text reads like the incidents the playbooks cover: a learned check beside the matcher's rules.

The phrase cues of bot/intents.py name the requests and questions they know; the matcher's floor needs a text to be
explained by the catalogue. Real texts that get past both are mostly a feature title that is only a noun phrase
("Per-route timeouts"), a chore, or an incident of a system no guide covers ("kafka consumer group lag climbing"),
matched on one generic word. This model, a logistic regression over the words, word pairs and character 3- to
5-grams of a text's start, was trained on the tune split of the evaluation sets by `benchmarks/train_scope.py`,
which also sets its threshold: the one that refused 1% of the tune split's incidents in cross-validation.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

WEIGHTS = Path(__file__).with_name("scope_weights.json")
CHARS = 500  # a title and its first lines say what kind of text it is
_WORD = re.compile(r"\w+")


def features(text: str) -> set[str]:
    """Words ("w:pool"), word pairs ("b:pool exhausted") and character 3- to 5-grams of each word, space-padded
    (" poo", "ool ", ...): the grams carry a word's stem and its typos, and the CJK texts' characters."""
    words = _WORD.findall(text[:CHARS].lower())
    found = {f"b:{first} {second}" for first, second in pairwise(words)}
    for word in set(words):
        found.update(_word_features(word))
    return found


@lru_cache(maxsize=1 << 16)
def _word_features(word: str) -> tuple[str, ...]:
    padded = f" {word} "
    grams = (padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    return ("w:" + word, *grams)


@dataclass(frozen=True)
class ScopeModel:
    """The trained weights; `trained_on` is the digest of the tune split they were trained on."""

    weights: dict[str, float]
    bias: float
    threshold: float
    trained_on: str

    def outside_probability(self, text: str) -> float:
        """The model's probability that the text fits no playbook (a request, a question, another system)."""
        known = [self.weights[f] for f in features(text) if f in self.weights]
        # Each text's features have unit length together, as in training: a long text is not surer for its length.
        z = self.bias + (sum(known) / math.sqrt(len(known)) if known else 0.0)
        return 1 / (1 + math.exp(-z))

    def outside(self, text: str) -> bool:
        return self.outside_probability(text) > self.threshold


@cache
def scope_model() -> ScopeModel:
    data = json.loads(WEIGHTS.read_text())
    return ScopeModel(
        weights=data["weights"], bias=data["bias"], threshold=data["threshold"], trained_on=data["trained_on"]
    )


def digest(examples: list[tuple[str, bool]]) -> str:
    """A training set's fingerprint (each text with whether it fits no playbook), kept with the weights so a test
    can tell when the evaluation sets changed and the model was not trained again."""
    blob = json.dumps(sorted(examples), ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()
