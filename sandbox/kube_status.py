"""The simulated API server's failure answers: `Reply` and the Status objects a real kube-apiserver sends.

Each helper words its message as the API server does (k8s.io/apimachinery/pkg/api/errors), so the bot's
error text is tested against what it will really read: `deployments.apps "x" not found`, `Operation cannot
be fulfilled on ...`, `Deployment.apps "x" is invalid: spec.replicas: Invalid value: -1: ...`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# What a JSON Patch that does not apply (a failed `test`, a `replace` of a missing path) is answered with:
# the server wraps the patch library's error in a generic 422 and the reason is lost (patch.go).
PATCH_REJECTED = "the server rejected our request due to an error in our request"


class Reply(Exception):
    """An answer other than 200 JSON: raised by the routing code, written by the handler."""

    def __init__(self, code: int, body: Any, content_type: str = "application/json") -> None:
        super().__init__(code)
        self.code, self.body, self.content_type = code, body, content_type


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Reply:
    """The API server's Status object for a failed request."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message}
    return Reply(code, {**body, "reason": reason, "details": details or {}, "code": code})


def resource_name(plural: str, group: str) -> str:
    """`deployments.apps`, `pods`: how messages name a kind of object."""
    return f"{plural}.{group}" if group else plural


def not_found(plural: str, group: str, name: str) -> Reply:
    details = {"name": name, "group": group, "kind": plural}
    return status(404, "NotFound", f'{resource_name(plural, group)} "{name}" not found', details)


def already_exists(plural: str, group: str, name: str) -> Reply:
    details = {"name": name, "group": group, "kind": plural}
    return status(409, "AlreadyExists", f'{resource_name(plural, group)} "{name}" already exists', details)


def conflict(plural: str, group: str, name: str, why: str) -> Reply:
    message = f'Operation cannot be fulfilled on {resource_name(plural, group)} "{name}": {why}'
    return status(409, "Conflict", message, {"name": name, "group": group, "kind": plural})


MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def bad_request(message: str) -> Reply:
    return status(400, "BadRequest", message)


@dataclass(frozen=True)
class FieldError:
    """One validation failure, as field.Error renders it: `spec.replicas: Invalid value: -1: must be ...`."""

    field: str
    type: str  # Invalid, Required, Duplicate, Forbidden, Unsupported
    detail: str = ""
    value: Any = None

    def body(self) -> str:
        if self.type == "Required":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        if self.type == "Forbidden":
            return f"Forbidden: {self.detail}"
        shown = json.dumps(self.value) if isinstance(self.value, str | dict | list) else str(self.value)
        label = {
            "Invalid": "Invalid value",
            "Duplicate": "Duplicate value",
            "Unsupported": "Unsupported value",
        }
        return f"{label[self.type]}: {shown}" + (f": {self.detail}" if self.detail else "")

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


_CAUSE = {
    "Invalid": "FieldValueInvalid",
    "Required": "FieldValueRequired",
    "Duplicate": "FieldValueDuplicate",
    "Forbidden": "FieldValueForbidden",
    "Unsupported": "FieldValueNotSupported",
}


def invalid(kind: str, group: str, name: str, errors: list[FieldError]) -> Reply:
    """422 Invalid: `Deployment.apps "x" is invalid: <error>` (several errors in brackets, as the server lists them)."""
    qualified = f"{kind}.{group}" if group else kind
    listed = str(errors[0]) if len(errors) == 1 else "[" + ", ".join(str(e) for e in errors) + "]"
    causes = [{"reason": _CAUSE[e.type], "message": e.body(), "field": e.field} for e in errors]
    details = {"name": name, "group": group, "kind": kind, "causes": causes}
    return status(422, "Invalid", f'{qualified} "{name}" is invalid: {listed}', details)
