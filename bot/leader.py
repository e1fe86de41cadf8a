"""Which replica leads: a Kubernetes Lease, held the way client-go's leaderelection holds it; or, with one replica
(the SQLite store), always this one.

    elector = LeaseElector(CoordinationV1Api(api_client), identity=pod_name, namespace="chatops",
                           on_started_leading=scheduler.start, on_stopped_leading=scheduler.stop)
    elector.start()        # a daemon thread: one step() every retry_period
    elector.is_leader      # for the work only one replica may do, /readyz and /metrics
    elector.holder         # the identity the lease last named (None: nobody)
    elector.lease          # "namespace/name" of the Lease (None for AlwaysLeader)
    elector.stop()         # stop the thread; a leader stops leading, then hands the lease back
    elector.step()         # one round, for tests driving a ManualClock (returns is_leader)

    AlwaysLeader(identity) has the same face and always leads (no Lease, no cluster).

A round: a leader renews with a PUT of the lease it last wrote (its resourceVersion the precondition); anyone
else reads the lease and takes it when it is missing (create), released (no holder) or expired, with a PUT on
the resourceVersion it read. A 409 (or a 404) means someone else wrote (or deleted) the lease first: a leader
stops leading at once, and everyone reads it again next round. Taking over from another holder moves
acquireTime and counts in leaseTransitions. A stopping leader hands the lease back (no holder), so a successor
takes it at its next round instead of waiting for it to expire.

Expiry is judged as client-go judges it, on this replica's own monotonic clock: a lease has expired when its
record (holder, times, transitions) has not changed for its leaseDurationSeconds since this replica first saw it,
so clocks of different nodes need not agree. A leader whose last successful renewal began `renew_deadline` ago
is no longer leader (`is_leader` says so at once, even between rounds; `on_stopped_leading` runs at the next
round); as `lease_duration > renew_deadline`, it has stopped before anyone else can see the lease expire, so two
replicas never lead at once. Every API call is bounded by `renew_deadline`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple, Protocol

import urllib3
from kubernetes.client import CoordinationV1Api, V1Lease, V1LeaseSpec, V1ObjectMeta
from kubernetes.client.exceptions import ApiException

from bot.clock import SYSTEM_CLOCK, Clock

log = logging.getLogger(__name__)

LEASE_NAME = "chatops-leader"
CONFLICT, NOT_FOUND = 409, 404


class Leadership(Protocol):
    """What the bot asks of an elector."""

    identity: str  # this replica's

    @property
    def is_leader(self) -> bool: ...

    @property
    def lease(self) -> str | None: ...

    @property
    def holder(self) -> str | None: ...

    def start(self) -> Leadership: ...
    def step(self) -> bool: ...
    def stop(self) -> None: ...


class AlwaysLeader:
    """One replica: it leads from `start()` to `stop()`, and nothing is asked of a cluster."""

    def __init__(
        self,
        identity: str = "local",
        on_started_leading: Callable[[], None] = lambda: None,
        on_stopped_leading: Callable[[], None] = lambda: None,
    ) -> None:
        self.identity = identity
        self._started, self._stopped = on_started_leading, on_stopped_leading

    @property
    def is_leader(self) -> bool:
        return True

    @property
    def holder(self) -> str | None:
        return self.identity

    @property
    def lease(self) -> str | None:
        return None

    def start(self) -> AlwaysLeader:
        self._started()
        return self

    def step(self) -> bool:
        return True

    def stop(self) -> None:
        self._stopped()


class _Record(NamedTuple):
    """What a lease says; any change of it is a sign of life of its holder."""

    holder: str | None
    duration_s: int | None
    acquired: datetime | None
    renewed: datetime | None
    transitions: int


class _Lease(NamedTuple):
    """A lease as the API last answered it: its record, and what a PUT of it must carry."""

    record: _Record
    resource_version: str | None
    labels: dict[str, str] | None
    annotations: dict[str, str] | None


def _parse(lease: V1Lease) -> _Lease:
    spec, meta = lease.spec, lease.metadata
    record = (
        _Record(spec.holder_identity or None, spec.lease_duration_seconds, spec.acquire_time, spec.renew_time,
                spec.lease_transitions or 0)
        if spec is not None
        else _Record(None, None, None, None, 0)
    )  # fmt: skip
    if meta is None:
        return _Lease(record, None, None, None)
    return _Lease(record, meta.resource_version, meta.labels, meta.annotations)


def _api_time(when: datetime) -> datetime:
    """A time to write into a lease. The client sends datetimes as `isoformat()`, which leaves out the decimals
    when they are all zero, and the API server's MicroTime parser requires six: so never a whole second."""
    when = when.astimezone(UTC)
    return when if when.microsecond else when.replace(microsecond=1)


class LeaseElector:
    """Leader election on the Lease `namespace/name`; see the module docstring for the guarantees."""

    def __init__(
        self,
        api: CoordinationV1Api,
        identity: str,
        namespace: str,
        name: str = LEASE_NAME,
        *,
        lease_duration: int = 15,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: Clock = SYSTEM_CLOCK,
        on_started_leading: Callable[[], None] = lambda: None,
        on_stopped_leading: Callable[[], None] = lambda: None,
    ) -> None:
        if not identity:
            raise ValueError("leader election needs an identity (the pod's name)")
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError(
                "leader election needs lease_duration > renew_deadline > retry_period > 0 "
                f"(got {lease_duration}, {renew_deadline}, {retry_period})"
            )
        self.api, self.identity, self.namespace, self.name = api, identity, namespace, name
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.clock = clock
        self._started, self._stopped = on_started_leading, on_stopped_leading
        self._lock = threading.Lock()
        self._leading = False
        self._renewed_at = 0.0  # monotonic start of the last successful write of ours
        self._lease: _Lease | None = None  # the lease as we last wrote it (a leader renews from it)
        self._observed: _Record | None = None
        self._observed_at = 0.0  # monotonic time the record was first seen as it is
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what the bot reads -----------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        with self._lock:
            return self._leading and self.clock.monotonic() - self._renewed_at < self.renew_deadline

    @property
    def holder(self) -> str | None:
        with self._lock:
            return self._observed.holder if self._observed else None

    @property
    def lease(self) -> str | None:
        return f"{self.namespace}/{self.name}"

    # -- running ----------------------------------------------------------------------------------

    def start(self) -> LeaseElector:
        self._thread = threading.Thread(target=self._run, name=f"leader-election:{self.name}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._halt.is_set():
            try:
                self.step()
            except Exception:  # a callback's bug must not end the rounds that keep two leaders apart
                log.exception("leader election round failed")
            self._halt.wait(self.retry_period)

    def stop(self) -> None:
        """Stop the rounds; a leader stops leading first, then releases the lease so a successor need not wait
        for it to expire."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join()
        if self._leading:
            self._stop_leading("stopping")
            self._release()

    def step(self) -> bool:
        """One round: renew or acquire the lease, or stop leading once renewals have failed for too long."""
        began = self.clock.monotonic()
        try:
            won = self._renew() if self._leading and self._lease is not None else self._try_acquire()
        except ApiException as err:
            if err.status in (CONFLICT, NOT_FOUND):
                # Someone else wrote (or deleted) the lease first: another replica won this round, or the
                # leader's lease is no longer the one it holds. A leader stops at once; all read it afresh.
                self._lease = None
                if self._leading:
                    self._stop_leading("someone else changed the lease")
                return False
            won = False
            log.warning("leader election: the API answered %s %s", err.status, err.reason)
        except urllib3.exceptions.HTTPError as err:
            won = False
            log.warning("leader election: the API could not be reached: %s", type(err).__name__)
        if won:
            with self._lock:
                self._renewed_at, newly = began, not self._leading
                self._leading = True
            if newly:
                log.info("leader election: %s leads %s/%s", self.identity, self.namespace, self.name)
                self._started()
        elif self._leading and self.clock.monotonic() - self._renewed_at >= self.renew_deadline:
            self._stop_leading(f"no renewal for {self.renew_deadline:g} s")
        return self.is_leader

    # -- the lease --------------------------------------------------------------------------------

    def _renew(self) -> bool:
        assert self._lease is not None
        self._write(self._lease, acquired=False)
        return True

    def _try_acquire(self) -> bool:
        try:
            read = self.api.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self.renew_deadline
            )
        except ApiException as err:
            if err.status != NOT_FOUND:
                raise
            return self._create()
        lease = self._observe(read)
        holder = lease.record.holder
        if holder not in (None, self.identity) and not self._expired(lease.record):
            return False
        self._write(lease, acquired=holder != self.identity)
        return True

    def _create(self) -> bool:
        now = _api_time(self.clock.now())
        body = self._body(None, self.identity, self.lease_duration, now, now, 0)
        try:
            created = self.api.create_namespaced_lease(
                self.namespace, body, _request_timeout=self.renew_deadline
            )
        except ApiException as err:
            if err.status == CONFLICT:  # another replica created it first
                return False
            raise
        self._lease = self._observe(created)
        return True

    def _write(self, lease: _Lease, *, acquired: bool) -> None:
        """PUT the lease naming us, on the resourceVersion it was read or written with (409 if it moved)."""
        now, record = _api_time(self.clock.now()), lease.record
        if acquired:
            body = self._body(lease, self.identity, self.lease_duration, now, now, record.transitions + 1)
        else:
            since = _api_time(record.acquired) if record.acquired else now
            body = self._body(lease, self.identity, self.lease_duration, since, now, record.transitions)
        self._lease = self._put(body)

    def _body(
        self, lease: _Lease | None, holder: str | None, duration_s: int, acquired: datetime, renewed: datetime,
        transitions: int,
    ) -> V1Lease:  # fmt: skip
        """The lease to send; a PUT replaces the whole object, so labels and annotations others set are kept."""
        metadata = V1ObjectMeta(name=self.name, namespace=self.namespace)
        if lease is not None:
            metadata.resource_version = lease.resource_version
            metadata.labels, metadata.annotations = lease.labels, lease.annotations
        spec = V1LeaseSpec(
            holder_identity=holder, lease_duration_seconds=duration_s, acquire_time=acquired, renew_time=renewed,
            lease_transitions=transitions,
        )  # fmt: skip
        return V1Lease(api_version="coordination.k8s.io/v1", kind="Lease", metadata=metadata, spec=spec)

    def _put(self, body: V1Lease) -> _Lease:
        written = self.api.replace_namespaced_lease(
            self.name, self.namespace, body, _request_timeout=self.renew_deadline
        )
        return self._observe(written)

    def _release(self) -> None:
        """Hand the lease back (no holder, a one-second duration), as client-go's ReleaseOnCancel does."""
        lease, now = self._lease, _api_time(self.clock.now())
        if lease is None:
            return
        try:
            self._put(self._body(lease, None, 1, now, now, lease.record.transitions))
        except (ApiException, urllib3.exceptions.HTTPError) as err:
            # Not fatal: the lease then expires as if this replica had died.
            log.warning("leader election: could not release the lease: %s", err)
        self._lease = None

    def _observe(self, answer: V1Lease) -> _Lease:
        lease = _parse(answer)
        with self._lock:
            if lease.record != self._observed:
                self._observed, self._observed_at = lease.record, self.clock.monotonic()
        return lease

    def _expired(self, record: _Record) -> bool:
        duration = record.duration_s or self.lease_duration
        with self._lock:
            return self.clock.monotonic() - self._observed_at >= duration

    def _stop_leading(self, why: str) -> None:
        with self._lock:
            self._leading = False
        log.warning(
            "leader election: %s stops leading %s/%s: %s", self.identity, self.namespace, self.name, why
        )
        self._stopped()
