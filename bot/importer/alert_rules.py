"""The guide's own Prometheus alerting rules (a YAML block of `alert:` and `expr:`), for the entries they are about.

A guide that lists its alerting rules says what it measures and what it calls each alert. An entry is about
an alert when every word of the alert's subject (its name without state words: DatabaseDown -> "database",
HighErrorRate -> "error rate") is in the entry's heading, symptoms or the titles of its checks, and the state
the name gives (down, backlog, high...) is in what the entry says is wrong, in its own words. Such an entry gets the
rule's expression as a `prometheus.query` (its comparison as the critical threshold) and an
`alertmanager.alerts` probe for that alert name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from bot.importer.guide import Entry
from bot.importer.shellwords import writes

# Words that say how a thing is, not what it is: what is left of an alert's name is its subject.
_STATE_WORDS = frozenset({
    "high", "low", "down", "up", "backlog", "failing", "failed", "failure", "failures", "slow", "stuck", "full",
    "exhausted", "missing", "absent", "critical", "warning", "too", "many", "spike", "increase", "increasing",
    "degraded", "unavailable", "not", "is", "alert",
})  # fmt: skip
# What an entry says for the state an alert's name gives: DatabaseDown is "Database Connection Failed".
_STATES = {
    "down": r"down|fail|refused|unavailable|unreachable|not running|can.?not connect|can.t connect",
    "backlog": r"backlog|stuck|pending|not (being )?processed|piling up|queue depth",
    "high": r"high|exceed|above|spike|increase|too many|>",
    "low": r"low|below|<|drop",
    "slow": r"slow|latency|taking|timeout",
}
_COMPARISON = re.compile(r"^(?P<query>.+?)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>-?\d+(?:\.\d+)?)\s*$", re.S)


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str

    @property
    def words(self) -> list[str]:
        """'QueueBacklog' -> ['queue', 'backlog']."""
        return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", self.name)]

    @property
    def subject(self) -> list[str]:
        return [w for w in self.words if w not in _STATE_WORDS]

    @property
    def states(self) -> list[str]:
        """The state words of the name that an entry's words can say another way (see _STATES)."""
        return [w for w in self.words if w in _STATES]


def read_alert_rules(yaml_texts: Iterable[str]) -> list[AlertRule]:
    """Every `{alert: NAME, expr: PROMQL}` in these YAML snippets (Prometheus rule files, or parts of them)."""
    found: list[AlertRule] = []
    for text in yaml_texts:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        found += [rule for rule in _rules(data) if rule not in found]
    return found


def rules_about(entry: Entry, rules: list[AlertRule]) -> list[AlertRule]:
    """The alerts the entry is about: the subject's words in its heading, symptoms or the titles of its checks
    (steps that do not write), and the state the alert names ("Down") in what the entry says is wrong."""
    checks = [s.title for s in entry.steps if not (s.command and writes(s.command))]
    words = {
        w.rstrip("s")
        for w in re.findall(r"[a-z0-9]+", " ".join([entry.heading, *entry.symptoms, *checks]).lower())
    }
    wrong = " ".join([entry.heading, *entry.symptoms]).lower()
    return [
        r
        for r in rules
        if r.subject
        and all(w.rstrip("s") in words for w in r.subject)
        and all(re.search(_STATES[s], wrong) for s in r.states)
    ]


def query_params(rule: AlertRule) -> dict[str, Any]:
    """prometheus.query parameters for the rule's expression; its comparison is the critical threshold."""
    params: dict[str, Any] = {"query": rule.expr.strip(), "label": rule.name}
    m = _COMPARISON.match(rule.expr.strip())
    if m:
        value = float(m.group("value"))
        params["query"] = m.group("query").strip()
        if m.group("op") == "==":  # `up == 0`: below half way to the next whole number
            params |= {"direction": "below", "critical": value + 0.5}
        else:
            params |= {"critical": value, **({"direction": "below"} if m.group("op").startswith("<") else {})}
    return params


def _rules(data: object) -> list[AlertRule]:
    if isinstance(data, dict):
        if isinstance(data.get("alert"), str) and isinstance(data.get("expr"), str | int | float):
            return [AlertRule(data["alert"], str(data["expr"]))]
        return [rule for value in data.values() for rule in _rules(value)]
    if isinstance(data, list):
        return [rule for item in data for rule in _rules(item)]
    return []
