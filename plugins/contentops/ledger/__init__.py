"""The integration's own state, in its own database: what was sent where, and why.

Never Airflow's metadata database: the ledger outlives Airflow upgrades and is what a user
asks "where did asset X go, when, under which license?". SQLite by default, PostgreSQL in
production, through SQLAlchemy Core. One store per kind of state, composed by :class:`Ledger`:

- **cross-references** between systems' ids (Smint.io asset ↔ VIP item ↔ Exstream resource …)
  — :mod:`.xrefs`;
- **deliveries**, the heart of exactly-once: slots and their effects, each effect unique on an
  idempotency key; :meth:`Ledger.plan` says create / update / skip before anything is sent —
  :mod:`.deliveries`;
- **sync cursors** of incremental feeds — :mod:`.cursors`; the **license index**: the latest
  rights of every license purchase transaction seen, with its expiry — :mod:`.licenses`;
- **quarantine**: partner payloads that failed validation, kept verbatim with the reason —
  :mod:`.quarantine`;
- **processes**: workflows started per business key, claimed for a lease so none is started
  twice and none wedges — :mod:`.processes`;
- an **audit trail** and **run summaries** that reports are built from — :mod:`.audit`.

The tables are in :mod:`.schema`; the database gets them from the Alembic revisions in
:mod:`.migrations`, applied by :meth:`Ledger.migrate` (never by hand); concurrent migrations
serialise on a lock.
"""

from __future__ import annotations

from contentops.ledger.database import create_ledger_engine
from contentops.ledger.facade import Ledger
from contentops.ledger.migrations import BASELINE_VERSION, LATEST_VERSION
from contentops.ledger.records import (
    DEFAULT_CLAIM_LEASE,
    Action,
    AuditRecord,
    DeliveryPlan,
    DeliveryRecord,
    EffectStatus,
    LicenseRow,
    ProcessRecord,
    QuarantineRecord,
    RightsJson,
    SlotStatus,
    idempotency_key,
)
from contentops.ledger.schema import (
    audit_table,
    cursors,
    delivery_effects,
    delivery_slots,
    licenses,
    metadata,
    processes,
    quarantine_table,
    run_summaries,
    xrefs,
)
from contentops.ledger.schema import legacy_schema_version as schema_version

__all__ = [
    "BASELINE_VERSION",
    "DEFAULT_CLAIM_LEASE",
    "LATEST_VERSION",
    "Action",
    "AuditRecord",
    "DeliveryPlan",
    "DeliveryRecord",
    "EffectStatus",
    "Ledger",
    "LicenseRow",
    "ProcessRecord",
    "QuarantineRecord",
    "RightsJson",
    "SlotStatus",
    "audit_table",
    "create_ledger_engine",
    "cursors",
    "delivery_effects",
    "delivery_slots",
    "idempotency_key",
    "licenses",
    "metadata",
    "processes",
    "quarantine_table",
    "run_summaries",
    "schema_version",
    "xrefs",
]
