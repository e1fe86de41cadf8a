"""Label and field selectors, in both forms the API uses: query strings (`app=x,tier in (a,b)`) and the
LabelSelector objects of Deployments and ReplicaSets (matchLabels, matchExpressions)."""

from __future__ import annotations

import re
from typing import Any


def labels_match(selector: str, labels: dict[str, str]) -> bool:
    """A label selector (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated) against labels."""
    for term in filter(None, (t.strip() for t in re.split(r",(?![^(]*\))", selector))):
        if match := re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in"):
                return False
        elif match := re.fullmatch(r"([^!=\s]+)\s*(==|=|!=)\s*(\S*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif (term.startswith("!") and term[1:] in labels) or (
            not term.startswith("!") and term not in labels
        ):
            return False
    return True


def fields_match(selector: str, obj: dict[str, Any]) -> bool:
    """A field selector (`type=Warning`, `involvedObject.name=x`, `status.phase!=Running`) against an object."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        path, op, value = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term).groups()  # type: ignore[union-attr]
        found: Any = obj
        for part in path.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if (str(found or "") == value) != (op != "!="):
            return False
    return True


def selector_string(selector: dict[str, Any]) -> str:
    """A LabelSelector object as the query string that selects the same objects (Scale's status.selector)."""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], ",".join(expr.get("values") or [])
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}[op])  # fmt: skip
    return ",".join(terms)


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a LabelSelector object selects these labels."""
    return labels_match(selector_string(selector), labels)
