"""What the simulated API server refuses to store, worded as kube-apiserver words it.

Two layers, as in the real server: a body that cannot be decoded into the API type (a string where an
integer belongs, a malformed quantity) is 400 BadRequest; a decoded object that breaks a validation rule
(negative replicas, requests above limits, a selector that does not match the template, a changed
immutable field) is 422 Invalid with one cause per field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.kube_selectors import selector_matches
from sandbox.kube_status import FieldError, bad_request, invalid

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_SUFFIXES = {
    "": Decimal(1), "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
}  # fmt: skip
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start "
    "and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
ENV_MSG = (
    "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and "
    "must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
    "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
)
POD_UPDATE_MSG = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def quantity(value: Any) -> Decimal:
    """A resource quantity (`250m`, `1.5Gi`, `2`) as a number; a malformed one is a 400, as in decoding."""
    text = str(value)
    match = _QUANTITY.match(text)
    try:
        if not match:
            raise InvalidOperation
        number, suffix = Decimal(match.group(1)), match.group(2)
        if suffix in _SUFFIXES:
            return number * _SUFFIXES[suffix]
        if suffix[:1] in "eE":
            return number * Decimal(10) ** int(suffix[1:])
        raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise bad_request(
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        ) from None


class _Decoder:
    """Type checks of the fields the simulated server reads: a mismatch is the decoder's 400."""

    def __init__(self, kind: str, version: str) -> None:
        self.kind, self.version = kind, version

    def expect(self, value: Any, path: str, want: type | tuple[type, ...], go_type: str) -> None:
        if value is None or (isinstance(value, want) and not (isinstance(value, bool) and want is int)):
            return
        got = {str: "string", bool: "bool", list: "array", dict: "object"}.get(type(value), "number")
        raise bad_request(
            f'{self.kind} in version "{self.version}" cannot be handled as a {self.kind}: json: cannot '
            f"unmarshal {got} into Go struct field {path} of type {go_type}"
        )

    def strings(self, value: Any, path: str) -> None:
        self.expect(value, path, dict, "map[string]string")
        for v in (value or {}).values():
            self.expect(v, path, str, "string")


def canonical(kind: str, obj: dict[str, Any]) -> None:
    """Re-encode what the server's decoding normalises: a Lease's MicroTimes in the API's own format."""
    spec = obj.get("spec")
    if kind != "Lease" or not isinstance(spec, dict):
        return
    for field in ("acquireTime", "renewTime"):
        value = spec.get(field)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue  # validate() answers it
            spec[field] = parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def validate(kind: str, group: str, version: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
    """Raise the API server's 400 or 422 if `obj` (replacing `old`, or created when None) may not be stored."""
    decoder = _Decoder(kind, version)
    meta = obj.get("metadata") or {}
    decoder.expect(meta, "metadata", dict, "v1.ObjectMeta")
    decoder.strings(meta.get("labels"), "ObjectMeta.metadata.labels")
    decoder.strings(meta.get("annotations"), "ObjectMeta.metadata.annotations")
    errors: list[FieldError] = []
    name = meta.get("name") or ""
    if old is None and not _DNS_SUBDOMAIN.match(name) and kind != "Scale":
        errors.append(FieldError("metadata.name", "Invalid", SUBDOMAIN_MSG, name))
    check = _CHECKS.get(kind)
    if check is not None:
        errors += check(decoder, obj, old)
    if errors:
        raise invalid(kind, group, name, errors)


def _replicas(decoder: _Decoder, spec: dict[str, Any], path: str) -> list[FieldError]:
    decoder.expect(spec.get("replicas"), f"{path}.replicas", int, "int32")
    replicas = spec.get("replicas")
    if replicas is not None and replicas < 0:
        return [FieldError(f"{path}.replicas", "Invalid", "must be greater than or equal to 0", replicas)]
    return []


def _workload(decoder: _Decoder, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    """Deployments and ReplicaSets: replicas, selector (immutable in apps/v1), template."""
    spec = obj.get("spec") or {}
    decoder.expect(spec, "spec", dict, "v1.DeploymentSpec")
    errors = _replicas(decoder, spec, "spec")
    decoder.expect(spec.get("paused"), "DeploymentSpec.spec.paused", bool, "bool")
    selector = spec.get("selector")
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    if not selector or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        errors.append(FieldError("spec.selector", "Required"))
    elif not selector_matches(selector, labels):
        errors.append(
            FieldError(
                "spec.template.metadata.labels",
                "Invalid",
                "`selector` does not match template `labels`",
                labels,
            )
        )
    if old is not None and selector != (old.get("spec") or {}).get("selector"):
        errors.append(FieldError("spec.selector", "Invalid", "field is immutable", selector))
    strategy = (spec.get("strategy") or {}).get("type")
    if obj.get("kind") == "Deployment" and strategy not in (None, "RollingUpdate", "Recreate"):
        errors.append(
            FieldError(
                "spec.strategy.type", "Unsupported", 'supported values: "Recreate", "RollingUpdate"', strategy
            )
        )
    decoder.strings(
        (template.get("metadata") or {}).get("annotations"), "ObjectMeta.spec.template.metadata.annotations"
    )
    return errors + _pod_spec(decoder, template.get("spec") or {}, "spec.template.spec")


def _pod_spec(decoder: _Decoder, spec: dict[str, Any], path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    containers = spec.get("containers")
    decoder.expect(containers, f"{path}.containers", list, "[]v1.Container")
    if not containers:
        errors.append(FieldError(f"{path}.containers", "Required"))
    seen: set[str] = set()
    for field in ("initContainers", "containers"):
        for i, container in enumerate(spec.get(field) or []):
            where = f"{path}.{field}[{i}]"
            decoder.expect(container, where, dict, "v1.Container")
            errors += _container(decoder, container, where, seen)
    return errors


def _container(decoder: _Decoder, container: dict[str, Any], where: str, seen: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = container.get("name")
    decoder.expect(name, f"Container.{where}.name", str, "string")
    decoder.expect(container.get("image"), f"Container.{where}.image", str, "string")
    if not name:
        errors.append(FieldError(f"{where}.name", "Required"))
    elif not _DNS_LABEL.match(name) or len(name) > 63:
        errors.append(FieldError(f"{where}.name", "Invalid", LABEL_MSG, name))
    elif name in seen:
        errors.append(FieldError(f"{where}.name", "Duplicate", value=name))
    seen.add(name or "")
    if not container.get("image"):
        errors.append(FieldError(f"{where}.image", "Required"))
    for j, env in enumerate(container.get("env") or []):
        at = f"{where}.env[{j}]"
        decoder.expect(env, at, dict, "v1.EnvVar")
        decoder.expect(env.get("name"), f"EnvVar.{at}.name", str, "string")
        decoder.expect(env.get("value"), f"EnvVar.{at}.value", str, "string")
        if not env.get("name"):
            errors.append(FieldError(f"{at}.name", "Required"))
        elif not _ENV_NAME.match(env["name"]):
            errors.append(FieldError(f"{at}.name", "Invalid", ENV_MSG, env["name"]))
        if env.get("value") and env.get("valueFrom"):
            errors.append(
                FieldError(f"{at}.valueFrom", "Invalid", "may not be specified when `value` is not empty", "")
            )
    for k, port in enumerate(container.get("ports") or []):
        number = port.get("containerPort")
        decoder.expect(number, f"ContainerPort.{where}.ports[{k}].containerPort", int, "int32")
        if not isinstance(number, int) or not 1 <= number <= 65535:
            message = "must be between 1 and 65535, inclusive"
            errors.append(FieldError(f"{where}.ports[{k}].containerPort", "Invalid", message, number))
    return errors + _resources(decoder, container.get("resources") or {}, f"{where}.resources")


def _resources(decoder: _Decoder, resources: dict[str, Any], where: str) -> list[FieldError]:
    errors: list[FieldError] = []
    amounts: dict[str, dict[str, Decimal]] = {}
    for which in ("limits", "requests"):
        listed = resources.get(which) or {}
        decoder.expect(listed, f"ResourceRequirements.{where}.{which}", dict, "v1.ResourceList")
        amounts[which] = {}
        for resource, value in listed.items():
            decoder.expect(value, f"{where}.{which}", (str, int, float), "resource.Quantity")
            amounts[which][resource] = amount = quantity(value)
            if amount < 0:
                message = "must be greater than or equal to 0"
                errors.append(FieldError(f"{where}.{which}[{resource}]", "Invalid", message, str(value)))
    for resource, request in amounts["requests"].items():
        limit = amounts["limits"].get(resource)
        if limit is not None and request > limit:
            shown = resources["requests"][resource]
            message = f"must be less than or equal to {resource} limit of {resources['limits'][resource]}"
            errors.append(FieldError(f"{where}.requests", "Invalid", message, str(shown)))
    return errors


def _pod(decoder: _Decoder, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    if old is None:
        return _pod_spec(decoder, spec, "spec")

    # The only spec change a pod accepts is a new image (ignoring the fields we never touch).
    def without_images(pod_spec: dict[str, Any]) -> dict[str, Any]:
        stripped = {k: v for k, v in pod_spec.items() if k not in ("activeDeadlineSeconds", "tolerations")}
        for field in ("containers", "initContainers"):
            stripped[field] = [{**c, "image": None} for c in pod_spec.get(field) or []]
        return stripped

    if without_images(spec) != without_images(old.get("spec") or {}):
        return [FieldError("spec", "Forbidden", POD_UPDATE_MSG)]
    return []


def _scale(decoder: _Decoder, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    return _replicas(decoder, obj.get("spec") or {}, "spec")


def _lease(decoder: _Decoder, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors: list[FieldError] = []
    decoder.expect(spec.get("holderIdentity"), "LeaseSpec.spec.holderIdentity", str, "string")
    for field in ("leaseDurationSeconds", "leaseTransitions"):
        decoder.expect(spec.get(field), f"LeaseSpec.spec.{field}", int, "int32")
    for field in ("acquireTime", "renewTime"):
        value = spec.get(field)
        decoder.expect(value, f"LeaseSpec.spec.{field}", str, "v1.MicroTime")
        if value is not None:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise bad_request(
                    f'parsing time "{value}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse'
                ) from None
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errors.append(FieldError("spec.leaseDurationSeconds", "Invalid", "must be greater than 0", duration))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and transitions < 0:
        message = "must be greater than or equal to 0"
        errors.append(FieldError("spec.leaseTransitions", "Invalid", message, transitions))
    return errors


def _configmap(decoder: _Decoder, obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    decoder.strings(obj.get("data"), "ConfigMap.data")
    return []


_CHECKS = {
    "Deployment": _workload,
    "ReplicaSet": _workload,
    "Pod": _pod,
    "Scale": _scale,
    "Lease": _lease,
    "ConfigMap": _configmap,
}
