"""Train bot/scope_weights.json, the check of whether a text reads like the incidents the playbooks cover.

    pip install -e '.[train]' && python benchmarks/train_scope.py

Run it after adding texts to the evaluation sets (a test fails until it is). It reads the tune split only: the test
split stays held out for benchmarks/matcher.py to report. The regularisation and the threshold are chosen by 5-fold
cross-validation on the tune split: the threshold refuses 1% of the incidents, and the regularisation is the one that
then refuses the most texts that fit no playbook.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
from matcher import load_queries  # benchmarks/matcher.py, beside this script
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from bot.scope import WEIGHTS, digest, features

STRENGTHS = (1.0, 3.0, 10.0, 30.0, 100.0)  # the inverse regularisation tried
FALSE_REFUSALS = 0.01  # of the incidents, in cross-validation


def vocabulary(texts: list[str]) -> dict[str, int]:
    """The features seen in at least two texts (one text's feature says nothing about the next)."""
    counts = Counter(f for text in texts for f in features(text))
    return {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= 2))}


def matrix(texts: list[str], vocab: dict[str, int]) -> csr_matrix:
    """Binary features scaled to unit length per text, as bot/scope.py scores them."""
    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        known = [vocab[f] for f in features(text) if f in vocab]
        rows += [row] * len(known)
        cols += known
        values += [1 / math.sqrt(len(known))] * len(known) if known else []
    return csr_matrix((values, (rows, cols)), shape=(len(texts), len(vocab)))


def fit(texts: list[str], outside: np.ndarray, strength: float) -> tuple[LogisticRegression, dict[str, int]]:
    vocab = vocabulary(texts)
    model = LogisticRegression(C=strength, max_iter=5000, class_weight="balanced")
    return model.fit(matrix(texts, vocab), outside), vocab


def cross_validated(texts: list[str], outside: np.ndarray, strength: float) -> np.ndarray:
    """Each tune text's probability of fitting no playbook, from a model trained without its fold."""
    probability = np.zeros(len(texts))
    for train, held in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, outside):
        model, vocab = fit([texts[i] for i in train], outside[train], strength)
        probability[held] = model.predict_proba(matrix([texts[i] for i in held], vocab))[:, 1]
    return probability


def main() -> None:
    examples = [(q["text"], not q["expect"]) for q in load_queries() if q["split"] == "tune"]
    texts = [text for text, _ in examples]
    outside = np.array([int(fits_none) for _, fits_none in examples])
    print(f"tune split: {len(texts)} texts, {outside.sum()} that fit no playbook")
    best: tuple[float, float, float] | None = None
    for strength in STRENGTHS:
        probability = cross_validated(texts, outside, strength)
        threshold = float(np.quantile(probability[outside == 0], 1 - FALSE_REFUSALS))
        refused = float((probability[outside == 1] > threshold).mean())
        print(
            f"  C={strength:<5} threshold {threshold:.3f}: refuses {refused:.1%} of the texts that fit no playbook"
        )
        if best is None or refused > best[0]:
            best = (refused, strength, threshold)
    assert best is not None
    refused, strength, threshold = best
    model, vocab = fit(texts, outside, strength)
    weights = {f: round(float(model.coef_[0][i]), 4) for f, i in vocab.items()}
    WEIGHTS.write_text(
        json.dumps(
            {
                "trained_on": digest(examples),
                "strength": strength,
                "threshold": round(threshold, 4),
                "bias": round(float(model.intercept_[0]), 4),
                "weights": weights,
            },
            ensure_ascii=False,
            indent=0,
            sort_keys=True,
        )
        + "\n"
    )
    print(f"wrote {WEIGHTS} (C={strength}, threshold {threshold:.3f}, {len(weights)} features)")


if __name__ == "__main__":
    main()
