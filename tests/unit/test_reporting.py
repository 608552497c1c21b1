"""Run reports: counts, CSV rows, escaped HTML and the expiry chart."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from contentops.reporting import ReportRow, RunReport, expiry_chart_svg

pytestmark = pytest.mark.unit


def _report() -> RunReport:
    report = RunReport(
        "rights_expiry_sweep",
        "scheduled__2026-11-23T00:00:00+00:00",
        "Rights expiry sweep",
        generated_at=datetime(2026, 11, 24, tzinfo=UTC),
    )
    report.add(ReportRow("a-1", "vip:emea", "withdrawn", "expired", "getty/lpt-1", "2026-11-20"))
    report.add(ReportRow("a-2", "vip:emea", "restricted", "expiring", "istock/lpt-2", "2026-12-03"))
    report.add(ReportRow("a-3", "exstream:retail", "blocked", "<script>x</script>", "", "2026-12-04"))
    return report


def test_counts_and_summary_line() -> None:
    report = _report()
    assert report.counts == {"blocked": 1, "restricted": 1, "withdrawn": 1}
    assert report.summary_line().endswith("summary: blocked=1 restricted=1 withdrawn=1")


def test_files_hold_every_row_and_escape_partner_text(tmp_path: Path) -> None:
    html_path, csv_path = _report().write(tmp_path)
    assert html_path.parent == csv_path.parent
    assert "scheduled__2026-11-23T00_00_00+00_00" in str(html_path)  # run ids are made path-safe
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["asset_id"] for r in rows] == ["a-1", "a-2", "a-3"]
    page = html_path.read_text()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert page.count("<tr>") == 1 + 2 + 1 + 3  # by-target header+2 targets, rows header+3


def test_chart_buckets_expiries_by_week() -> None:
    svg = expiry_chart_svg(["2026-11-25", "2026-11-26", "2026-12-03", "2026-10-01", ""], date(2026, 11, 24), 4)
    assert svg.count("<rect") == 4
    assert ">2</text>" in svg and ">1</text>" in svg
    assert "No expiries" in expiry_chart_svg([], date(2026, 11, 24))


def test_a_report_of_a_failed_run_says_so_in_its_summary_line_and_page(tmp_path: Path) -> None:
    report = RunReport("campaign_release", "manual__1", "Campaign release", failed_tasks=["deliver_1", "plan"])
    report.add(ReportRow("asset-1", "vip:pkg", "delivered"))
    assert report.status == "failed"
    assert report.summary_line() == (
        "campaign_release run manual__1 summary: FAILED (failed tasks: deliver_1, plan) delivered=1"
    )
    html_path, _ = report.write(tmp_path)
    page = html_path.read_text()
    assert "<b>This run failed.</b> Failed tasks: deliver_1, plan." in page
    assert RunReport("d", "r", "t").status == "succeeded"


def test_the_csv_is_what_the_csv_module_writes_for_awkward_partner_text(tmp_path: Path) -> None:
    import io

    awkward = [
        ReportRow("a,1", 'vip:"emea"', "refused", "line one\nline two", "0012", "", "NA"),
        ReportRow("a-2", "exstream:retail", "blocked", "naïve — ünïcode", "nan", "2026-12-04", "None"),
        ReportRow("a-3", "vip:emea", "delivered", " padded ", "x\r\ny", "", ""),
    ]
    report = RunReport("d", "r", "t")
    for row in awkward:
        report.add(row)
    _, csv_path = report.write(tmp_path)
    expected = io.StringIO(newline="")
    writer = csv.DictWriter(expected, fieldnames=list(ReportRow.__dataclass_fields__))
    writer.writeheader()
    for row in awkward:
        writer.writerow(row.__dict__)
    assert csv_path.read_bytes() == expected.getvalue().encode("utf-8")
    assert list(csv.DictReader(csv_path.open(newline=""))) == [row.__dict__ for row in awkward]


def test_counts_per_target_are_sorted_by_target_then_action() -> None:
    report = _report()
    report.add(ReportRow("a-4", "exstream:retail", "blocked"))
    report.add(ReportRow("a-5", "exstream:retail", "approved"))
    assert report.counts_by_target() == {
        "exstream:retail": {"approved": 1, "blocked": 2},
        "vip:emea": {"restricted": 1, "withdrawn": 1},
    }
    assert RunReport("d", "r", "t").counts == {} and RunReport("d", "r", "t").counts_by_target() == {}
