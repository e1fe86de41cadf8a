"""Train bot/learned.json, the matcher's two learned models (see bot/learned.py).

    pip install -e '.[train]' && python benchmarks/train_learned.py

Run it after adding texts to the evaluation sets or changing what the vocabulary reads (a test fails until it is). It reads the tune split only: the test
split stays held out for benchmarks/matcher.py to report. Each model's regularisation is chosen by 5-fold
cross-validation on the tune split, from the model's own figures (not the matcher's, whose rules were tuned on
that split):
- `outside`: the threshold refuses 1% of the incidents, and the regularisation is the one that then refuses the
  most texts that fit no playbook;
- `playbooks`: the regularisation with the best log-loss, since the matcher adds the probabilities to its scores
  (their calibration matters, not only which playbook comes first).
"""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
from matcher import load_queries  # benchmarks/matcher.py, beside this script
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from bot.learned import WEIGHTS, digest
from bot.matcher import Matcher
from bot.playbooks_loader import load_catalog

OUTSIDE_STRENGTHS = (1.0, 3.0, 10.0, 30.0, 100.0)  # inverse regularisation (L2)
PLAYBOOK_STRENGTHS = (1.0, 3.0, 10.0, 30.0, 100.0)  # inverse regularisation (L1)
FALSE_REFUSALS = 0.01  # of the incidents, in cross-validation


def vocabulary(texts: list[set[str]]) -> dict[str, int]:
    """The features seen in at least two texts (one text's feature says nothing about the next)."""
    counts = Counter(f for text in texts for f in text)
    return {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= 2))}


def matrix(texts: list[set[str]], vocab: dict[str, int]) -> csr_matrix:
    """Binary features scaled to unit length per text, as bot/learned.py reads them."""
    rows, cols, values = [], [], []
    for row, text in enumerate(texts):
        known = [vocab[f] for f in text if f in vocab]
        rows += [row] * len(known)
        cols += known
        values += [1 / math.sqrt(len(known))] * len(known) if known else []
    return csr_matrix((values, (rows, cols)), shape=(len(texts), len(vocab)))


def outside_model(strength: float) -> LogisticRegression:
    return LogisticRegression(C=strength, max_iter=5000, class_weight="balanced")


def playbook_model(strength: float) -> OneVsRestClassifier:
    return OneVsRestClassifier(
        LogisticRegression(C=strength, l1_ratio=1.0, solver="liblinear", max_iter=5000)
    )


def choose_outside(texts: list[set[str]], outside: np.ndarray) -> tuple[float, float]:
    """The regularisation and threshold that refuse the most texts fitting no playbook at 1% of incidents."""
    best: tuple[float, float, float] = (-1.0, 0.0, 0.0)
    for strength in OUTSIDE_STRENGTHS:
        probability = np.zeros(len(texts))
        for train, held in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, outside):
            vocab = vocabulary([texts[i] for i in train])
            model = outside_model(strength).fit(matrix([texts[i] for i in train], vocab), outside[train])
            probability[held] = model.predict_proba(matrix([texts[i] for i in held], vocab))[:, 1]
        threshold = float(np.quantile(probability[outside == 0], 1 - FALSE_REFUSALS))
        refused = float((probability[outside == 1] > threshold).mean())
        print(
            f"  outside C={strength:<5} threshold {threshold:.3f}: refuses {refused:.1%} of the texts fitting none"
        )
        best = max(best, (refused, strength, threshold))
    return best[1], best[2]


def choose_playbooks(texts: list[set[str]], labels: list[list[str]], binarizer: MultiLabelBinarizer) -> float:
    """The regularisation with the best cross-validated log-loss, averaged over the playbooks."""
    best: tuple[float, float] = (math.inf, 0.0)
    targets = binarizer.transform(labels)
    for strength in PLAYBOOK_STRENGTHS:
        probability = np.zeros(targets.shape)
        for train, held in KFold(5, shuffle=True, random_state=0).split(texts):
            vocab = vocabulary([texts[i] for i in train])
            model = playbook_model(strength).fit(matrix([texts[i] for i in train], vocab), targets[train])
            probability[held] = model.predict_proba(matrix([texts[i] for i in held], vocab))
        loss = float(
            np.mean(
                [log_loss(targets[:, j], probability[:, j], labels=[0, 1]) for j in range(targets.shape[1])]
            )
        )
        right = np.mean(
            [
                binarizer.classes_[row.argmax()] in label
                for row, label in zip(probability, labels, strict=True)
            ]
        )
        print(f"  playbooks C={strength:<5} log-loss {loss:.4f}, top-1 {right:.1%} on its own")
        best = min(best, (loss, strength))
    return best[1]


def main() -> None:
    matcher = Matcher(load_catalog())
    examples = [
        (matcher.learned_features(q["text"]), sorted(q["expect"]))
        for q in load_queries()
        if q["split"] == "tune"
    ]
    texts = [text for text, _ in examples]
    outside = np.array([int(not expect) for _, expect in examples])
    labelled = [(text, expect) for text, expect in examples if expect]
    print(f"tune split: {len(texts)} texts, {outside.sum()} that fit no playbook")
    binarizer = MultiLabelBinarizer().fit([expect for _, expect in labelled])
    strength, threshold = choose_outside(texts, outside)
    playbook_strength = choose_playbooks([t for t, _ in labelled], [e for _, e in labelled], binarizer)

    vocab = vocabulary(texts)
    fitted = outside_model(strength).fit(matrix(texts, vocab), outside)
    per_playbook = playbook_model(playbook_strength).fit(
        matrix([t for t, _ in labelled], vocab), binarizer.transform([e for _, e in labelled])
    )
    playbooks = {}
    for playbook, model in zip(binarizer.classes_, per_playbook.estimators_, strict=True):
        weights = {f: round(float(model.coef_[0][i]), 4) for f, i in vocab.items() if model.coef_[0][i]}
        playbooks[str(playbook)] = {"bias": round(float(model.intercept_[0]), 4), "weights": weights}
    data = {
        "trained_on": digest(examples),
        "outside": {
            "strength": strength,
            "threshold": round(threshold, 4),
            "bias": round(float(fitted.intercept_[0]), 4),
            "weights": {f: round(float(fitted.coef_[0][i]), 4) for f, i in vocab.items()},
        },
        "playbooks": playbooks,
        "playbook_strength": playbook_strength,
    }
    WEIGHTS.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n")
    kept = sum(len(p["weights"]) for p in playbooks.values())
    print(f"wrote {WEIGHTS}: outside C={strength} threshold {threshold:.3f} over {len(vocab)} features; "
          f"{len(playbooks)} playbooks C={playbook_strength}, {kept} weights kept")  # fmt: skip


if __name__ == "__main__":
    main()
