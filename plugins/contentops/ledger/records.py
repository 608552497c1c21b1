"""What the ledger hands out and takes in: plain values, no database access."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

#: How long a run may hold a business key before it records the started instance. A start is
#: one lookup and one POST (each bounded by the transport's timeouts and retries), so a claim
#: still open after this is a run that failed or was killed; the next run takes it over.
DEFAULT_CLAIM_LEASE = timedelta(minutes=10)


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"


class EffectStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class SlotStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"


def idempotency_key(pipeline: str, asset_id: str, version: str | int, target: str) -> str:
    """Stable key of one effect: the same (pipeline, asset, version, target) gives the same key.

    It is also sent to partners (``Idempotency-Key`` headers, external references) so a
    partner that saw the first attempt recognises a replay.
    """
    raw = "\x1f".join((pipeline, str(asset_id), str(version), target)).encode()
    return "co-" + hashlib.sha256(raw).hexdigest()[:40]


@dataclass(frozen=True)
class DeliveryPlan:
    """What to do for (pipeline, asset, version, target), decided before anything is sent."""

    action: Action
    key: str
    pipeline: str
    asset_id: str
    version: str
    target: str
    remote_id: str | None = None
    #: An earlier attempt with this key began and did not finish: it may have written already
    #: (a partner without idempotency keys is asked for what it holds before writing again).
    resumed: bool = False


@dataclass(frozen=True)
class DeliveryRecord:
    """One slot: what a target holds of an asset now."""

    pipeline: str
    asset_id: str
    target: str
    remote_id: str | None
    version: str | None
    status: str
    license_ref: str | None
    updated_at: datetime


@dataclass(frozen=True)
class RightsJson:
    """A license's rights already serialised as JSON (pydantic's ``model_dump_json`` of its
    ``UsageRights``), which the index writes as it is.

    The license sync writes a hundred rows a page: serialising each in one pass in pydantic's
    core, instead of making the Python dict of it (``model_dump``) and then its JSON
    (``json.dumps``), saves about a millisecond of every page's CPU. What is stored reads back as
    the same dict."""

    text: str

    def as_dict(self) -> dict[str, Any]:
        return dict(json.loads(self.text))


@dataclass(frozen=True)
class LicenseRow:
    """The latest known rights of one license purchase transaction (``rights`` = UsageRights JSON).

    ``assessed_for`` names the sweep assessment (as of a moment, with a horizon) already made of
    these rights when they were written, ``finding`` its result (``None``: no action needed) — so
    a sweep with the same moment and horizon reads it instead of assessing again. A write of new
    rights without an assessment clears both."""

    lpt_uuid: str
    asset_id: str
    provider: str | None
    version: int | None
    expires_at: datetime | None
    #: as read back always a dict; written, it may come serialised already (:class:`RightsJson`)
    rights: dict[str, Any] | RightsJson
    assessed_for: str | None = None
    finding: dict[str, Any] | None = None


@dataclass(frozen=True)
class QuarantineRecord:
    id: int
    source: str
    kind: str
    reason: str
    raw: str
    ref: str | None
    run_id: str | None
    created_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class ProcessRecord:
    business_key: str
    system: str
    definition: str
    instance_id: str | None
    status: str
    outcome: str | None
    variables: dict[str, Any] | None
    run_id: str | None
    #: until when ``run_id`` holds the claim (None: a claim from before leases existed, free to take over)
    lease_until: datetime | None = None
    #: why the last start of this key failed, if it did
    last_error: str | None = None

    @property
    def claimed_only(self) -> bool:
        """Claimed, but no instance recorded (being started, or left by a failed run)."""
        return self.instance_id is None

    def lease_over(self, now: datetime) -> bool:
        return self.lease_until is None or self.lease_until <= now


@dataclass(frozen=True)
class AuditRecord:
    at: datetime
    pipeline: str
    run_id: str | None
    action: str
    subject: str
    details: dict[str, Any] | None


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A timestamp read back in UTC (SQLite returns naive ones)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def raw_text(raw: Any) -> str:
    """A payload as the text kept in quarantine: bytes decoded, anything else as JSON."""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    if isinstance(raw, str):
        return raw
    return json.dumps(raw, default=str, ensure_ascii=False)
