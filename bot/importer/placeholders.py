"""The service's literal values in a guide's commands, turned into `{placeholder}`s of the catalogue.

A literal becomes a placeholder only when it equals the value the `--service` entry of the config gives
(its namespace, deployment, URLs, Cloud Run service, project...); anything else stays as the guide wrote
it and is reported. Braces that are not catalogue variables (a Python f-string's `{e}`) would read as
unknown placeholders, so those are rewritten `{e!s}`, which prints the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.templating import PLACEHOLDER, VARIABLES

# Shell variables the guides use for the project id.
_PROJECT_VARS = re.compile(r"\$\{?(GOOGLE_CLOUD_PROJECT|GCP_PROJECT_ID|PROJECT_ID|GCP_PROJECT)\}?")
_URL = re.compile(r"https?://[^\s\"'`|)]+")
# Default ports of the monitoring systems, for "localhost:9090" style URLs in guides.
_SYSTEM_PORTS = {"9090": "prometheus_url", "9093": "alertmanager_url"}
_SYSTEM_HOSTS = {"prometheus": "prometheus_url", "alertmanager": "alertmanager_url"}
# Names a guide uses as stand-ins for "your service" ("your-app-url", "<pod-name>").
_STAND_IN = re.compile(r"^(your[-_]|<|my[-_]|example)|problematic", re.IGNORECASE)


@dataclass
class Context:
    """The service the draft is for (its placeholder values) and what mapping noticed on the way."""

    service: str | None = None
    values: dict[str, str | None] = field(default_factory=dict)
    namespace: str | None = None  # the service's, or the guide's usual one when no service is given
    kept: list[str] = field(default_factory=list)  # literals left as written, for the report

    def has(self, name: str) -> bool:
        return bool(self.values.get(name))

    def same(self, name: str, literal: str) -> bool:
        """True when the literal is the service's value of that variable."""
        return bool(self.values.get(name)) and self.values[name] == literal

    def keep(self, what: str, literal: str) -> None:
        expected = self.values.get(what) if self.service else None
        if not self.service:
            why = "no --service to match"
        elif what == "URL":
            why = f"not one of {self.service}'s URLs"
        else:
            why = f"{self.service}'s {what} is {expected}" if expected else f"{self.service} has no {what}"
        note = f"literal {what} '{literal}' kept ({why})"
        if note not in self.kept:
            self.kept.append(note)


def is_stand_in(name: str) -> bool:
    """'your-app-url', '<pod-name>', 'problematic-service': the guide means the reader's own."""
    return bool(_STAND_IN.search(name))


def url_template(url: str, ctx: Context, own_host: bool = False) -> str:
    """A guide URL as a template: the service's health/readiness URL, base URL or a monitoring system's.

    `own_host`: the URL is requested from inside the service's container, where `localhost` is the service.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "", str(parts.port or "")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    yours = is_stand_in(host) or (own_host and host in ("localhost", "127.0.0.1"))
    for name in ("health_url", "readiness_url"):
        value = ctx.values.get(name)
        if value and (url == value or (yours and urlsplit(value).path == parts.path)):
            return f"{{{name}}}"
    system = _SYSTEM_HOSTS.get(host) or (_SYSTEM_PORTS.get(port) if host == "localhost" else None)
    if system and ctx.has(system):
        return f"{{{system}}}{path}"
    base = ctx.values.get("base_url")
    if base:
        base_parts = urlsplit(base)
        same_host = host == base_parts.hostname and port == str(base_parts.port or "")
        local_same_port = host == "localhost" and port and port == str(base_parts.port or "")
        if same_host or local_same_port or yours:
            return "{base_url}" + path
    return url


def templatize(command: str, ctx: Context) -> str:
    """A manual command with the service's values as placeholders (see the module docstring)."""
    text = _URL.sub(lambda m: url_template(m.group(0), ctx), command)
    if ctx.has("project"):
        text = _PROJECT_VARS.sub("{project}", text)
    for name in (
        "configmap",
        "ingress",
        "certificate",
    ):  # named after their kind: often the deployment's name
        if value := ctx.values.get(name):
            text = re.sub(rf"(\b{name}s?[ /]){re.escape(value)}(?![\w-])", rf"\1{{{name}}}", text)
    replacements = [
        ("cloud_run_service", None), ("k8s_service", r"(?=\.[a-z0-9-]+\.svc|:\d)"), ("deployment", None),
        ("namespace", None), ("project", None), ("region", None),
    ]  # fmt: skip
    for name, lookahead in replacements:
        value = ctx.values.get(name)
        if not value:
            continue
        tail = lookahead or r"(?![\w-])"
        text = re.sub(rf"(?<![\w{{-]){re.escape(value)}{tail}", f"{{{name}}}", text)
    for url in _URL.findall(text):
        if "{" not in url and ctx.service:
            ctx.keep("URL", url)
    return text


def escape_braces(command: str) -> tuple[str | None, str | None]:
    """The command with non-catalogue `{name}` braces made safe, or (None, why) when that cannot be done.

    In Python f-strings `{e}` becomes `{e!s}` (the same text); other braces (curl's `%{time_total}`)
    have no equivalent spelling, and the playbook format has no escape for them.
    """
    unknown = [m for m in PLACEHOLDER.finditer(command) if m.group(1) not in VARIABLES]
    if not unknown:
        return command, None
    if re.search(r"\bf['\"]", command):
        return PLACEHOLDER.sub(
            lambda m: m.group(0) if m.group(1) in VARIABLES else f"{{{m.group(1)}!s}}", command
        ), "f-string fields written {name!s} (same output) so they do not read as placeholders"
    names = ", ".join(sorted({f"{{ {m.group(1)} }}" for m in unknown}))
    return None, f"not copied: {names} would read as a placeholder and the playbook format has no escape"
