"""The plugin serves exactly the report a run wrote, and nothing outside the reports folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from contentops.plugin_app import report_file
from contentops.reporting import ReportRow, RunReport

pytestmark = pytest.mark.unit


def test_finds_the_report_of_a_run(tmp_path: Path) -> None:
    report = RunReport("campaign_release", "manual__2026-11-24T10:00:00+00:00", "Campaign release")
    report.add(ReportRow("a-1", "vip:emea", "delivered"))
    html_path, csv_path = report.write(tmp_path)
    assert report_file("campaign_release", "manual__2026-11-24T10:00:00+00:00", root=tmp_path) == html_path
    assert report_file("campaign_release", "manual__2026-11-24T10:00:00+00:00", "report.csv", tmp_path) == csv_path


@pytest.mark.parametrize(
    "dag_id,run_id,name",
    [
        ("..", "..", "report.html"),
        ("campaign_release", "../../etc", "report.html"),
        ("campaign_release", "run", "passwd"),
        ("campaign_release", "never-ran", "report.html"),
    ],
)
def test_refuses_anything_else(tmp_path: Path, dag_id: str, run_id: str, name: str) -> None:
    (tmp_path / "secret.html").write_text("no")
    with pytest.raises(HTTPException) as caught:
        report_file(dag_id, run_id, name, root=tmp_path)
    assert caught.value.status_code == 404
