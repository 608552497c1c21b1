"""Run reports a person opens: an HTML page and a CSV per pipeline run.

Every pipeline ends by writing what it decided and did — per asset and target: the action
(delivered, updated, withdrawn, blocked, refused, quarantined, …), the reason, the license
and the expiry — into ``$CONTENTOPS_HOME/reports/<dag_id>/<run_id>/``. The HTML page has
a summary of counts, the table, and (when expiries are known) a chart of expiries per week
over the coming weeks, drawn as inline SVG so the page has no external dependency.
"""

from __future__ import annotations

import html
import re
from dataclasses import astuple, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from contentops.config import contentops_home

if TYPE_CHECKING:
    import pandas as pd

_SAFE = re.compile(r"[^A-Za-z0-9_.+-]")


@dataclass(frozen=True)
class ReportRow:
    """One decision or effect of a run."""

    asset_id: str
    target: str
    action: str
    reason: str = ""
    license: str = ""
    expires: str = ""
    detail: str = ""


#: the report's columns (the CSV header), in order
COLUMNS = [f.name for f in fields(ReportRow)]


@dataclass
class RunReport:
    """Rows and counts of one run, written as report.html + report.csv."""

    dag_id: str
    run_id: str
    title: str
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rows: list[ReportRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the run's tasks that failed (or were left upstream_failed) when the report was written
    failed_tasks: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """``failed`` when a step of the run failed, else ``succeeded``."""
        return "failed" if self.failed_tasks else "succeeded"

    def add(self, row: ReportRow) -> None:
        self.rows.append(row)

    def table(self) -> pd.DataFrame:
        """The rows as a table with the report's :data:`COLUMNS` (also when there are none).

        pandas is imported here, when a report is counted or written, not with the module: every
        pipeline imports this module (through :mod:`contentops.pipelines.runtime`), and DAG
        parsing or a task that writes no report need not pay pandas' ~50 MB."""
        import pandas as pd

        return pd.DataFrame.from_records([astuple(row) for row in self.rows], columns=COLUMNS)

    @property
    def counts(self) -> dict[str, int]:
        """How many rows of each action, by action name."""
        counts = self.table()["action"].value_counts().sort_index()
        return {str(action): int(n) for action, n in counts.items()}

    def counts_by_target(self) -> dict[str, dict[str, int]]:
        """How many rows of each action per target, both by name."""
        sizes = self.table().groupby(["target", "action"], sort=True).size()
        by_target: dict[str, dict[str, int]] = {}
        for (target, action), n in sizes.items():
            by_target.setdefault(str(target), {})[str(action)] = int(n)
        return by_target

    def summary_line(self) -> str:
        """The line a task log ends with: ``<dag> summary: delivered=3 refused=1 …``."""
        counts = " ".join(f"{k}={v}" for k, v in self.counts.items()) or "nothing to do"
        failed = f" FAILED (failed tasks: {', '.join(self.failed_tasks)})" if self.failed_tasks else ""
        return f"{self.dag_id} run {self.run_id} summary:{failed} {counts}"

    def directory(self, root: Path | None = None) -> Path:
        base = (root or contentops_home() / "reports") / _SAFE.sub("_", self.dag_id) / _SAFE.sub("_", self.run_id)
        return base

    def write(self, root: Path | None = None, *, chart_weeks: int = 12) -> tuple[Path, Path]:
        """Write report.html and report.csv; returns their paths."""
        folder = self.directory(root)
        folder.mkdir(parents=True, exist_ok=True)
        csv_path = folder / "report.csv"
        # the csv module's dialect (what the file has always been: CRLF rows, minimal quoting)
        self.table().to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\r\n")
        html_path = folder / "report.html"
        html_path.write_text(self._html(chart_weeks), encoding="utf-8")
        return html_path, csv_path

    # -- rendering ----------------------------------------------------------------------
    def _html(self, chart_weeks: int) -> str:
        esc = html.escape
        counts = "".join(f"<li><b>{esc(k)}</b>: {v}</li>" for k, v in self.counts.items()) or "<li>nothing to do</li>"
        target_rows = "".join(
            f"<tr><td>{esc(t)}</td><td>{esc(', '.join(f'{a}: {n}' for a, n in c.items()))}</td></tr>"
            for t, c in self.counts_by_target().items()
        )
        table = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in astuple(row)) + "</tr>" for row in self.rows)
        header = "".join(f"<th>{esc(name)}</th>" for name in COLUMNS)
        notes = "".join(f"<p>{esc(note)}</p>" for note in self.notes)
        if self.failed_tasks:
            notes = (
                '<p id="status" class="failed"><b>This run failed.</b> Failed tasks: '
                f"{esc(', '.join(self.failed_tasks))}. What is below is what the run did before and "
                "around the failure; open the failed tasks' logs for the cause.</p>" + notes
            )
        chart = expiry_chart_svg([row.expires for row in self.rows], self.generated_at.date(), chart_weeks)
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(self.title)}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}
table{{border-collapse:collapse;margin:1rem 0}} td,th{{border:1px solid #ccc;padding:4px 8px;font-size:14px}}
th{{background:#f3f3f3;text-align:left}} .meta{{color:#666}} .failed{{color:#a00}}
</style></head><body>
<h1>{esc(self.title)}</h1>
<p class="meta">DAG <code>{esc(self.dag_id)}</code>, run <code>{esc(self.run_id)}</code>,
generated {esc(self.generated_at.isoformat(timespec="seconds"))}</p>
{notes}
<h2>Summary</h2><ul id="counts">{counts}</ul>
<h2>By target</h2><table id="by-target"><tr><th>target</th><th>actions</th></tr>{target_rows}</table>
<h2>Expiries in the coming weeks</h2>{chart}
<h2>Every decision</h2><table id="rows"><tr>{header}</tr>{table}</table>
</body></html>
"""


def expiry_chart_svg(expiries: list[str], today: date, weeks: int = 12) -> str:
    """Bar chart of how many expiries fall in each of the next ``weeks`` weeks (inline SVG)."""
    buckets = [0] * weeks
    for value in expiries:
        if not value:
            continue
        try:
            when = datetime.fromisoformat(value).date()
        except ValueError:
            continue
        index = (when - today).days // 7
        if 0 <= index < weeks:
            buckets[index] += 1
    if not any(buckets):
        return '<p id="chart">No expiries in the coming weeks.</p>'
    width, height, pad = 40 * weeks + 40, 200, 30
    top = max(buckets)
    bars = []
    for i, count in enumerate(buckets):
        bar_height = (height - 2 * pad) * count / top
        x = pad + i * 40
        y = height - pad - bar_height
        start = today + timedelta(weeks=i)
        bars.append(
            f'<rect x="{x}" y="{y:.1f}" width="30" height="{bar_height:.1f}" fill="#c0392b">'
            f"<title>week of {start.isoformat()}: {count}</title></rect>"
            f'<text x="{x + 15}" y="{y - 4:.1f}" font-size="11" text-anchor="middle">{count}</text>'
            f'<text x="{x + 15}" y="{height - 12}" font-size="10" text-anchor="middle">{start:%d %b}</text>'
        )
    return (
        f'<svg id="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="expiries per week">{"".join(bars)}</svg>'
    )
