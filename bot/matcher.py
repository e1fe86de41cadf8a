"""Rank playbooks for free text (what an on-call engineer types, an alert line, an error string).

Lexical and explainable: text is folded into concept terms (bot.vocabulary), scored with BM25 over each
playbook's title, symptoms and signal phrases, plus bonuses for the playbook's error-string patterns and
alert names found verbatim. Below a confidence floor the matcher abstains and shows the closest candidates.
No model download, a few hundred microseconds per query.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.playbook import Playbook
from bot.vocabulary import CONCEPTS, PHRASES, STOPWORDS, WORDS

# Field weights: what a playbook says about itself, strongest first.
W_PHRASE, W_TITLE, W_SYMPTOM, W_SUMMARY = 2.0, 2.0, 1.0, 1.0
K1, B = 2.0, 0.4
PATTERN_BONUS, ALERT_BONUS, PHRASE_BONUS = 12.0, 6.0, 1.5
# A text that names a service of the catalogue (an alert label, a pod name) favours that service's guide.
HINT_BOOST = 2.0
# Words outside the incident vocabulary count for less: "record", "build" or "time" alone mean little.
W_PLAIN_WORD = 0.5
# The matcher abstains below this score, or when too little of the text is explained and no error string or
# alert name matched (tuned on benchmarks/matcher_eval.yaml, see benchmarks/matcher.py).
MIN_SCORE = 8.0
MIN_COVERAGE = 0.3
SURE_SCORE = 12.0  # so many terms agree that coverage does not matter
# Short texts score low but say little else: accept a lower score when most of the text is explained.
LOW_SCORE, HIGH_COVERAGE = 4.0, 0.75

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")
_WORD = re.compile(r"[a-z0-9]+")
_STATUS_PLURAL = re.compile(r"\b([1-5]\d\d)(s|es|ing|ed)\b")  # "503ing", "500s" -> the status code
_PHRASE_RE = re.compile(
    r"(?<![a-z0-9])("
    + "|".join(re.escape(p) for p in sorted(PHRASES, key=len, reverse=True))
    + r")(?![a-z0-9])"
)


def terms(text: str) -> list[str]:
    """Concept terms of a text, in order: camelCase split, phrases folded, synonyms folded, stopwords dropped."""
    text = _CAMEL.sub(" ", text).lower().replace("'", "").replace("\u2019", "")
    text = _STATUS_PLURAL.sub(r"\1", text)
    text = _PHRASE_RE.sub(lambda m: f" {PHRASES[m.group(1)]} ", text)
    out = []
    for word in _WORD.findall(text):
        if word in STOPWORDS or (word.isdigit() and not 3 <= len(word) <= 5):
            continue  # clock times and ids are noise; status codes, exit codes and ports are signal
        out.append(WORDS.get(word) or _stem(word))
    return out


def _stem(word: str) -> str:
    """A light suffix stripper so 'uploads'/'uploading' and 'queries'/'query' meet; numbers stay as they are."""
    if word.isdigit() or len(word) <= 4:
        return word
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


def _bigrams(seq: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in itertools.pairwise(seq) if a != b]


@dataclass
class _Doc:
    playbook: Playbook
    tf: dict[str, float]
    length: float
    phrases: list[tuple[str, tuple[str, ...]]]
    patterns: list[re.Pattern[str]]
    alerts: list[tuple[str, re.Pattern[str]]]


@dataclass(frozen=True)
class Match:
    """One ranked playbook and why it was picked."""

    playbook: Playbook
    score: float
    why: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MatchResult:
    """The ranking for a query; `abstained` means no candidate cleared the confidence floor."""

    query: str
    service: str | None
    abstained: bool
    matches: list[Match]

    @property
    def best(self) -> Match | None:
        return None if self.abstained or not self.matches else self.matches[0]

    def to_json(self) -> dict[str, object]:
        return {
            "query": self.query,
            "service": self.service,
            "abstained": self.abstained,
            "matches": [
                {
                    "id": m.playbook.id,
                    "title": m.playbook.title,
                    "guide": m.playbook.guide,
                    "section": m.playbook.source.section,
                    "score": round(m.score, 2),
                    "why": m.why,
                }
                for m in self.matches
            ],
        }


class Matcher:
    """An index over playbooks; build once, query many times (thread-safe: queries only read)."""

    def __init__(self, playbooks: Iterable[Playbook], hints: Mapping[str, str] | None = None) -> None:
        """`hints` maps names seen in text (services, aliases, namespaces, deployments) to their guide."""
        self.docs = [self._index(p) for p in playbooks]
        self.hints = [
            (name, guide, re.compile(rf"(?<![a-z0-9-]){re.escape(name.lower())}(?![a-z0-9])"))
            for name, guide in sorted((hints or {}).items())
        ]
        n = len(self.docs)
        df: Counter[str] = Counter()
        for doc in self.docs:
            df.update(doc.tf.keys())
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.avg_length = sum(d.length for d in self.docs) / n if n else 1.0

    @staticmethod
    def _index(playbook: Playbook) -> _Doc:
        tf: dict[str, float] = {}
        fields: list[tuple[float, list[str]]] = [
            (W_TITLE, [playbook.title, playbook.source.section]),
            (W_SUMMARY, [playbook.summary]),
            (W_SYMPTOM, playbook.symptoms),
            (W_PHRASE, playbook.signals.phrases + playbook.signals.alerts),
        ]
        for weight, texts in fields:
            for text in texts:
                seq = terms(text)
                for term in set(seq) | set(_bigrams(seq)):
                    tf[term] = tf.get(term, 0.0) + weight
        phrases = [(p, tuple(terms(p))) for p in playbook.signals.phrases + playbook.symptoms]
        return _Doc(
            playbook=playbook,
            tf=tf,
            length=sum(tf.values()),
            phrases=[(text, seq) for text, seq in phrases if len(seq) >= 2],
            patterns=[re.compile(p, re.IGNORECASE) for p in playbook.signals.patterns],
            alerts=[(a, re.compile(rf"\b{re.escape(a)}\b", re.IGNORECASE)) for a in playbook.signals.alerts],
        )

    def match(
        self, text: str, guide: str | None = None, service: str | None = None, top: int = 3
    ) -> MatchResult:
        """Rank the playbooks (of one guide, if given) for a text; the best `top` come back with reasons."""
        seq = terms(text)
        query_terms = set(seq) | set(_bigrams(seq))
        lowered = text.lower()
        named = {} if guide else {g: n for n, g, pattern in self.hints if pattern.search(lowered)}
        scored = []
        for doc in self.docs:
            if guide is not None and doc.playbook.guide != guide:
                continue
            score, why, strong = self._score(doc, text, seq, query_terms)
            if score > 0 and len(named) == 1 and doc.playbook.guide in named:
                score *= HINT_BOOST
                why.append(f"mentions {named[doc.playbook.guide]}")
            if score > 0:
                scored.append((Match(doc.playbook, score, why), strong))
        scored.sort(key=lambda pair: (-pair[0].score, pair[0].playbook.id))
        abstained = not scored or not self._confident(seq, *scored[0])
        return MatchResult(
            query=text, service=service, abstained=abstained, matches=[m for m, _ in scored[:top]]
        )

    def _confident(self, seq: list[str], best: Match, strong: bool) -> bool:
        """An error string or alert matched, or the score is high enough for how much of the text is explained."""
        words = set(seq)
        coverage = len({t for t in words if t in self.idf}) / max(1, len(words))
        if strong or best.score >= SURE_SCORE:
            return best.score >= LOW_SCORE
        if coverage >= HIGH_COVERAGE:
            return best.score >= LOW_SCORE
        return coverage >= MIN_COVERAGE and best.score >= MIN_SCORE

    def _score(
        self, doc: _Doc, text: str, seq: list[str], query_terms: set[str]
    ) -> tuple[float, list[str], bool]:
        why: list[str] = []
        score = 0.0
        for pattern in doc.patterns:
            found = pattern.search(text)
            if found:
                score += PATTERN_BONUS if not why else PATTERN_BONUS / 3
                why.append(f"error string '{found.group(0).strip()}'")
        for name, pattern in doc.alerts:
            if pattern.search(text):
                score += ALERT_BONUS
                why.append(f"alert {name}")
        strong = bool(why)
        matched_phrases = [p for p, pseq in doc.phrases if _contains(seq, pseq)]
        if matched_phrases:
            score += PHRASE_BONUS
            why += [f"phrase '{p}'" for p in matched_phrases[:2]]
        contributions = []
        norm = K1 * (1 - B + B * doc.length / self.avg_length)
        for term in query_terms:
            tf = doc.tf.get(term)
            if tf:
                weight = 1.0 if term in CONCEPTS or "_" in term else W_PLAIN_WORD
                gain = weight * self.idf[term] * tf * (K1 + 1) / (tf + norm)
                score += gain
                contributions.append((gain, term))
        words = [t for _, t in sorted(contributions, reverse=True) if "_" not in t][:4]
        if words:
            why.append("terms: " + ", ".join(words))
        return score, why, strong


def _contains(seq: list[str], sub: tuple[str, ...]) -> bool:
    """True when `sub` occurs in `seq` in order (gaps allowed, within a short window)."""
    if not sub:
        return False
    for start, term in enumerate(seq):
        if term != sub[0]:
            continue
        position, window = 1, seq[start + 1 : start + 1 + 2 * len(sub)]
        for item in window:
            if position < len(sub) and item == sub[position]:
                position += 1
        if position == len(sub):
            return True
    return False
