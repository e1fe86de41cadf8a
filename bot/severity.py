"""Severity levels (SEV-1..SEV-4) and the probe statuses that suggest them."""

from __future__ import annotations

from enum import StrEnum


class Sev(StrEnum):
    """Incident severity; SEV-1 is the most severe."""

    SEV1 = "SEV-1"
    SEV2 = "SEV-2"
    SEV3 = "SEV-3"
    SEV4 = "SEV-4"

    @property
    def rank(self) -> int:
        """1 for SEV-1 .. 4 for SEV-4 (lower is more severe)."""
        return int(self.value[-1])


class Status(StrEnum):
    """Outcome of one probe."""

    OK = "ok"
    WARN = "warn"
    CRITICAL = "critical"
    ERROR = "error"
    SKIPPED = "skipped"
