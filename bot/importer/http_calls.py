"""curl and wget read for the API they call: Prometheus, Alertmanager, a /metrics page, or an HTTP endpoint.

The URL's path says what is asked, wherever the server runs: `/api/v1/query` is a PromQL query (in the URL or
sent with `-G --data-urlencode query=...`), `/api/v1/targets` the scrape targets, `/api/v1/alerts` and
`/api/v2/alerts` the firing alerts (Prometheus or Alertmanager), `/metrics | grep NAME` one metric. Any
other GET is an `http.check` of that URL. A request that sends credentials stays manual (the probe sends
none), unless it is to the service's health endpoint, which answers without them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context, url_template
from bot.importer.shellwords import CURL_DATA_FLAGS, CURL_VALUE_FLAGS, Words, parse_words

_CREDENTIAL_HEADER = re.compile(r"^\s*(authorization|x-api-key|x-admin-key|cookie)\s*:", re.I)
_HOST_PORT_PATH = re.compile(r"^[\w.-]+:\d+(/\S*)?$|^localhost(/\S*)?$")  # curl localhost:9090/api/v1/targets
_METRIC = re.compile(r"[a-z_:][a-z0-9_:]*_(seconds|total|bytes|count)")
_ALERTNAME = re.compile(r"alertname\s*=~?\s*\"?([\w:-]+)")


def http_probe(
    tool: str, first: list[str], rest: list[list[str]], ctx: Context, own_host: bool = False
) -> list[Mapped]:
    """The probe a curl/wget command amounts to, a manual step when it sends credentials, or [].

    `own_host`: the command runs in the service's own container, where `localhost` is the service.
    """
    words = parse_words(first[1:], _FLAGS[tool])
    url = _url(words)
    if url is None:
        return []
    if _sends_credentials(words):
        return _without_credentials(url, ctx, own_host)
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith(("/api/v1/query", "/api/v1/query_range")):
        query = _promql(parts.query, words)
        if not query:
            return [Mapped("manual", why="a Prometheus query whose PromQL is not in the command")]
        return [
            Mapped("probe", "prometheus.query", {"query": query, "label": "value"}, "Prometheus query API")
        ]
    if path.endswith("/api/v1/targets"):
        return [Mapped("probe", "prometheus.targets", {}, "Prometheus targets API")]
    if path.endswith(("/api/v1/alerts", "/api/v2/alerts")):
        params: dict[str, Any] = {}
        if name := _ALERTNAME.search(unquote(parts.query)):
            params["matchers"] = {"alertname": name.group(1)}
        return [Mapped("probe", "alertmanager.alerts", params, "the alerts API: which alerts fire")]
    if path.endswith(("/api/v1/rules", "/api/v2/silences", "/api/v1/silences")):
        return [Mapped("manual", why="no probe lists alert rules or silences")]
    greps = [s[-1] for s in rest if s[:1] == ["grep"] and len(s) > 1]
    if path.endswith("/metrics") and greps:
        if _METRIC.fullmatch(greps[0]):
            return [metric_query(greps[0])]
        return [Mapped("manual", why=f"reads the metrics matching '{greps[0]}'; no one metric to query")]
    return [_check(url, rest, ctx, own_host)]


def metric_query(name: str) -> Mapped:
    """A metric a guide greps from /metrics, as the PromQL a person would graph: p95 or a rate."""
    if name.endswith("_seconds"):
        query = f"histogram_quantile(0.95, sum(rate({name}_bucket{{{{metrics_selector}}}}[5m])) by (le))"
        return Mapped("probe", "prometheus.query", {"query": query, "label": f"p95 {name}", "unit": "s"},
                      "curl /metrics | grep: the metric, as a PromQL query")  # fmt: skip
    query = f"sum(rate({name}{{{{metrics_selector}}}}[5m]))"
    return Mapped("probe", "prometheus.query", {"query": query, "label": f"rate of {name}"},
                  "curl /metrics | grep: the metric, as a PromQL query")  # fmt: skip


def _check(url: str, rest: list[list[str]], ctx: Context, own_host: bool) -> Mapped:
    params: dict[str, Any] = {}
    template = url_template(url, ctx, own_host)
    if template == url:
        ctx.keep("URL", url)
    if template != "{health_url}":
        params["url"] = template
    found = Mapped("probe", "http.check", params, "GET of an HTTP endpoint")
    jq = next((s for s in rest if s[:1] == ["jq"]), None)
    if jq and len(jq) > 1 and re.fullmatch(r"\.[\w.]+", jq[-1]):
        found.warning = f"add json_fields {{{jq[-1][1:]}: <healthy value>}} to check what `jq {jq[-1]}` shows"
    return found


def _without_credentials(url: str, ctx: Context, own_host: bool) -> list[Mapped]:
    """The service's health endpoint answers without credentials; any other URL needs them: manual."""
    template = url_template(url, ctx, own_host)
    if template not in ("{health_url}", "{readiness_url}"):
        return [Mapped("manual", why="sends credentials; the http.check probe sends none")]
    params = {} if template == "{health_url}" else {"url": template}
    why = "the health endpoint, without the credentials the command sends"
    return [Mapped("probe", "http.check", params, why, approximate=True)]


def _url(words: Words) -> str | None:
    for word in words.positional:
        if word.startswith(("http://", "https://")):
            return word
        if _HOST_PORT_PATH.match(word):
            return f"http://{word}"
    return None


def _sends_credentials(words: Words) -> bool:
    headers = [v for key in ("-H", "--header") for v in words.all(key)]
    return any(_CREDENTIAL_HEADER.match(h) for h in headers) or words.has("-u", "--user", "--oauth2-bearer")


def _promql(query_string: str, words: Words) -> str | None:
    """The PromQL of `?query=...` in the URL, or of `--data-urlencode 'query=...'` (curl -G)."""
    if found := parse_qs(query_string).get("query"):
        return found[0]
    for flag in sorted(CURL_DATA_FLAGS):
        for value in words.all(flag):
            name, eq, promql = value.partition("=")
            if eq and name == "query":
                return promql
    return None


_FLAGS = {
    "curl": CURL_VALUE_FLAGS,
    "wget": frozenset({"-O", "--output-document", "-T", "--timeout", "--header"}),
}
