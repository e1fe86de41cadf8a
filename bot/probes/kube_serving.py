"""Judging what serves the traffic: autoscaling, endpoints, network policies, ingress, certificates, nodes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.probes.kube_checks import worst
from bot.probes.kube_format import (
    ago,
    as_time,
    cpu,
    describe_selector,
    memory,
    quantity,
    selects,
    short,
    table,
)
from bot.severity import Status

MAX_ROWS = 50
_METRIC_SOURCES = {
    "Resource": "resource",
    "ContainerResource": "container_resource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
}


def _names(items: list[str], limit: int = 3) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _policies(count: int) -> str:
    return "1 NetworkPolicy" if count == 1 else f"{count} NetworkPolicies"


# --- autoscaling ---


def _metric_name(metric: Any) -> str:
    source = getattr(metric, _METRIC_SOURCES.get(metric.type, ""), None)
    if source is None:
        return str(metric.type)
    return str(source.name if metric.type in ("Resource", "ContainerResource") else source.metric.name)


def _amount(value: Any) -> str:
    if value is None:
        return "?"
    if value.average_utilization is not None:
        return f"{value.average_utilization}%"
    return str(value.average_value or value.value or "?")


def hpa_result(found: Any) -> ProbeResult:
    spec, st = found.spec, found.status
    current, desired = st.current_replicas or 0, st.desired_replicas or 0
    low, high = spec.min_replicas or 1, spec.max_replicas
    currents = {_metric_name(m): m for m in st.current_metrics or []}
    metrics = []
    for m in spec.metrics or []:
        name = _metric_name(m)
        now_value = currents.get(name)
        source = getattr(now_value, _METRIC_SOURCES.get(m.type, ""), None) if now_value else None
        target = getattr(m, _METRIC_SOURCES.get(m.type, ""), None)
        metrics.append(
            f"{name} {_amount(source.current if source else None)} (target {_amount(target.target if target else None)})"
        )
    conditions = {c.type: c for c in st.conditions or []}
    inactive = [
        c for t, c in conditions.items() if t in ("AbleToScale", "ScalingActive") and c.status == "False"
    ]
    pinned = current >= high and desired >= high
    head = (
        f"pinned at max {high} replicas"
        if pinned
        else f"{current} replicas (min {low}, max {high}, desired {desired})"
    )
    parts = [
        head,
        *metrics[:3],
        *(f"{c.type}=False ({c.reason}: {short(c.message or '', 100)})" for c in inactive),
    ]
    status = worst((pinned or bool(inactive), Status.WARN))
    name = found.metadata.name
    faults = (
        [
            fault(
                f"HPA/{name}:at-max",
                Rank.SATURATED,
                Status.WARN,
                f"autoscaler {name} pinned at its max of {high} replicas",
                "hpa-at-max",
            )
        ]
        if pinned
        else []
    )
    faults += [fault(f"HPA/{name}:{c.type}", Rank.SIGN, Status.WARN,
                     f"autoscaler {name} {c.type}=False ({c.reason})", "hpa-inactive") for c in inactive]  # fmt: skip
    evidence = (
        f"HPA {found.metadata.name} -> {spec.scale_target_ref.kind}/{spec.scale_target_ref.name}\n"
        + "".join(
            f"condition {c.type}={c.status} {c.reason or ''}: {c.message or ''}\n"
            for c in conditions.values()
        )
    )
    data = {
        "current": current,
        "desired": desired,
        "min": low,
        "max": high,
        "pinned_at_max": pinned,
        "metrics": metrics,
        "faults": faults,
    }
    return ProbeResult(status, "; ".join(parts), evidence.rstrip(), data)


# --- endpoints ---


def endpoints_result(service: Any, found: Any, min_ready: int) -> ProbeResult:
    name = service.metadata.name
    if service.spec.type == "ExternalName":
        return ProbeResult(Status.OK, f"service {name} is an ExternalName for {service.spec.external_name}")
    subsets = (found.subsets if found else None) or []
    ready = [a for s in subsets for a in s.addresses or []]
    not_ready = [a for s in subsets for a in s.not_ready_addresses or []]
    ports = sorted({f"{p.port}/{p.protocol or 'TCP'}" for s in subsets for p in s.ports or []})
    selector = ",".join(f"{k}={v}" for k, v in (service.spec.selector or {}).items())
    faults = []
    if not ready and min_ready > 0:
        none = f"0 of {len(not_ready)} endpoints ready" if not_ready else "no endpoints"
        text = f"nothing is serving {name}: {none}" + (
            f" (no ready pod matches {selector})" if selector and not not_ready else ""
        )
        faults.append(fault(f"Service/{name}:no-ready-endpoints", Rank.NOT_SERVING, Status.CRITICAL, text,
                            "no-ready-endpoints"))  # fmt: skip
    elif len(ready) < min_ready or not_ready:
        short_of = f" (fewer than {min_ready})" if len(ready) < min_ready else ""
        text = f"{len(ready)} ready endpoints behind service {name}{short_of}, {len(not_ready)} not ready ({_names([_label(a) for a in not_ready])})"
        faults.append(fault(f"Service/{name}:endpoints-not-ready", Rank.SIGN, Status.WARN, text,
                            "endpoints-not-ready"))  # fmt: skip
    if faults:
        summary = faults[0]["text"]
        if not ready and not_ready:
            summary += f" (not ready: {_names([_label(a) for a in not_ready])})"
    else:
        summary = f"{len(ready)} ready endpoints behind service {name}"
    status = Status(faults[0]["status"]) if faults else Status.OK
    rows = [[a.ip, "ready", _label(a), a.node_name or ""] for a in ready]
    rows += [[a.ip, "NOT ready", _label(a), a.node_name or ""] for a in not_ready]
    evidence = f"service {name} ({service.spec.type}, selector {selector or 'none'}) ports {', '.join(ports) or '-'}\n"
    evidence += table(["ADDRESS", "STATE", "POD", "NODE"], rows[:MAX_ROWS]) if rows else "no addresses"
    data = {"scope": "service", "ready": [_label(a) for a in ready], "not_ready": [_label(a) for a in not_ready],
            "ports": ports, "faults": faults}  # fmt: skip
    return ProbeResult(status, summary, evidence, data)


def namespace_endpoints_result(
    services: list[Any], endpoints: list[Any], namespace: str, own: str
) -> ProbeResult:
    """Every Service of the namespace with a selector and its ready addresses (`kubectl get endpoints -n NS`):
    the service's own without any is not serving; a dependency without any fails those who call it."""
    by_name = {e.metadata.name: e for e in endpoints}
    rows, faults = [], []
    for service in sorted(services, key=lambda s: s.metadata.name):
        name = service.metadata.name
        if not service.spec.selector or service.spec.type == "ExternalName":
            continue  # endpoints managed by hand, or none at all
        subsets = by_name[name].subsets if name in by_name else None
        ready = [a for s in subsets or [] for a in s.addresses or []]
        not_ready = [a for s in subsets or [] for a in s.not_ready_addresses or []]
        rows.append([name, str(len(ready)), str(len(not_ready)), ", ".join(_label(a) for a in ready[:3])])
        if not ready:
            rank = Rank.NOT_SERVING if name == own else Rank.SIGN
            text = f"nothing is serving {name}: " + (
                f"0 of {len(not_ready)} endpoints ready" if not_ready else "no endpoints"
            )
            faults.append(fault(f"Service/{name}:no-ready-endpoints", rank, Status.CRITICAL, text,
                                "no-ready-endpoints"))  # fmt: skip
    if faults:
        summary = (
            f"{len(faults)} of {len(rows)} services in {namespace} without ready endpoints: "
            + "; ".join(f["text"].removeprefix("nothing is serving ") for f in faults)
        )
    else:
        summary = f"all {len(rows)} services in {namespace} have ready endpoints"
    evidence = (
        table(["SERVICE", "READY", "NOT READY", "ADDRESSES"], rows[:MAX_ROWS]) if rows else "no services"
    )
    data = {"scope": "namespace", "services": len(rows), "faults": faults}
    return ProbeResult(Status.CRITICAL if faults else Status.OK, summary, evidence, data)


def _label(address: Any) -> str:
    return str(address.target_ref.name if address.target_ref else address.ip)


# --- network policies ---


def _types(policy: Any) -> list[str]:
    return list(policy.spec.policy_types or ["Ingress", *(["Egress"] if policy.spec.egress else [])])


def _rules(policy: Any, direction: str) -> list[Any]:
    return list((policy.spec.ingress if direction == "Ingress" else policy.spec.egress) or [])


def _peer(peer: Any) -> str:
    if peer.ip_block is not None:
        return f"ipBlock {peer.ip_block.cidr}"
    parts = [f"namespace {describe_selector(peer.namespace_selector)}" if peer.namespace_selector else ""]
    parts.append(f"pods {describe_selector(peer.pod_selector)}" if peer.pod_selector else "")
    return " ".join(p for p in parts if p) or "anywhere"


def _rule(rule: Any, direction: str) -> str:
    peers = (rule._from if direction == "Ingress" else rule.to) or []
    ports = ", ".join(f"{p.protocol or 'TCP'}/{p.port}" for p in rule.ports or []) or "all ports"
    where = "from" if direction == "Ingress" else "to"
    return f"{direction.lower()} {where} {', '.join(_peer(p) for p in peers) or 'anywhere'} on {ports}"


def policies_result(policies: list[Any], pod_labels: list[dict[str, str]], selector: str) -> ProbeResult:
    selecting = [p for p in policies if any(selects(p.spec.pod_selector, labels) for labels in pod_labels)]
    if not selecting:
        summary = f"no NetworkPolicy selects {selector}: the pods' traffic is not restricted"
        return ProbeResult(Status.OK, summary, data={"policies": []})
    flags, closed = {}, []
    for direction in ("Ingress", "Egress"):
        governing = [p for p in selecting if direction in _types(p)]
        deny_all = [p.metadata.name for p in governing if not _rules(p, direction)]
        for name in deny_all:
            flags[name] = f"deny-all {direction.lower()}"
        if governing and len(deny_all) == len(governing):
            closed.append(f"all {direction.lower()} is denied by {_names(deny_all)} and no policy allows any")
    described = [
        f"{p.metadata.name} ({flags.get(p.metadata.name, 'allows ' + ', '.join(t.lower() for t in _types(p)))})"
        for p in selecting
    ]
    summary = (
        "; ".join(closed)
        if closed
        else f"{_policies(len(selecting))} select the pods: {', '.join(described)}"
    )
    evidence = []
    for p in selecting:
        evidence.append(
            f"{p.metadata.name} (podSelector {describe_selector(p.spec.pod_selector)}, types {'/'.join(_types(p))})"
        )
        for direction in _types(p):
            evidence += [f"  {_rule(r, direction)}" for r in _rules(p, direction)] or [
                f"  deny all {direction.lower()}"
            ]
    data = {"policies": [p.metadata.name for p in selecting], "deny_all": sorted(flags), "closed": closed}
    return ProbeResult(worst((bool(closed), Status.CRITICAL)), summary, "\n".join(evidence), data)


# --- ingress and certificates ---


def _ready(cert: dict[str, Any]) -> dict[str, Any]:
    conditions = cert.get("status", {}).get("conditions") or []
    return next(
        (c for c in conditions if c.get("type") == "Ready"), {"status": "Unknown", "reason": "NoStatus"}
    )


def ingress_result(
    found: Any, services: set[str], certificates: list[dict[str, Any]], now: datetime
) -> ProbeResult:
    spec = found.spec
    routes, missing = [], []
    for rule in spec.rules or []:
        for path in (rule.http.paths if rule.http else []) or []:
            backend = path.backend.service
            if backend is None:
                continue
            port = backend.port.number or backend.port.name if backend.port else "?"
            routes.append(f"{rule.host or '*'}{path.path or '/'} -> {backend.name}:{port}")
            if backend.name not in services:
                missing.append(backend.name)
    addresses = [
        i.ip or i.hostname
        for i in (found.status.load_balancer.ingress if found.status and found.status.load_balancer else None)
        or []
    ]
    by_secret = {c.get("spec", {}).get("secretName"): c for c in certificates}
    tls_parts, broken = [], False
    for tls in spec.tls or []:
        cert = by_secret.get(tls.secret_name)
        if cert is None:
            tls_parts.append(f"TLS {tls.secret_name}: no cert-manager Certificate for it")
            continue
        ready = _ready(cert)
        not_after = as_time(cert.get("status", {}).get("notAfter"))
        expiry = f", {'expired' if not_after < now else 'expires'} {ago(not_after, now)}" if not_after else ""
        state = (
            "Ready"
            if ready.get("status") == "True"
            else f"not Ready ({ready.get('reason')}: {short(ready.get('message', ''), 80)})"
        )
        broken = broken or ready.get("status") != "True"
        tls_parts.append(f"TLS {tls.secret_name}: Certificate {cert['metadata']['name']} {state}{expiry}")
    where = f"at {', '.join(addresses)}" if addresses else "with no load balancer address"
    parts = [f"{_names(routes, 2) or 'no rules'} {where}", *tls_parts]
    parts += [f"backend service {m} does not exist" for m in sorted(set(missing))]
    status = worst((bool(missing) or broken, Status.CRITICAL), (not addresses, Status.WARN))
    evidence = "\n".join(
        [f"class: {spec.ingress_class_name or '(default)'}", *(f"route {r}" for r in routes)]
        + [f"tls hosts {', '.join(t.hosts or [])} secret {t.secret_name}" for t in spec.tls or []]
        + [f"load balancer: {', '.join(addresses) or 'none'}"]
    )
    data = {
        "routes": routes,
        "addresses": addresses,
        "missing_backends": sorted(set(missing)),
        "tls": tls_parts,
    }
    return ProbeResult(status, "; ".join(parts), evidence, data)


def certificate_result(
    cert: dict[str, Any], warn_days: int, critical_days: int, now: datetime
) -> ProbeResult:
    name, st = cert["metadata"]["name"], cert.get("status", {})
    ready = _ready(cert)
    is_ready = ready.get("status") == "True"
    state = (
        "is Ready"
        if is_ready
        else f"is not Ready ({ready.get('reason')}: {short(ready.get('message', ''), 100)})"
    )
    not_after = as_time(st.get("notAfter"))
    days = (not_after - now).total_seconds() / 86400 if not_after else None
    summary = f"certificate {name} {state}"
    if not_after is not None:
        verb = "expired" if not_after < now else "expires"
        summary += f"; {verb} {ago(not_after, now)} (notAfter {not_after.strftime('%Y-%m-%d %H:%M UTC')})"
    status = worst(
        (not is_ready or (days is not None and days < critical_days), Status.CRITICAL),
        (days is not None and days < warn_days, Status.WARN),
    )
    spec = cert.get("spec", {})
    evidence = "\n".join(
        [
            f"secretName: {spec.get('secretName')}  dnsNames: {', '.join(spec.get('dnsNames') or [])}",
            f"issuer: {spec.get('issuerRef', {}).get('kind', 'Issuer')}/{spec.get('issuerRef', {}).get('name')}",
            f"notBefore {st.get('notBefore')}  notAfter {st.get('notAfter')}  renewalTime {st.get('renewalTime')}",
        ]
        + [
            f"condition {c.get('type')}={c.get('status')} {c.get('reason')}: {c.get('message')}"
            for c in st.get("conditions") or []
        ]
    )
    facts = ["certificate-not-ready"] if not is_ready else []
    facts += ["certificate-expiring"] if days is not None and days < warn_days else []
    faults = [fault(f"Certificate/{name}:{facts[0]}", Rank.SIGN, status, summary, *facts)] if facts else []
    data = {
        "ready": is_ready,
        "not_after": st.get("notAfter"),
        "days_left": round(days, 1) if days is not None else None,
        "faults": faults,
    }
    return ProbeResult(status, summary, evidence, data)


# --- nodes ---


def nodes_result(nodes: list[Any], watched: list[str]) -> ProbeResult:
    rows: list[list[str]] = []
    not_ready: list[str] = []
    pressure: dict[str, list[str]] = {}
    cordoned: list[str] = []
    for node in nodes:
        name = node.metadata.name
        conditions = {c.type: c for c in node.status.conditions or []}
        ready = conditions.get("Ready")
        if ready is None or ready.status != "True":
            reason = f"{ready.reason}: {short(ready.message or '', 80)}" if ready else "no Ready condition"
            not_ready.append(f"{name} NotReady ({reason})")
        on = [t for t in watched if t in conditions and conditions[t].status == "True"]
        for kind in on:
            pressure.setdefault(kind, []).append(name)
        if node.spec and node.spec.unschedulable:
            cordoned.append(name)
        alloc = node.status.allocatable or {}
        cpu_q, mem_q = quantity(alloc.get("cpu")), quantity(alloc.get("memory"))
        state = ("Ready" if ready is not None and ready.status == "True" else "NotReady") + (
            ",SchedulingDisabled" if name in cordoned else ""
        )
        rows.append(
            [name, state, ",".join(on) or "-", cpu(cpu_q) if cpu_q else "?", memory(mem_q) if mem_q else "?"]
        )
    total = len(nodes)
    parts = [f"{total - len(not_ready)}/{total} nodes Ready", *not_ready[:3]]
    parts += [f"{kind} on {_names(names)}" for kind, names in pressure.items()]
    parts += [f"cordoned: {_names(cordoned)}"] if cordoned else []
    if len(parts) == 1:
        parts.append(f"no {', '.join(watched)}" if watched else "no conditions watched")
    status = worst((bool(not_ready), Status.CRITICAL), (bool(pressure) or bool(cordoned), Status.WARN))
    evidence = table(
        ["NODE", "STATUS", "CONDITIONS", "CPU ALLOCATABLE", "MEMORY ALLOCATABLE"], rows[:MAX_ROWS]
    )
    data = {"total": total, "not_ready": not_ready, "pressure": pressure, "cordoned": cordoned}
    return ProbeResult(status, "; ".join(parts), evidence, data)
