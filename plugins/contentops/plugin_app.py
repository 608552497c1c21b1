"""The FastAPI app the contentops plugin mounts on the API server under ``/contentops``.

Its own module, imported only when the app is built (:func:`reports_app`, read by the API server
through the plugin's ``fastapi_apps``): FastAPI, Airflow's API security and the ledger are not
imported by the scheduler, the triggerer, the dag-processor or a task process, which load the
plugin too (see :mod:`contentops.plugin`).

Access follows Airflow's own permissions, checked by its auth manager on every request:
reading a run's report needs read access to that DAG's runs; the "where" page needs read access
to DAG runs; the quarantine belongs to the ``quarantine_replay`` DAG — reading it needs read
access to that DAG's runs, resolving or replaying a row needs the right to trigger it. A replay
is not run inside the web server: the row is queued in the ledger and a ``quarantine_replay``
run is triggered, which replays it in a worker (:mod:`contentops.quarantine`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Form, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from contentops.config import contentops_home
from contentops.ledger import Ledger
from contentops.reporting import RunReport


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


def create_reports_app(url_prefix: str) -> FastAPI:
    """The app, for mounting under ``url_prefix`` (its pages link and redirect under it)."""
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

    _add_operations_pages(app, url_prefix)
    return app


def _ledger() -> Ledger:
    """The ledger the tasks write (the ``contentops_ledger`` connection, as tasks find it)."""
    from contentops.hooks.ledger import LedgerHook

    try:
        return LedgerHook().get_ledger()
    except Exception as exc:  # shown on the page: the operator fixes the connection
        raise HTTPException(503, f"the ledger is not reachable: {type(exc).__name__}: {exc}") from None


def _back(prefix: str, message: str, *, error: bool = False, anchor: str = "") -> RedirectResponse:
    query = urlencode({"msg": message, **({"error": "1"} if error else {})})
    return RedirectResponse(f"{prefix}/quarantine?{query}{anchor}", status_code=303)


def trigger_replay(quarantine_id: int, user: str) -> str:
    """Trigger a ``quarantine_replay`` run for one row; returns its run id."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.utils.types import DagRunTriggeredByType

    from contentops.quarantine import REPLAY_DAG_ID

    run_id = f"manual__quarantine-{quarantine_id}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    trigger_dag(
        REPLAY_DAG_ID,
        run_id=run_id,
        conf={"quarantine_ids": [quarantine_id]},
        triggered_by=DagRunTriggeredByType.UI,
        triggering_user_name=user,
        note=f"replay of quarantine row #{quarantine_id}, asked by {user}",
    )
    return run_id


def _add_operations_pages(app: FastAPI, prefix: str) -> None:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag

    from contentops import ops_pages
    from contentops import quarantine as quarantine_ops

    # (the user is a plain ``Depends`` default, not an annotation: annotations here are strings
    # FastAPI resolves in this module's globals, where Airflow's API types are not imported)
    acting_user = Depends(get_user)

    replay_dag = quarantine_ops.REPLAY_DAG_ID
    can_read_quarantine = [Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=replay_dag))]
    can_work_quarantine = [Depends(requires_access_dag("POST", DagAccessEntity.RUN, param_dag_id=replay_dag))]
    can_read_runs = [Depends(requires_access_dag("GET", DagAccessEntity.RUN))]

    @app.get("/quarantine", response_class=HTMLResponse, dependencies=can_read_quarantine)
    def quarantine_page(
        source: Annotated[str | None, Query(max_length=64)] = None,
        include_resolved: Annotated[bool, Query(alias="all")] = False,
        msg: Annotated[str, Query(max_length=2000)] = "",
        error: Annotated[bool, Query()] = False,
    ) -> str:
        return ops_pages.quarantine_page(
            _ledger(),
            prefix=prefix,
            source=source or None,
            include_resolved=include_resolved,
            flash=msg,
            error=error,
        )

    def export(fmt: str, source: str | None, include_resolved: bool) -> Response:
        records = _ledger().quarantined(source=source or None, include_resolved=include_resolved)
        media = "text/csv" if fmt == "csv" else "application/json"
        return Response(
            quarantine_ops.export(records, fmt),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="quarantine.{fmt}"'},
        )

    @app.get("/quarantine/export.csv", dependencies=can_read_quarantine)
    def export_csv(
        source: str | None = None, include_resolved: Annotated[bool, Query(alias="all")] = False
    ) -> Response:
        return export("csv", source, include_resolved)

    @app.get("/quarantine/export.json", dependencies=can_read_quarantine)
    def export_json(
        source: str | None = None, include_resolved: Annotated[bool, Query(alias="all")] = False
    ) -> Response:
        return export("json", source, include_resolved)

    @app.post("/quarantine/{quarantine_id}/resolve", dependencies=can_work_quarantine)
    def resolve(
        quarantine_id: int, note: Annotated[str, Form(max_length=2000)], user: Any = acting_user
    ) -> RedirectResponse:
        try:
            done = quarantine_ops.resolve(_ledger(), quarantine_id, note, by=user.get_name())
        except ValueError as exc:
            return _back(prefix, f"#{quarantine_id}: {exc}", error=True)
        if not done:
            return _back(prefix, f"#{quarantine_id} is not an open quarantine row: nothing resolved", error=True)
        return _back(prefix, f"#{quarantine_id} resolved: {note.strip()}")

    @app.post("/quarantine/{quarantine_id}/replay", dependencies=can_work_quarantine)
    def replay(quarantine_id: int, user: Any = acting_user) -> RedirectResponse:
        ledger = _ledger()
        record = quarantine_ops.find(ledger, quarantine_id)
        if record is None or record.resolved_at is not None:
            return _back(prefix, f"#{quarantine_id} is not an open quarantine row: nothing replayed", error=True)
        if quarantine_ops.replayer_for(record) is None:
            return _back(
                prefix, f"#{quarantine_id} cannot be replayed: resolve it once the partner sends it again", error=True
            )
        quarantine_ops.request_replay(ledger, quarantine_id, by=user.get_name())
        try:
            run_id = trigger_replay(quarantine_id, user.get_name())
        except Exception as exc:  # queued all the same: the next scheduled run replays it
            return _back(
                prefix,
                f"#{quarantine_id} queued; triggering {replay_dag} failed ({type(exc).__name__}: {exc}), "
                "its next scheduled run replays it",
                error=True,
            )
        return _back(
            prefix, f"#{quarantine_id} queued for replay in {replay_dag} run {run_id}", anchor=f"#q-{quarantine_id}"
        )

    @app.get("/where", response_class=HTMLResponse, dependencies=can_read_runs)
    def where(asset_id: Annotated[str, Query(max_length=255)] = "") -> str:
        asset_id = asset_id.strip()
        return ops_pages.where_page(_ledger() if asset_id else None, asset_id, prefix=prefix)


@cache
def reports_app(url_prefix: str) -> FastAPI:
    """The app of this process for ``url_prefix``: built on first use, then the same object."""
    return create_reports_app(url_prefix)
