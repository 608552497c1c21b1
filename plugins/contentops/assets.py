"""The Airflow Assets the pipelines emit and consume, defined once.

A producer names one in its task's ``outlets``; a consumer schedules on it. Both import it
from here so the URI cannot drift between two DAG files.
"""

from __future__ import annotations

from airflow.sdk import Asset

#: The ledger's license index changed (``smintio_license_sync``).
SMINTIO_LICENSES = Asset("contentops://smintio/licenses")
#: The rights expiry sweep wrote dispositions back (renewals, takedowns, exceptions cleared).
RIGHTS_CHANGES = Asset("contentops://rights-changes")
