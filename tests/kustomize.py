"""A renderer for the small part of kustomize that deploy/ uses, so the tests see what `kubectl apply -k` sees.

Supported, and nothing else (anything else raises `KustomizeError`, so deploy/ cannot drift into features
this file would render wrongly):

- `resources`: YAML files (one or more documents) and folders holding a `kustomization.yaml`, recursively;
- `patches`: strategic-merge patch files (`- path: file.yaml`), each aimed at exactly one resource by its
  kind, name and namespace.

Strategic merge, as Kubernetes does it for the fields we patch: maps merge key by key, `null` deletes a key,
the lists in `MERGE_KEYS` merge item by item on their key (containers by name, volumeMounts by mountPath,
...), every other list is replaced whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]

KUSTOMIZATION_KEYS = {"apiVersion", "kind", "resources", "patches"}

# The patchMergeKey of each list we patch (from the Kubernetes API's x-kubernetes-patch-merge-key). Keyed by
# field name alone, which is right for the pod template: a Service's `ports` (merged by `port`) would fail
# loudly here because its items have no containerPort.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
}


class KustomizeError(Exception):
    """A kustomization this renderer cannot render faithfully (unknown field, ambiguous patch, ...)."""


def render(folder: Path) -> list[Manifest]:
    """The manifests that `kubectl apply -k folder` would apply, in the order they are listed."""
    kustomization = _load_kustomization(folder)
    manifests: list[Manifest] = []
    for entry in kustomization.get("resources", []):
        path = folder / entry
        manifests += render(path) if path.is_dir() else _load_documents(path)
    _check_unique(manifests, folder)
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise KustomizeError(f"{folder}: only `- path: patch.yaml` patches are supported, not {entry}")
        (patch,) = _load_documents(folder / entry["path"])
        index = _target(manifests, patch, folder / entry["path"])
        manifests[index] = strategic_merge(manifests[index], patch)
    return manifests


def strategic_merge(base: Any, patch: Any, field: str = "") -> Any:
    """`patch` applied to `base` as a Kubernetes strategic-merge patch (the subset in the module docstring)."""
    if isinstance(patch, dict) and isinstance(base, dict):
        merged = dict(base)
        for key, value in patch.items():
            if key.startswith("$"):
                raise KustomizeError(f"patch directive {key} is not supported")
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = strategic_merge(base.get(key), value, key)
        return merged
    if isinstance(patch, list) and isinstance(base, list) and field in MERGE_KEYS:
        return _merge_list(base, patch, MERGE_KEYS[field])
    return patch


def _merge_list(base: list[Any], patch: list[Any], key: str) -> list[Any]:
    """Items with the same `key` merged, new items appended after the existing ones."""
    merged = list(base)
    for item in patch:
        if key not in item:
            raise KustomizeError(f"list item {item} has no merge key {key}")
        at = next((i for i, old in enumerate(merged) if old.get(key) == item[key]), None)
        if at is None:
            merged.append(item)
        else:
            merged[at] = strategic_merge(merged[at], item)
    return merged


def _load_kustomization(folder: Path) -> dict[str, Any]:
    path = folder / "kustomization.yaml"
    if not path.is_file():
        raise KustomizeError(f"{folder} has no kustomization.yaml")
    data = yaml.safe_load(path.read_text()) or {}
    unknown = set(data) - KUSTOMIZATION_KEYS
    if unknown:
        raise KustomizeError(f"{path}: fields this renderer does not support: {sorted(unknown)}")
    return data


def _load_documents(path: Path) -> list[Manifest]:
    if not path.is_file():
        raise KustomizeError(f"{path} does not exist")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _identity(manifest: Manifest) -> tuple[str, str, str | None]:
    meta = manifest.get("metadata", {})
    return manifest["kind"], meta["name"], meta.get("namespace")


def _check_unique(manifests: list[Manifest], folder: Path) -> None:
    seen: set[tuple[str, str, str | None]] = set()
    for manifest in manifests:
        identity = _identity(manifest)
        if identity in seen:
            raise KustomizeError(f"{folder}: {identity} is listed twice")
        seen.add(identity)


def _target(manifests: list[Manifest], patch: Manifest, path: Path) -> int:
    """The index of the one manifest with the patch's kind, name and namespace."""
    matches = [i for i, m in enumerate(manifests) if _identity(m) == _identity(patch)]
    if len(matches) != 1:
        raise KustomizeError(f"{path}: patch for {_identity(patch)} matches {len(matches)} resources")
    return matches[0]
