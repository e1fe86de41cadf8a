"""Which probe or action covers a guide command, with parameters lifted from it; else a manual step and why.

Read-only commands that a probe covers become probe steps wherever they appear; a command that writes
becomes an action only in a solutions block, and only when a registered action does exactly that. A
command that writes found in a diagnosis block never becomes a probe: it stays manual, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from bot.importer.placeholders import Context, is_stand_in, url_template
from bot.importer.shellwords import Words, logical, parse_words, stages, writes


@dataclass
class Mapped:
    """What one command became: a probe or action with parameters, or a manual step, and why."""

    kind: str  # probe | action | manual
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    approximate: bool = False  # the probe checks the same thing another way: keep the command too
    warning: str | None = None


def classify(command: str, lang: str, in_solutions: bool, ctx: Context) -> list[Mapped]:
    """Map one command (see the module docstring); never runs it."""
    if lang == "sql":
        return _sql(command, in_solutions)
    if lang in ("yaml", "yml") and in_solutions and (resources := _resources_snippet(command)):
        return [
            Mapped("action", "k8s.set_resources", resources, "a resources snippet: new limits or requests")
        ]
    if lang != "shell":
        return [Mapped("manual", why=f"a {lang} snippet, not a command" if lang != "text" else "prose")]
    written = writes(command)
    found = stages(command)
    if not found:
        return [Mapped("manual", why="could not be read as a shell command")]
    first = found[0]
    while first and (re.match(r"^[A-Z_][A-Z0-9_]*=", first[0]) or first[0] in ("watch", "sudo", "time")):
        first = [w for w in first[1:] if not (first[0] == "watch" and w.startswith("-"))]
    if not first:
        return [Mapped("manual", why="sets configuration values (for .env or the environment)")]
    if written:
        if in_solutions:
            action = _action(first, ctx)
            if action:
                return [action]
            return [Mapped("manual", why=f"no action does this ({written})")]
        return [
            Mapped(
                "manual",
                why=f"writes ({written}); a diagnosis step must be read-only",
                warning=f"command that writes in a diagnosis block kept as a manual step: {logical(command)[:80]}",
            )
        ]
    probes = _probe(first, found[1:], command, ctx)
    return probes or [Mapped("manual", why=f"no probe covers `{first[0]}`")]


def _resources_snippet(text: str) -> dict[str, Any]:
    """{'memory_limit': '4Gi'} from a YAML snippet `resources: {limits: {memory: 4Gi}}`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    resources = data.get("resources") if isinstance(data, dict) else None
    params = {}
    for section, kind in (("limits", "limit"), ("requests", "request")):
        values = resources.get(section) if isinstance(resources, dict) else None
        for key in ("cpu", "memory"):
            if isinstance(values, dict) and values.get(key) is not None:
                params[f"{key}_{kind}"] = str(values[key])
    return params


def _sql(command: str, in_solutions: bool) -> list[Mapped]:
    written = writes(command)
    if written:
        warning = None if in_solutions else f"SQL that writes in a diagnosis block: {command[:60]}"
        return [Mapped("manual", why=f"{written}; no action runs SQL", warning=warning)]
    if re.search(r"FROM\s+pg_stat_activity\b", command, re.I) and re.search(r"count\(\*\)", command, re.I):
        query = "sum(pg_stat_activity_count)"
        if m := re.search(r"state\s*=\s*'(\w+)'", command):
            query = f'sum(pg_stat_activity_count{{state="{m.group(1)}"}})'
        params = {"query": query, "label": "PostgreSQL connections"}
        why = "connection count from postgres_exporter (pg_stat_activity_count)"
        return [Mapped("probe", "prometheus.query", params, why, approximate=True)]
    if re.search(r"FROM\s+pg_stat_replication\b", command, re.I):
        params = {"query": "max(pg_replication_lag)", "label": "replication lag", "unit": "s"}
        return [Mapped("probe", "prometheus.query", params, "lag from postgres_exporter", approximate=True)]
    return [Mapped("manual", why="SQL to run in psql; no probe queries the database")]


def _probe(first: list[str], rest: list[list[str]], command: str, ctx: Context) -> list[Mapped]:
    tool = first[0]
    words = parse_words(first[1:])
    if tool == "kubectl":
        return _kubectl(words, rest, ctx)
    if tool == "gcloud":
        return _gcloud(words, rest, ctx)
    if tool == "curl":
        return _curl(words, rest, command, ctx)
    if tool == "openssl" and words.positional[:1] == ["s_client"]:
        host, _, port = (words.flag("-connect", "--connect") or "").partition(":")
        return [Mapped("probe", "tls.certificate", _host(host, int(port or 443), ctx), "openssl s_client")]
    if tool in ("nslookup", "dig", "host") and words.positional:
        return [Mapped("probe", "dns.resolve", _dns(words.positional[-1], ctx), f"{tool} resolves a name")]
    if tool in ("netstat", "ss", "lsof") or (tool == "docker-compose" and "ping" in first):
        return _port_check(first, rest, ctx)
    if tool in ("pg_isready",):
        return [_tcp("postgres", 5432, ctx, "pg_isready: the database accepts connections")]
    return []


def _namespace_ok(words: Words, ctx: Context) -> str | None:
    """None when the command is about the service's namespace, else why the probe does not fit."""
    namespace = words.flag("-n", "--namespace")
    if words.has("-A", "--all-namespaces"):
        return None  # the probe reads the service's namespace, which is part of "all"
    if namespace and ctx.namespace and namespace != ctx.namespace:
        return f"namespace {namespace} is not the service's ({ctx.namespace})"
    return None


def _kubectl(words: Words, rest: list[list[str]], ctx: Context) -> list[Mapped]:
    verb, *args = words.positional or [""]
    if verb == "exec":
        return _inside_pod(words, rest, ctx)
    other = _namespace_ok(words, ctx)
    if other:
        return [Mapped("manual", why=other)]
    kind, name = _resource(args)
    greps = [s for s in rest if s[:1] == ["grep"] and "-v" not in s]
    if verb == "logs":
        params: dict[str, Any] = {}
        if tail := words.flag("--tail"):
            params["tail_lines"] = max(1, min(int(tail), 5000)) if tail.isdigit() else 200
        if since := words.flag("--since"):
            params["since_minutes"] = _minutes(since)
        if greps and len(greps[0]) > 1:
            params["patterns"] = [re.escape(greps[0][-1])]
        if container := words.flag("-c", "--container"):
            params["container"] = container
        _target(params, "selector", words.flag("-l", "--selector"), name or kind, ctx)
        return [Mapped("probe", "k8s.logs", params, "kubectl logs")]
    if verb == "top":
        return [
            Mapped("probe", "k8s.nodes", {}, "kubectl top nodes")
            if kind.startswith("node")
            else Mapped("probe", "k8s.resource_usage", _sel(words, name, ctx), "kubectl top pods")
        ]
    if verb == "rollout" and args[:1] in (["history"], ["status"]):
        params = {}
        _target(params, "deployment", None, _resource(args[1:])[1], ctx)
        return [Mapped("probe", "k8s.rollout", params, f"kubectl rollout {args[0]}")]
    if verb not in ("get", "describe"):
        return []
    simple: dict[str, tuple[str, dict[str, Any]]] = {
        "event": ("k8s.events", {}), "endpoint": ("k8s.endpoints", {}), "ep": ("k8s.endpoints", {}),
        "hpa": ("k8s.hpa", {}), "horizontalpodautoscaler": ("k8s.hpa", {}),
        "networkpolic": ("k8s.network_policies", {}), "netpol": ("k8s.network_policies", {}),
        "node": ("k8s.nodes", {}), "no": ("k8s.nodes", {}),
    }  # fmt: skip
    for prefix, (probe, params) in simple.items():
        if kind.startswith(prefix):
            if probe == "k8s.hpa" and name:
                params = {}
                _target(params, "name", None, name, ctx, variable="deployment")
            return [Mapped("probe", probe, dict(params), f"kubectl {verb} {kind}")]
    named = {"configmap": ("k8s.configmap", "configmap"), "cm": ("k8s.configmap", "configmap"),
             "ingress": ("k8s.ingress", "ingress"), "ing": ("k8s.ingress", "ingress"),
             "certificate": ("k8s.certificate", "certificate"), "cert": ("k8s.certificate", "certificate")}  # fmt: skip
    for prefix, (probe, variable) in named.items():
        if kind.startswith(prefix):
            params = {}
            _target(params, "name", None, name, ctx, variable=variable)
            return [Mapped("probe", probe, params, f"kubectl {verb} {kind}")]
    if kind.startswith(("pod", "po")):
        found = [Mapped("probe", "k8s.pods", _sel(words, name, ctx), f"kubectl {verb} pod")]
        if verb == "describe":
            found.append(Mapped("probe", "k8s.events", {}, "kubectl describe pod shows the pod's events"))
        return found
    if kind.startswith("deploy"):
        params = {}
        _target(params, "deployment", None, name, ctx)
        return [Mapped("probe", "k8s.rollout", params, f"kubectl {verb} deployment: its status")]
    return []


def _resource(args: list[str]) -> tuple[str, str | None]:
    """('pods', 'name') from ['pods', 'name'] or ['pod/name']."""
    if not args:
        return "", None
    kind, _, name = args[0].partition("/")
    return kind.lower(), name or (args[1] if len(args) > 1 else None)


def _pod_owner(name: str) -> str:
    """The deployment a pod name belongs to: 'data-processor-<pod-id>' -> 'data-processor'."""
    return re.sub(r"-(<[^>]+>|[a-z0-9]{8,10}-[a-z0-9]{5}|[a-z0-9]{5})$", "", name)


def _sel(words: Words, name: str | None, ctx: Context) -> dict[str, Any]:
    params: dict[str, Any] = {}
    _target(params, "selector", words.flag("-l", "--selector"), name, ctx)
    return params


def _target(
    params: dict[str, Any], key: str, selector: str | None, name: str | None, ctx: Context,
    variable: str | None = None,
) -> None:  # fmt: skip
    """Set params[key] to a literal only when it is not the service's value (the probe's default)."""
    variable = variable or key
    if selector:
        if not ctx.same("selector", selector) and not is_stand_in(selector.partition("=")[2]):
            params[key] = selector if key == "selector" else selector.partition("=")[2]
            ctx.keep("selector", selector)
        return
    if not name or is_stand_in(name) or name.startswith("<"):
        return
    owner = _pod_owner(name) if key == "selector" else name
    if owner.startswith("<") or is_stand_in(owner):
        return
    expected = (
        "deployment"
        if key in ("selector", "deployment") and variable in ("selector", "deployment")
        else variable
    )
    if ctx.same(expected, owner):
        return
    params[key] = f"app={owner}" if key == "selector" else owner
    ctx.keep(expected, owner)


def _minutes(since: str) -> int:
    m = re.match(r"(\d+)([smhd])", since)
    if not m:
        return 60
    return max(1, int(m.group(1)) * {"s": 0, "m": 1, "h": 60, "d": 1440}[m.group(2)] or 1)


def _inside_pod(words: Words, rest: list[list[str]], ctx: Context) -> list[Mapped]:
    inner = words.after_dashes
    tool = inner[0] if inner else ""
    if tool in ("nslookup", "dig") and len(inner) > 1:
        params = _dns(inner[-1], ctx)
        return [Mapped("probe", "dns.resolve", params, "resolves the name from the bot, not from the pod",
                       approximate=True)]  # fmt: skip
    if tool in ("netstat", "ss"):
        return _port_check(inner, rest, ctx)
    if tool == "pg_isready":
        return [_tcp("postgres", 5432, ctx, "pg_isready: the database accepts connections")]
    return []


def _port_check(first: list[str], rest: list[list[str]], ctx: Context) -> list[Mapped]:
    text = " ".join(first + [w for stage in rest for w in stage])
    port_match = re.search(r":(\d{2,5})\b", text)
    if "ping" in first and "redis-cli" in first:
        return [_tcp("redis", 6379, ctx, "redis-cli ping: Redis answers")]
    if not port_match:
        return []
    port = int(port_match.group(1))
    system = "postgres" if port == 5432 else "redis" if port == 6379 else None
    if system:
        return [_tcp(system, port, ctx, f"{first[0]} looks for connections on port {port}")]
    params = {"host": "{host}", "port": port}
    return [Mapped("probe", "tcp.connect", params, f"{first[0]}: is port {port} open", approximate=True)]


def _tcp(system: str, default_port: int, ctx: Context, why: str) -> Mapped:
    # The configured port ({postgres_port}), not the guide's default_port: lint refuses a hard-coded one.
    params = {"host": f"{{{system}_host}}", "port": f"{{{system}_port}}"}
    return Mapped("probe", "tcp.connect", params, why, approximate=True)


def _host(host: str, port: int, ctx: Context) -> dict[str, Any]:
    params: dict[str, Any] = {"port": port} if port != 443 else {}
    if host and not ctx.same("host", host):
        params["host"] = host
        ctx.keep("host", host)
    return params


def _dns(name: str, ctx: Context) -> dict[str, Any]:
    if ctx.same("host", name):
        return {}
    k8s, namespace = ctx.values.get("k8s_service"), ctx.values.get("namespace")
    if k8s and namespace and name in (k8s, f"{k8s}.{namespace}.svc.cluster.local"):
        return {"host": "{k8s_service}.{namespace}.svc.cluster.local"}
    ctx.keep("host", name)
    return {"host": name}


def _gcloud(words: Words, rest: list[list[str]], ctx: Context) -> list[Mapped]:
    path = words.positional
    if path[:3] == ["run", "services", "describe"]:
        params: dict[str, Any] = {}
        name = path[3] if len(path) > 3 else None
        if name and not ctx.same("cloud_run_service", name):
            params["service"] = name
            ctx.keep("cloud_run_service", name)
        return [Mapped("probe", "cloud_run.service", params, "gcloud run services describe")]
    if path[:2] in (["logging", "read"], ["logs", "read"]):
        return [Mapped("probe", "cloud_logging.query", _log_params(words, rest), f"gcloud {path[0]} read")]
    return []


def _log_params(words: Words, rest: list[list[str]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if (limit := words.flag("--limit")) and limit.isdigit():
        params["limit"] = min(int(limit), 5000)
    clauses = [
        c.strip()
        for p in [*words.positional[2:3], words.flag("--filter") or ""]
        for c in re.split(r"\bAND\b", p)
    ]
    jq = " ".join(w for stage in rest for w in stage)
    if m := re.search(r'\.severity\s*==\s*"(\w+)"', jq):
        clauses.append(f"severity={m.group(1)}")
    if m := re.search(r"select\(\.(jsonPayload\.\w+\s*[<>]=?\s*\d+)\)", jq):
        clauses.append(m.group(1))
    match = []
    for clause in clauses:
        if not clause or clause.startswith(("resource.type", "resource.labels", "timestamp")):
            continue  # the service's own filter ({log_filter}) names its resource; the window sets the time
        if m := re.match(r"severity\s*>?=\s*\"?(\w+)\"?", clause):
            params["min_severity"] = m.group(1).upper()
        else:
            match.append(clause.strip('"'))
    if match:
        params["match"] = " AND ".join(match)
    return params


def _curl(words: Words, rest: list[list[str]], command: str, ctx: Context) -> list[Mapped]:
    url = next((w for w in words.positional if w.startswith(("http://", "https://"))), None)
    if url is None:
        return []
    headers = [h for key in ("-H", "--header") if isinstance(h := words.flags.get(key), str)]
    if any(h.lower().startswith(("authorization", "x-api-key", "x-admin-key")) for h in headers):
        return [Mapped("manual", why="sends credentials; the http.check probe sends none")]
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1/query"):
        query = parse_qs(parts.query).get("query", [""])[0]
        return [
            Mapped("probe", "prometheus.query", {"query": query, "label": "value"}, "Prometheus query API")
        ]
    if path.endswith("/api/v1/targets"):
        return [Mapped("probe", "prometheus.targets", {}, "Prometheus targets API")]
    if path.endswith(("/api/v1/alerts", "/api/v2/alerts")):
        return [Mapped("probe", "alertmanager.alerts", {}, "Alertmanager alerts API")]
    if path.endswith("/api/v1/rules"):
        return [Mapped("manual", why="no probe lists alert rules")]
    greps = [s[-1] for s in rest if s[:1] == ["grep"] and len(s) > 1]
    if path.endswith("/metrics") and greps and re.fullmatch(r"[a-z_]+_(seconds|total|bytes|count)", greps[0]):
        return [_metric(greps[0])]
    params: dict[str, Any] = {}
    template = url_template(url, ctx)
    if template == url:
        ctx.keep("URL", url)
    if template != "{health_url}":
        params["url"] = template
    why = "GET of an HTTP endpoint"
    found = Mapped("probe", "http.check", params, why)
    jq = next((s for s in rest if s[:1] == ["jq"]), None)
    if jq and len(jq) > 1 and re.fullmatch(r"\.[\w.]+", jq[-1]):
        found.warning = f"add json_fields {{{jq[-1][1:]}: <healthy value>}} to check what `jq {jq[-1]}` shows"
    return [found]


def _metric(name: str) -> Mapped:
    if name.endswith("_seconds"):
        query = f"histogram_quantile(0.95, sum(rate({name}_bucket{{{{metrics_selector}}}}[5m])) by (le))"
        return Mapped("probe", "prometheus.query", {"query": query, "label": f"p95 {name}", "unit": "s"},
                      "curl /metrics | grep: the metric, as a PromQL query")  # fmt: skip
    query = f"sum(rate({name}{{{{metrics_selector}}}}[5m]))"
    return Mapped("probe", "prometheus.query", {"query": query, "label": f"rate of {name}"},
                  "curl /metrics | grep: the metric, as a PromQL query")  # fmt: skip


def _action(first: list[str], ctx: Context) -> Mapped | None:
    tool, words = first[0], parse_words(first[1:])
    verb = words.positional[:2]
    params: dict[str, Any] = {}
    if tool == "kubectl":
        if _namespace_ok(words, ctx):
            return None
        _, name = _resource(
            words.positional[2:] if verb[:1] in (["rollout"], ["set"]) else words.positional[1:]
        )
        if verb == ["rollout", "undo"]:
            if (rev := words.flag("--to-revision")) and rev.isdigit():
                params["to_revision"] = int(rev)
            return _deployment("k8s.rollout_undo", params, name, ctx)
        if verb == ["rollout", "restart"]:
            return _deployment("k8s.rollout_restart", params, name, ctx)
        if verb[:1] == ["scale"] and (replicas := words.flag("--replicas")) and replicas.isdigit():
            return _deployment("k8s.scale", {"replicas": int(replicas)}, name, ctx)
        if verb == ["set", "env"]:
            env = dict(w.split("=", 1) for w in words.positional[3:] if "=" in w)
            return _env("k8s.set_env", env, name, ctx)
        if verb == ["set", "resources"]:
            for flag, kind in (("--limits", "limit"), ("--requests", "request")):
                for pair in (words.flag(flag) or "").split(","):
                    key, _, value = pair.partition("=")
                    if key in ("cpu", "memory") and value:
                        params[f"{key}_{kind}"] = value
            return _deployment("k8s.set_resources", params, name, ctx) if params else None
    if tool == "gcloud" and words.positional[:3] in (
        ["run", "services", "update"],
        ["run", "services", "update-traffic"],
    ):
        return _cloud_run(words, ctx)
    return None


def _deployment(action: str, params: dict[str, Any], name: str | None, ctx: Context) -> Mapped:
    if name and not is_stand_in(name) and not ctx.same("deployment", name):
        params["deployment"] = name
        ctx.keep("deployment", name)
    return Mapped("action", action, params, action.split(".")[1].replace("_", " "))


_PLACEHOLDER_VALUE = re.compile(r"^(your[-_]|<|/path/to/)|PREVIOUS|CHANGE|XXX", re.IGNORECASE)


def _env(action: str, env: dict[str, str], name: str | None, ctx: Context) -> Mapped | None:
    if not env:
        return None
    if any(_PLACEHOLDER_VALUE.search(v) for v in env.values()):
        return None  # "IAP_AUDIENCE=your-correct-audience": a value a person must look up first
    values = {k: ("{project}" if re.fullmatch(r"\$\{?\w*PROJECT\w*\}?", v) and ctx.has("project") else v)
              for k, v in env.items()}  # fmt: skip
    if action.startswith("cloud_run"):
        return Mapped("action", action, {"env": values}, "set environment variables")
    return _deployment(action, {"env": values}, name, ctx)


def _cloud_run(words: Words, ctx: Context) -> Mapped | None:
    if words.positional[2] == "update-traffic":
        revision = (words.flag("--to-revisions") or "").partition("=")[0]
        known = revision and not _PLACEHOLDER_VALUE.search(revision)
        return Mapped("action", "cloud_run.traffic_rollback", {"to_revision": revision} if known else {},
                      "traffic to an earlier revision")  # fmt: skip
    resources = {key: words.flag(f"--{flag}") for flag, key in
                 (("memory", "memory"), ("cpu", "cpu"), ("timeout", "timeout_s"), ("concurrency", "concurrency"))}  # fmt: skip
    scaling = {key: words.flag(f"--{flag}") for flag, key in
               (("min-instances", "min_instances"), ("max-instances", "max_instances"))}  # fmt: skip
    env_text = words.flag("--set-env-vars", "--update-env-vars")
    if env_text:
        env = dict(p.split("=", 1) for p in env_text.split(",") if "=" in p)
        return _env("cloud_run.set_env", env, None, ctx)
    params: dict[str, Any] = {}
    if any(resources.values()):
        for key, value in resources.items():
            if value:
                params[key] = int(value) if key in ("timeout_s", "concurrency") and value.isdigit() else value
        return Mapped("action", "cloud_run.update_resources", params, "Cloud Run resources")
    if any(scaling.values()):
        params.update({k: int(v) for k, v in scaling.items() if v and v.isdigit()})
        return Mapped("action", "cloud_run.scale", params, "Cloud Run instance limits")
    return Mapped(
        "action", "cloud_run.redeploy", {}, "gcloud run services update with no change: a new revision"
    )
