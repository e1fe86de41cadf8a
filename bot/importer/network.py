"""Commands that look at names, ports and certificates: dig/nslookup/host, nc/telnet, pg_isready,
redis-cli ping, openssl s_client, and netstat/ss/lsof.

The probes look from the bot: DNS, a TCP connect, a TLS handshake. A command run on the service's machine
(netstat lists its sockets) or in a pod (`kubectl exec ... -- nslookup`) checks the same thing from
elsewhere, so its probe is approximate and the command stays beside it.
"""

from __future__ import annotations

import re
from typing import Any

from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context
from bot.importer.shellwords import VALUE_FLAGS, Words, parse_words
from bot.importer.targets import host_param

# Default ports of the datastores the catalogue knows, for a host:port a command names.
_SYSTEM_PORTS = {5432: "postgres", 6379: "redis"}
# Database and Redis clients take the host and port as `-h HOST -p PORT`.
_CLIENT_FLAGS = VALUE_FLAGS | {"-h", "-p", "--host", "--port"}
_RECORD_TYPES = frozenset({"a", "aaaa", "cname", "mx", "ns", "txt", "srv", "soa", "ptr", "any"})


def network_probe(tool: str, first: list[str], rest: list[list[str]], ctx: Context) -> list[Mapped]:
    """The probe for one of this module's tools, or [] when the command is not one of them."""
    words = parse_words(first[1:], _CLIENT_FLAGS if tool in ("pg_isready", "redis-cli") else VALUE_FLAGS)
    if tool == "openssl" and words.positional[:1] == ["s_client"]:
        host, _, port = (words.flag("-connect", "--connect") or "").partition(":")
        return [Mapped("probe", "tls.certificate", _tls(host, int(port or 443), ctx), "openssl s_client")]
    if tool in ("nslookup", "dig", "host"):
        name = _dns_name(words)
        return (
            [Mapped("probe", "dns.resolve", dns_params(name, ctx), f"{tool} resolves a name")] if name else []
        )
    if tool in ("nc", "ncat", "netcat", "telnet"):
        return _connect(tool, words, ctx)
    if tool == "pg_isready":
        return [_datastore("postgres", words.flag("-h", "--host"), words.flag("-p", "--port"), ctx,
                           "pg_isready: the database accepts connections")]  # fmt: skip
    if tool == "redis-cli" and any(w.lower() == "ping" for w in words.positional):
        return [_datastore("redis", words.flag("-h"), words.flag("-p"), ctx, "redis-cli ping: Redis answers")]
    if tool in ("netstat", "ss", "lsof"):
        return _local_sockets(first, rest, ctx)
    return []


def dns_params(name: str, ctx: Context) -> dict[str, Any]:
    """dns.resolve parameters: none for the service's host, its cluster name as placeholders, else the name."""
    if ctx.same("host", name):
        return {}
    k8s, namespace = ctx.values.get("k8s_service"), ctx.values.get("namespace")
    if k8s and namespace and name in (k8s, f"{k8s}.{namespace}.svc.cluster.local"):
        return {"host": "{k8s_service}.{namespace}.svc.cluster.local"}
    ctx.keep("host", name)
    return {"host": name}


def _dns_name(words: Words) -> str | None:
    """The name asked about: not `@server`, `+short` or a record type (`dig example.com A`)."""
    names = [w for w in words.positional if not w.startswith(("@", "+")) and w.lower() not in _RECORD_TYPES]
    return names[0] if names else None


def _tls(host: str, port: int, ctx: Context) -> dict[str, Any]:
    params: dict[str, Any] = {"port": port} if port != 443 else {}
    if host and not ctx.same("host", host):
        params["host"] = host
        ctx.keep("host", host)
    return params


def _connect(tool: str, words: Words, ctx: Context) -> list[Mapped]:
    """`nc -zv host 5432`, `telnet host 6379`: whether the port accepts a TCP connection."""
    host, port = ([*words.positional, "", ""])[:2]
    if not host or not port.isdigit():
        return []
    system = _SYSTEM_PORTS.get(int(port))
    if system:
        return [_datastore(system, host, port, ctx, f"{tool} connects to {system}")]
    params = {"host": host_param(host, ctx), "port": int(port)}
    return [Mapped("probe", "tcp.connect", params, f"{tool}: is port {port} open")]


def _datastore(system: str, host: str | None, port: str | None, ctx: Context, why: str) -> Mapped:
    """tcp.connect to the service's database or Redis (its own host and port unless the command names others)."""
    default = {"postgres": "5432", "redis": "6379"}[system]
    # The service's configured port ({postgres_port}) unless the command names another: lint refuses the default
    # written as a number, which would be wrong for a service that moved it.
    number: int | str = int(port) if port and port.isdigit() and port != default else f"{{{system}_port}}"
    # "localhost", or a bare name such as "redis" (a compose or cluster service name): the service's own one
    local = not host or host in ("localhost", "127.0.0.1") or ("." not in host and ctx.has(f"{system}_host"))
    target = f"{{{system}_host}}" if local else host_param(host or "", ctx, f"{system}_host")
    return Mapped("probe", "tcp.connect", {"host": target, "port": number}, why, approximate=True)


def _local_sockets(first: list[str], rest: list[list[str]], ctx: Context) -> list[Mapped]:
    """netstat/ss/lsof ... :PORT: the machine's own sockets; from the bot, whether the port answers."""
    text = " ".join(first + [w for stage in rest for w in stage])
    port_match = re.search(r":(\d{2,5})\b", text)
    if not port_match:
        return []
    port = int(port_match.group(1))
    system = _SYSTEM_PORTS.get(port)
    if system:
        return [_datastore(system, None, str(port), ctx, f"{first[0]} looks for connections on port {port}")]
    params = {"host": "{host}", "port": port}
    return [Mapped("probe", "tcp.connect", params, f"{first[0]}: is port {port} open", approximate=True)]
