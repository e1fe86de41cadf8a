"""HTTP probe (read-only GET): status, latency, JSON health fields, certificate of https endpoints.

An answer that is wrong or slow, or a connection that never answers, is a finding about the service
(`warn`/`critical`). When the bot cannot reach the endpoint at all (the name does not resolve, the port
refuses, no route), that says as much about where the bot runs as about the service: the check could not
run (`error`, "could not reach"), which never counts as evidence nor raises the SEV.
"""

from __future__ import annotations

import json
import ssl
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import Field

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import DEADLINE_MARGIN_S, ProbeContext, ProbeFailure
from bot.probes.network import (
    CertFacts,
    Unreachable,
    assess,
    fetch_certificate,
    in_worker,
    lookup,
    peer_certificate,
    seconds,
)
from bot.probes.network import verify_failure as _verify_failure
from bot.severity import Status

if TYPE_CHECKING:
    import httpx

MAX_BODY = 256 * 1024  # health bodies are small; never read a large page whole
SHOWN_BODY = 600


class HttpCheckParams(Params):
    """GET a URL; check status, latency and selected fields of a JSON body (`jq .checks.circuit_breaker`)."""

    url: str = "{health_url}"
    expect_status: list[int] = Field(default_factory=lambda: [200])
    latency_warn_ms: float = Field(default=1000, gt=0)
    latency_critical_ms: float = Field(default=5000, gt=0)
    json_fields: dict[str, str] = Field(
        default_factory=dict,
        description="dotted path in the JSON body -> healthy value, e.g. checks.circuit_breaker: closed",
    )
    cert_warn_days: int = Field(default=14, ge=0)
    timeout_s: float = Field(default=5, gt=0, le=60)
    follow_redirects: bool = Field(
        default=False, description="follow redirects; otherwise a redirect is reported"
    )


@dataclass
class _Answer:
    """What came back: status, headers that matter, the (capped) body and the peer certificate."""

    code: int
    reason: str
    ms: float
    body: bytes
    location: str | None
    cert: dict[str, Any] = field(default_factory=dict)


def check(ctx: ProbeContext, params: HttpCheckParams) -> ProbeResult:
    url = ctx.render(params.url)
    timeout = min(params.timeout_s, ctx.remaining())
    try:
        answer = _resolved_get(url, timeout, ctx, params.follow_redirects)
    except NoAnswer as err:  # connected, and the service never answered (in time): that is the service's
        text = f"{url}: {err}"
        rank, fact = (Rank.SATURATED, "slow") if err.slow else (Rank.NOT_SERVING, "unhealthy-status")
        no_answer = fault(f"URL/{url}:no-answer", rank, Status.CRITICAL, text, fact)
        return ProbeResult(Status.CRITICAL, text, "", {"url": url, "faults": [no_answer]})
    except CertificateRejected as err:  # the service's certificate, and the finding
        bad = fault(
            f"URL/{url}:certificate", Rank.SIGN, Status.CRITICAL, f"{url}: {err}", "certificate-problem"
        )
        return ProbeResult(
            Status.CRITICAL, f"{url}: {err}", _cert_evidence(url, ctx), {"url": url, "faults": [bad]}
        )
    except Unreachable as err:
        return ProbeResult(Status.ERROR, f"could not reach {url} from the bot: {err}", "", {"url": url})
    problems: list[tuple[Status, str, str, Rank]] = []
    problems += _status_problems(answer, params)
    problems += _latency_problems(answer.ms, params)
    fields, field_problems = _field_problems(answer.body, params.json_fields)
    problems += field_problems
    facts = CertFacts.from_peercert(answer.cert, ctx.now()) if answer.cert else None
    if facts is not None:
        problems += _cert_problems(facts, urlsplit(url).hostname or "", params.cert_warn_days)
    problems.sort(key=lambda p: (p[3], -_rank(p[0])))
    status = max((p[0] for p in problems), key=_rank, default=Status.OK)
    head = f"HTTP {answer.code} in {_duration(answer.ms)}"
    notes = [p[1] for p in problems]
    if not notes and facts is not None:
        notes.append(f"certificate valid for {max(0, int(facts.days_left))} more days")
    summary = "; ".join([f"{url}: {head}", *notes])
    faults = [fault(f"URL/{url}:{fact}", rank, level, f"{url}: {head}; {note}", fact)
              for level, note, fact, rank in problems]  # fmt: skip
    evidence = _evidence(url, answer, fields, facts)
    data = {
        "url": url,
        "status_code": answer.code,
        "latency_ms": round(answer.ms, 1),
        "fields": fields,
        "location": answer.location,
        "certificate": facts.as_data() if facts else None,
        "faults": faults,
    }
    return ProbeResult(status, summary, evidence, data)


def _resolved_get(url: str, timeout: float, ctx: ProbeContext, follow: bool) -> _Answer:
    """The GET, its host resolved first through the probes' resolver (bounded, failures remembered), and the
    whole of it bounded by the probe's time: httpx's timeouts do not cover the DNS lookup of its connect."""
    parts = urlsplit(url)
    if parts.hostname:
        lookup(parts.hostname, None, timeout)  # a missing name is Unreachable; a mute resolver a ProbeFailure
    verify = ctx.clients.tls()  # built once, outside the bound: it can take tens of milliseconds
    # The bound is past httpx's own timeout by most of the margin the runner leaves, so a service that does not
    # answer in time is reported by the GET itself ("no answer within 0.7 s", the finding), even on a busy
    # machine, and only a GET stuck elsewhere hits the bound.
    bound = timeout + DEADLINE_MARGIN_S * 2 / 3
    return in_worker(lambda: _get(url, timeout, verify, follow), bound, f"GET {url}")


def _get(url: str, timeout: float, verify: ssl.SSLContext | bool, follow: bool) -> _Answer:
    """One GET, body read up to MAX_BODY; the service not answering raises Unreachable with the reason."""
    import httpx  # loaded by the first check: commands that check nothing start faster without it

    started = time.monotonic()
    try:
        with (
            httpx.Client(verify=verify, timeout=timeout, follow_redirects=follow) as client,
            client.stream("GET", url) as response,
        ):
            # The certificate is read before the body: the connection may close once the body is read.
            reading = time.monotonic()
            stream = response.extensions.get("network_stream")
            ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
            cert = peer_certificate(ssl_object) if ssl_object is not None else {}
            started += time.monotonic() - reading  # not part of the service's latency
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= MAX_BODY:
                    break
            ms = (time.monotonic() - started) * 1000
            return _Answer(
                response.status_code,
                response.reason_phrase,
                ms,
                bytes(body[:MAX_BODY]),
                response.headers.get("location"),
                cert,
            )
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
        raise ProbeFailure(f"cannot GET {url}: {err}") from None
    except httpx.ConnectTimeout:
        raise Unreachable(f"could not connect within {seconds(timeout)} s") from None
    except httpx.TimeoutException:
        raise NoAnswer(f"no answer within {seconds(timeout)} s", slow=True) from None
    except httpx.ConnectError as err:
        raise Unreachable(_connect_reason(err)) from None
    except httpx.HTTPError as err:  # connected, then the answer broke off (a dropped connection, bad HTTP)
        raise NoAnswer(f"the request failed ({err or type(err).__name__})") from None


class NoAnswer(Exception):
    """The service took the connection and did not answer in time (`slow`), or broke the answer off."""

    def __init__(self, reason: str, slow: bool = False) -> None:
        super().__init__(reason)
        self.slow = slow


class CertificateRejected(Unreachable):
    """The TLS handshake failed on the service's certificate (expired, wrong host, untrusted)."""


def _connect_reason(err: httpx.ConnectError) -> str:
    rejected = _verify_failure(err)
    if rejected is not None:
        raise CertificateRejected(f"TLS certificate rejected ({rejected.verify_message or rejected.reason})")
    text = str(err)
    if "refused" in text.lower():
        return "connection refused"
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return "the host name does not resolve"
    return f"could not connect ({text})"


def _cert_evidence(url: str, ctx: ProbeContext) -> str:
    """For a rejected certificate, what the certificate is (read without verifying it)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return ""
    try:
        facts, _ = fetch_certificate(parts.hostname, parts.port or 443, ctx.remaining(5), False, ctx.now())
    except (Unreachable, ProbeFailure):
        return ""
    return facts.describe()


# (status, what is wrong, the fact, how decisive): one per problem with an answer
Problem = tuple[Status, str, str, Rank]


def _status_problems(answer: _Answer, params: HttpCheckParams) -> list[Problem]:
    if answer.code in params.expect_status:
        return []
    expected = " or ".join(str(code) for code in params.expect_status)
    if 300 <= answer.code < 400:
        note = f"redirects to {answer.location or '(no Location)'} (expected {expected})"
        return [(Status.WARN, note, "redirect", Rank.SIGN)]
    rank = Rank.NOT_SERVING if answer.code >= 500 else Rank.SIGN
    return [(Status.CRITICAL, f"expected {expected}", "unhealthy-status", rank)]


def _latency_problems(ms: float, params: HttpCheckParams) -> list[Problem]:
    limits = f"warn {_duration(params.latency_warn_ms)}, critical {_duration(params.latency_critical_ms)}"
    if ms >= params.latency_critical_ms:
        return [(Status.CRITICAL, f"slow ({limits})", "slow", Rank.SATURATED)]
    if ms >= params.latency_warn_ms:
        return [(Status.WARN, f"slow ({limits})", "slow", Rank.SATURATED)]
    return []


def _field_problems(body: bytes, wanted: dict[str, str]) -> tuple[dict[str, Any], list[Problem]]:
    """Compare dotted paths in the JSON body with their healthy values (as strings, case-insensitive)."""
    if not wanted:
        return {}, []
    try:
        document = json.loads(body)
    except ValueError:
        return {}, [
            (Status.WARN, f"body is not JSON, cannot check {', '.join(wanted)}", "field-unhealthy", Rank.SIGN)
        ]
    found: dict[str, Any] = {}
    problems: list[Problem] = []
    for path, healthy in wanted.items():
        value = _dig(document, path)
        found[path] = value
        name = path.rsplit(".", 1)[-1].replace("_", " ")
        if value is _MISSING:
            found[path] = None
            problems.append((Status.WARN, f"{path} missing from the body", "field-unhealthy", Rank.SIGN))
        elif _text(value).lower() != healthy.lower():
            problems.append((Status.CRITICAL, f"{name} {_text(value)}", "field-unhealthy", Rank.SIGN))
    return found, problems


def _cert_problems(facts: CertFacts, host: str, warn_days: int) -> list[Problem]:
    status, text = assess(facts, host, None, warn_days, None)
    if status == Status.OK:
        return []
    for prefix in (f"TLS certificate for {host} ", f"TLS certificate served for {host} "):
        text = text.replace(prefix, "certificate ", 1)
    return [(status, text, "certificate-problem", Rank.SIGN)]


_MISSING = object()


def _dig(document: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(document, dict) and key in document:
            document = document[key]
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            return _MISSING
    return document


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _evidence(url: str, answer: _Answer, fields: dict[str, Any], facts: CertFacts | None) -> str:
    lines = [f"GET {url} -> HTTP {answer.code} {answer.reason} in {_duration(answer.ms)}"]
    if answer.location:
        lines.append(f"Location: {answer.location}")
    lines += [
        f"{path}: {_text(value) if value is not None else '(missing)'}" for path, value in fields.items()
    ]
    if facts is not None:
        lines.append(facts.describe())
    text = answer.body[:SHOWN_BODY].decode("utf-8", "replace").strip()
    if text:
        more = " ..." if len(answer.body) > SHOWN_BODY else ""
        lines.append(f"body: {text}{more}")
    return "\n".join(lines)


def _duration(ms: float) -> str:
    if ms < 1000:
        return f"{ms:.0f} ms"
    return f"{ms / 1000:.1f}".removesuffix(".0") + " s"


def _rank(status: Status) -> int:
    return {Status.OK: 0, Status.WARN: 1, Status.CRITICAL: 2}.get(status, 0)
