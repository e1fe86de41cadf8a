"""The three PATCH bodies kube-apiserver applies, as pure functions over JSON values.

- `json_patch`: RFC 6902 (add, remove, replace, move, copy, test) with RFC 6901 pointers;
- `merge_patch`: RFC 7386 (objects merge, `null` deletes, everything else replaces);
- `strategic_merge_patch`: Kubernetes' strategic merge, the part the bot and kubectl send: lists of
  containers, env, volumes, ports... merged by their merge key (`name`, `mountPath`, `containerPort`),
  other lists replaced, `$patch: replace|delete|merge`, `$setElementOrder/<list>`,
  `$deleteFromPrimitiveList/<list>` and `$retainKeys`.

Failures raise `PatchError`; the caller answers them as the API server does (422 for a JSON Patch that
does not apply, 400 for a malformed body).
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(Exception):
    """The patch cannot be applied to this object; the message says why (for the fake's own debugging)."""


# --- RFC 6902 ---


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path.split("/")[1:]]


def _index(container: list[Any], token: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not adding):
        raise PatchError(f"array index {index} out of bounds")
    return index


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, adding=False)]
        else:
            raise PatchError(f"missing path element {token!r}")
    return node


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        if tokens[-1] not in parent:
            raise PatchError(f"missing key {tokens[-1]!r}")
        return parent[tokens[-1]]
    if isinstance(parent, list):
        return parent[_index(parent, tokens[-1], adding=False)]
    raise PatchError("path goes through a scalar")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        parent[tokens[-1]] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, tokens[-1], adding=True), value)
    else:
        raise PatchError("path goes through a scalar")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise PatchError("cannot remove the whole document")
    _get(doc, tokens)  # must exist
    parent = _parent(doc, tokens)
    if isinstance(parent, dict):
        del parent[tokens[-1]]
    else:
        del parent[_index(parent, tokens[-1], adding=False)]
    return doc


def same(a: Any, b: Any) -> bool:
    """JSON equality: `true` is not `1`, `1` is `1.0`, key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def json_patch(doc: Any, operations: list[Any]) -> Any:
    """Apply RFC 6902 operations in order to a copy of `doc`; all or nothing."""
    result = copy.deepcopy(doc)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op:
            raise PatchError(f"not an operation: {op!r}")
        kind, tokens = op["op"], _pointer(op.get("path"))
        if kind in ("add", "replace", "test") and "value" not in op:
            raise PatchError(f"{kind} needs a value")
        if kind == "add":
            result = _add(result, tokens, copy.deepcopy(op["value"]))
        elif kind == "remove":
            result = _remove(result, tokens)
        elif kind == "replace":
            _get(result, tokens)  # must exist (RFC 6902 4.3)
            value = copy.deepcopy(op["value"])
            result = _add(_remove(result, tokens), tokens, value) if tokens else value
        elif kind in ("move", "copy"):
            source = _pointer(op.get("from"))
            if kind == "move" and tokens[: len(source)] == source and tokens != source:
                raise PatchError("cannot move a value into one of its children")
            value = copy.deepcopy(_get(result, source))
            if kind == "move":
                result = _remove(result, source)
            result = _add(result, tokens, value)
        elif kind == "test":
            if not same(_get(result, tokens), op["value"]):
                raise PatchError(f"testing value {op['path']} failed")
        else:
            raise PatchError(f"unexpected kind of operation {kind!r}")
    return result


# --- RFC 7386 ---


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch; returns a new value."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- strategic merge ---

_BY_NAME = {"containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets"}
_MERGE_KEYS = {
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
_PRIMITIVE_MERGE = {"finalizers"}  # lists of strings merged as sets
_DELETE = object()  # `$patch: delete` on a map: drop the field


def _merge_key(path: tuple[str, ...]) -> str | None:
    """The list's patchMergeKey in the API types (None: the list is replaced, as `envFrom`, `args`, `tolerations`)."""
    field = path[-1]
    if field in _BY_NAME:
        return "name"
    if field == "ports":  # container ports merge by containerPort, Service ports by port
        return "containerPort" if {"containers", "initContainers"} & set(path) else "port"
    return _MERGE_KEYS.get(field)


def strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Apply a strategic merge patch to a copy of `original`."""
    merged = _merge_map(copy.deepcopy(original), patch, ())
    if merged is _DELETE:
        raise PatchError("cannot delete the whole object")
    return merged


def _strip(value: Any) -> Any:
    """A patch value as stored: without directives."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    directive = patch.get("$patch", "merge")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETE
    if directive != "merge":
        raise PatchError(f"unknown patch type: {directive}")
    result = original
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict):
            current = result.get(key)
            merged = _merge_map(current if isinstance(current, dict) else {}, value, (*path, key))
            if merged is _DELETE:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list):
            current = result.get(key)
            result[key] = _merge_list(current if isinstance(current, list) else [], value, (*path, key))
        else:
            result[key] = value
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.partition("/")[2]
            result[field] = [v for v in result.get(field, []) if v not in value]
        elif key.startswith("$setElementOrder/"):
            field = key.partition("/")[2]
            result[field] = _reorder(result.get(field, []), value, _merge_key((*path, field)))
    if "$retainKeys" in patch:
        result = {k: v for k, v in result.items() if k in patch["$retainKeys"]}
    return result


def _merge_list(original: list[Any], patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    if path[-1] in _PRIMITIVE_MERGE:
        return original + [v for v in patch if v not in original]
    key = _merge_key(path)
    if key is None:
        return _strip(patch)
    if any(isinstance(e, dict) and e.get("$patch") == "replace" for e in patch):
        return [_strip(e) for e in patch if not (isinstance(e, dict) and "$patch" in e)]
    result = list(original)
    for element in patch:
        if not isinstance(element, dict) or key not in element:
            raise PatchError(f"map: {element} does not contain declared merge key: {key}")
        at = next(
            (i for i, e in enumerate(result) if isinstance(e, dict) and e.get(key) == element[key]), None
        )
        if element.get("$patch") == "delete":
            result = [e for e in result if not (isinstance(e, dict) and e.get(key) == element[key])]
        elif at is None:
            result.append(_strip(element))
        else:
            result[at] = _merge_map(result[at], element, path)
    return result


def _reorder(values: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """`$setElementOrder`: the listed elements in that order; any others after them, in their own order."""
    wanted = [o.get(key) if key and isinstance(o, dict) else o for o in order]

    def rank(value: Any) -> int:
        ident = value.get(key) if key and isinstance(value, dict) else value
        return wanted.index(ident) if ident in wanted else len(wanted)

    return sorted(values, key=rank)
