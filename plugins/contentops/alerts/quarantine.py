"""Quarantine growth: tell the team once when the open quarantine rises above its threshold.

Every run's report task calls :func:`check_quarantine_growth` after the run's own quarantines
are written. The ledger's open (unresolved) rows across all sources are compared with
``quarantine_threshold`` of ``alerts.yaml``; the team is told when the count *crosses* it — the
first run that finds it above, not every run after — and the crossing is remembered in the
ledger (cursor :data:`STATE_CURSOR`), so the next alert comes only after the count has fallen
back to the threshold or below and risen above it again. An alert that reached no channel is
tried again by the next run.
"""

from __future__ import annotations

import logging
from typing import Any

from contentops.config import SettingsError

log = logging.getLogger(__name__)

#: ledger cursor holding ``above`` while the open quarantine is above the threshold
STATE_CURSOR = "alerts:quarantine_growth"
ABOVE, BELOW = "above", "below"


def check_quarantine_growth(ledger: Any, dag_id: str, run_id: str, context: Any = None) -> str | None:
    """Compare the open quarantine with the threshold and alert on a crossing; a note for the
    run's report (or None when there is nothing to say). Never raises: alerting must not fail a run."""
    from contentops.alerts.settings import load_alert_settings

    try:
        settings = load_alert_settings()
    except SettingsError as exc:
        log.error("Alerts are off until the settings file is fixed: %s", exc)
        return f"Alerts are off: {exc}"
    threshold = settings.quarantine_threshold
    if threshold is None or not settings.wants("quarantine_growth"):
        return None
    try:
        return _check(ledger, settings, threshold, dag_id, run_id, context)
    except Exception:
        log.exception("Quarantine growth check failed")
        return None


def _check(ledger: Any, settings: Any, threshold: int, dag_id: str, run_id: str, context: Any) -> str | None:
    from contentops.alerts.notify import SUBJECT_PREFIX, Alert, deliver

    count = ledger.count_quarantined()
    state = ledger.get_cursor(STATE_CURSOR)
    if count <= threshold:
        if state == ABOVE:
            ledger.set_cursor(STATE_CURSOR, BELOW)
            log.info("Open quarantine back to %d (threshold %d)", count, threshold)
        return None
    if state == ABOVE:
        return f"Quarantine: {count} open rows, above the alert threshold {threshold} (the team was told before)."
    by_source: dict[str, int] = {}
    for row in ledger.quarantined():
        by_source[row.source] = by_source.get(row.source, 0) + 1
    alert = Alert(
        "quarantine_growth",
        f"{SUBJECT_PREFIX} Quarantine above {threshold}: {count} open rows",
        [
            ("Open rows", str(count)),
            ("Threshold", str(threshold)),
            ("By source", ", ".join(f"{source} {n}" for source, n in sorted(by_source.items()))),
            ("Crossed in", f"{dag_id} ({run_id})"),
            ("What to do", "python -m contentops.ledger_cli quarantine lists them with their reasons."),
        ],
    )
    sent, _failures = deliver(alert, settings, context)
    if not sent:
        return f"Quarantine: {count} open rows, above the alert threshold {threshold}; the alert reached no channel."
    ledger.set_cursor(STATE_CURSOR, ABOVE)
    return f"Quarantine: {count} open rows, above the alert threshold {threshold}; the team was told."
