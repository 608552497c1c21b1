"""The Airflow plugin: run reports and "where did this asset go" inside the Airflow UI.

Registered through the ``airflow.plugins`` entry point (the package is installed), it
mounts a small FastAPI app on the API server under ``/contentops`` and adds a "Run report"
tab to every DAG run page, which shows the HTML report the run wrote. Access follows
Airflow's own permissions: reading a run's report needs read access to that DAG's runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

from contentops.config import contentops_home
from contentops.reporting import RunReport

URL_PREFIX = "/contentops"


def report_file(dag_id: str, run_id: str, name: str = "report.html", root: Path | None = None) -> Path:
    """The report file of a run; the names are made path-safe exactly as the writer does."""
    if name not in ("report.html", "report.csv"):
        raise HTTPException(404, "no such report file")
    reports = (root or contentops_home() / "reports").resolve()
    folder = RunReport(dag_id, run_id, "").directory(reports).resolve()
    if reports not in folder.parents:
        raise HTTPException(404, "no such report")
    path = folder / name
    if not path.is_file():
        raise HTTPException(404, f"run {run_id} of {dag_id} has not written a report (yet)")
    return path


def create_reports_app() -> FastAPI:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import requires_access_dag

    app = FastAPI(title="contentops", docs_url=None, redoc_url=None)
    can_read_runs = [Depends(requires_access_dag("GET", DagAccessEntity.RUN))]

    @app.get("/reports/{dag_id}/{run_id}", response_class=HTMLResponse, dependencies=can_read_runs)
    def run_report(dag_id: str, run_id: str) -> FileResponse:
        return FileResponse(report_file(dag_id, run_id), media_type="text/html")

    @app.get("/reports/{dag_id}/{run_id}/report.csv", dependencies=can_read_runs)
    def run_report_csv(dag_id: str, run_id: str) -> FileResponse:
        return FileResponse(
            report_file(dag_id, run_id, "report.csv"), media_type="text/csv", filename=f"{dag_id}-report.csv"
        )

    return app


class ContentopsPlugin(AirflowPlugin):
    name = "contentops"
    fastapi_apps: list[Any] = [{"app": create_reports_app(), "url_prefix": URL_PREFIX, "name": "contentops reports"}]
    external_views: list[Any] = [
        {
            "name": "Run report",
            "href": f"{URL_PREFIX}/reports/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "contentops_run_report",
        }
    ]
