"""The Airflow plugin: run reports, the quarantine and "where did this asset go" in the Airflow UI.

Registered through the ``airflow.plugins`` entry point (the package is installed), it
mounts a small FastAPI app on the API server under ``/contentops`` and adds a "Run report"
tab to every DAG run page, which shows the HTML report the run wrote, plus two pages in the
Browse menu: **Quarantine** (``/contentops/quarantine``: resolve, replay, export) and **Where
did it go** (``/contentops/where``: an asset's deliveries per partner, claims and quarantine).
The app, its routes and their permissions are in :mod:`contentops.plugin_app`.

Every Airflow process that loads plugins imports this module — the scheduler, the triggerer,
the dag-processor, and every task process as soon as a hook reports lineage (Airflow's
hook-lineage collector loads all plugins to find lineage readers). Only the API server uses the
app. So this module imports nothing but Airflow's plugin base, and the app (FastAPI, Airflow's
API security, the ledger, the reports with pandas: ~90 MB and ~1,000 modules) is built the first
time ``fastapi_apps`` is read, which Airflow does only where it mounts or lists plugin apps
(``plugins_manager.get_fastapi_plugins`` in the API server, ``get_plugin_info`` for ``airflow
plugins`` and the plugins endpoint). ``tests/unit/test_plugin_imports.py`` pins it.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/contentops"
APP_NAME = "contentops reports"


class _BuiltOnRead:
    """``fastapi_apps`` as Airflow reads it — a list of ``{"app", "url_prefix", "name"}`` — with
    the app built on the first read (on the class or an instance) and the same list after."""

    def __init__(self) -> None:
        self._apps: list[Any] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[Any]:
        if self._apps is None:
            from contentops.plugin_app import reports_app

            self._apps = [{"app": reports_app(URL_PREFIX), "url_prefix": URL_PREFIX, "name": APP_NAME}]
        return self._apps


class ContentopsPlugin(AirflowPlugin):
    name = "contentops"
    fastapi_apps: Any = _BuiltOnRead()
    external_views: list[Any] = [
        {
            "name": "Run report",
            "href": f"{URL_PREFIX}/reports/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "contentops_run_report",
        },
        {
            "name": "Quarantine",
            "href": f"{URL_PREFIX}/quarantine",
            "destination": "nav",
            "category": "browse",
            "url_route": "contentops_quarantine",
        },
        {
            "name": "Where did it go",
            "href": f"{URL_PREFIX}/where",
            "destination": "nav",
            "category": "browse",
            "url_route": "contentops_where",
        },
    ]
