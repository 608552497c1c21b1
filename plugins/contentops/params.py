"""Bounded DAG Params: every value a trigger form or an API call can hand a run has a limit.

A Param without one is an input of any size: 20,000 Exstream domain names typed into a trigger
form once made the release gate write 340,002 audit rows and a 164 MB ledger. The builders here
give the Params every DAG shares (connection ids, lists of names, manual dates, poll intervals)
one bound each; tests/dags/test_param_bounds.py holds every Param of every DAG to it.

Imported by DAG files at parse time: only the Task SDK, nothing heavy.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param

#: An Airflow connection id (Airflow's own limit is 250 characters).
CONN_ID_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 250, "pattern": r"^[\w.\-]+$"}
#: A partner-side name (an Exstream domain, a Trading Grid community, a stock provider).
NAME_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[^\s/\\][^/\\]*$"}
#: Most names one run may be given (a tenant has a handful of domains, communities, providers).
MAX_NAMES = 50
#: An ISO date or date-time (``2026-11-24`` … ``2026-11-24T10:00:00.000000+00:00``).
MOMENT_MAX_LENGTH = 40
#: Longest wait between two workflow polls, in seconds.
MAX_POLL_INTERVAL = 3600


def conn_id_param(default: str, description: str = "Airflow connection id") -> Param:
    return Param(default, **CONN_ID_SCHEMA, description=description)


def names_param(default: list[str], description: str, *, max_items: int = MAX_NAMES) -> Param:
    """A list of partner-side names, unique, at most ``max_items``."""
    return Param(
        default, type="array", items=dict(NAME_SCHEMA), uniqueItems=True, maxItems=max_items, description=description
    )


def moment_param(description: str) -> Param:
    """An optional ISO date-time of a manual run (empty = the run's own window)."""
    return Param(None, type=["null", "string"], maxLength=MOMENT_MAX_LENGTH, description=description)


def poll_interval_param(default: int) -> Param:
    return Param(
        default, type="integer", minimum=1, maximum=MAX_POLL_INTERVAL, description="Seconds between workflow polls"
    )
