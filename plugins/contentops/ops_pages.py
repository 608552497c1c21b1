"""The operations pages of the plugin: the quarantine to work, and "where did this asset go".

Pure rendering and ledger reads (no Airflow, no HTTP): :mod:`contentops.plugin` mounts them
with Airflow's permissions. Pages are plain server-rendered HTML, like the run reports, so they
need nothing but the ledger and open in any browser; every value shown is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from contentops.ledger import DeliveryRecord, Ledger, ProcessRecord, QuarantineRecord
from contentops.quarantine import REPLAY_DAG_ID, replayer_for, resolution_of

PAGE_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0} td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px;
vertical-align:top} th{background:#f3f3f3;text-align:left} .meta{color:#666} .flash{background:#eef6ee;
padding:8px;border:1px solid #9c9} .error{background:#fbeaea;border-color:#c99} code{font-size:13px}
nav a{margin-right:1rem} form.inline{display:inline} details pre{white-space:pre-wrap;max-width:60rem}
"""
RAW_SHOWN = 4000


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value))


def page(title: str, body: str, *, prefix: str, flash: str = "", error: bool = False) -> str:
    message = f'<p id="flash" class="flash{" error" if error else ""}">{_esc(flash)}</p>' if flash else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title><style>{PAGE_STYLE}</style></head>
<body><nav><a href="/">Airflow</a><a href="{prefix}/quarantine">Quarantine</a>
<a href="{prefix}/where">Where did it go</a></nav>
<h1>{_esc(title)}</h1>{message}{body}</body></html>
"""


def run_links(prefix: str, dag_id: str, run_id: str | None) -> str:
    """Links to a run's page in the Airflow UI and to its run report."""
    if not run_id:
        return "-"
    dag, run = quote(dag_id, safe=""), quote(run_id, safe="")
    return (
        f'<a class="run" href="/dags/{dag}/runs/{run}">{_esc(run_id)}</a> '
        f'(<a class="report" href="{prefix}/reports/{dag}/{run}">report</a>)'
    )


# -- quarantine --------------------------------------------------------------------------------------
def quarantine_page(
    ledger: Ledger,
    *,
    prefix: str,
    source: str | None = None,
    include_resolved: bool = False,
    flash: str = "",
    error: bool = False,
) -> str:
    records = ledger.quarantined(source=source, include_resolved=include_resolved)
    query = urlencode({k: v for k, v in (("source", source or ""), ("all", "1" if include_resolved else "")) if v})
    suffix = f"?{query}" if query else ""
    filters = (
        f'<form method="get" action="{prefix}/quarantine"><label>source <input name="source" '
        f'value="{_esc(source or "")}"></label> <label><input type="checkbox" name="all" value="1"'
        f"{' checked' if include_resolved else ''}> resolved rows too</label> <button>Show</button></form>"
        f'<p>Export: <a id="export-csv" href="{prefix}/quarantine/export.csv{suffix}">CSV</a> · '
        f'<a id="export-json" href="{prefix}/quarantine/export.json{suffix}">JSON</a></p>'
    )
    rows = "".join(_quarantine_row(ledger, record, prefix) for record in records)
    table = (
        '<table id="quarantine"><tr><th>#</th><th>quarantined</th><th>source / kind</th><th>reference</th>'
        f"<th>reason</th><th>run</th><th>work it</th></tr>{rows}</table>"
        if records
        else '<p id="empty">Nothing in quarantine.</p>'
    )
    intro = (
        '<p class="meta">Partner records a pipeline could not use, kept verbatim with the reason. '
        "<b>Replay</b> reads the record again and puts it through the same validation and step, once "
        f"(in a <code>{REPLAY_DAG_ID}</code> run); <b>Resolve</b> closes a row with a note.</p>"
    )
    return page("Quarantine", intro + filters + table, prefix=prefix, flash=flash, error=error)


def _quarantine_row(ledger: Ledger, record: QuarantineRecord, prefix: str) -> str:
    raw = record.raw if len(record.raw) <= RAW_SHOWN else record.raw[:RAW_SHOWN] + " …"
    if record.resolved_at is not None:
        work = f"resolved {record.resolved_at:%Y-%m-%d %H:%M}: {_esc(resolution_of(ledger, record.id))}"
    else:
        replayer = replayer_for(record)
        replay = (
            f'<form class="inline replay" method="post" action="{prefix}/quarantine/{record.id}/replay">'
            f'<button name="replay" title="{_esc(replayer.describes)}">Replay</button></form> '
            if replayer
            else '<span class="meta">not replayable: resolve once the partner sends it again</span><br>'
        )
        work = (
            f"{replay}"
            f'<form class="inline resolve" method="post" action="{prefix}/quarantine/{record.id}/resolve">'
            f'<input name="note" placeholder="why it is resolved" required> <button>Resolve</button></form>'
        )
    return (
        f'<tr id="q-{record.id}"><td>{record.id}</td><td>{record.created_at:%Y-%m-%d %H:%M}</td>'
        f"<td>{_esc(record.source)} / {_esc(record.kind)}</td><td>{_esc(record.ref or '-')}</td>"
        f'<td class="reason">{_esc(record.reason)}<details><summary>payload</summary><pre>{_esc(raw)}</pre>'
        f"</details></td><td>{_esc(record.run_id or '-')}</td><td>{work}</td></tr>"
    )


# -- where did it go --------------------------------------------------------------------------------
@dataclass
class AssetTrail:
    """Everything the ledger knows of where an asset went."""

    asset_id: str
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    #: every effect on the asset's slots (create/update/withdraw), oldest first
    effects: list[dict[str, object]] = field(default_factory=list)
    claims: list[ProcessRecord] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)
    #: runs of the replay DAG: an effect one of them made links to that run, not the pipeline's
    replay_runs: set[str] = field(default_factory=set)

    def run_dag(self, pipeline: str, run_id: str | None) -> str:
        """The DAG whose run made an effect (a replay delivers into the pipeline's slots)."""
        return REPLAY_DAG_ID if run_id in self.replay_runs else pipeline


def asset_trail(ledger: Ledger, asset_id: str) -> AssetTrail:
    """The asset's deliveries and their effects, the workflow starts claimed for it and still
    without an instance, and the quarantine rows (open or not) that name it."""
    claims = [c for c in ledger.claims() if asset_id in c.business_key.split(":")]
    rows = [r for r in ledger.quarantined(include_resolved=True) if r.ref == asset_id or _names(r.ref or "", asset_id)]
    rows += [r for r in ledger.quarantined(include_resolved=True) if r not in rows and f'"{asset_id}"' in r.raw]
    return AssetTrail(
        asset_id,
        ledger.where_did_it_go(asset_id),
        ledger.effects(asset_id=asset_id),
        claims,
        sorted(rows, key=lambda r: r.id),
        {e.run_id for e in ledger.audit_trail(pipeline=REPLAY_DAG_ID) if e.run_id},
    )


def _names(ref: str, asset_id: str) -> bool:
    return asset_id in ref.replace("@", ":").split(":")


def where_page(ledger: Ledger | None, asset_id: str, *, prefix: str) -> str:
    form = (
        f'<form method="get" action="{prefix}/where"><label>asset id <input name="asset_id" '
        f'value="{_esc(asset_id)}" autofocus></label> <button>Search</button></form>'
    )
    if not asset_id or ledger is None:
        return page("Where did it go", form, prefix=prefix)
    trail = asset_trail(ledger, asset_id)
    return page(f"Where did {asset_id} go", form + _trail_html(trail, prefix), prefix=prefix)


def _trail_html(trail: AssetTrail, prefix: str) -> str:
    if not (trail.deliveries or trail.claims or trail.quarantine):
        known = "The ledger knows of no delivery, claim or quarantine row for"
        return f'<p id="nothing">{known} {_esc(trail.asset_id)}.</p>'
    slots = {(d.pipeline, d.target): d for d in trail.deliveries}
    by_partner: dict[str, list[str]] = {}
    for effect in trail.effects:
        pipeline, target = str(effect["pipeline"]), str(effect["target"])
        slot = slots.get((pipeline, target))
        run_id = str(effect["run_id"]) if effect.get("run_id") else None
        when = effect.get("finished_at") or effect.get("created_at")
        by_partner.setdefault(target.split(":", 1)[0], []).append(
            f"<tr><td>{_esc(f'{when:%Y-%m-%d %H:%M}' if when else '-')}</td><td>{_esc(target)}</td>"
            f"<td>{_esc(effect['action'])}</td><td>{_esc(effect['version'])}</td><td>{_esc(effect['status'])}</td>"
            f"<td>{_esc(effect.get('remote_id') or '-')}</td><td>{_esc(slot.license_ref if slot else '-')}</td>"
            f"<td>{_esc(pipeline)}</td><td>{run_links(prefix, trail.run_dag(pipeline, run_id), run_id)}</td></tr>"
        )
    head = (
        "<tr><th>when</th><th>target</th><th>action</th><th>version</th><th>status</th><th>remote id</th>"
        "<th>license</th><th>pipeline</th><th>run</th></tr>"
    )
    sections = "".join(
        f'<h3>{_esc(partner)}</h3><table class="deliveries" data-partner="{_esc(partner)}">{head}'
        + "".join(rows)
        + "</table>"
        for partner, rows in sorted(by_partner.items())
    )
    now_held = "".join(
        f"<li>{_esc(d.target)}: {_esc(d.status)}, version {_esc(d.version)}, remote {_esc(d.remote_id or '-')}, "
        f"license {_esc(d.license_ref or '-')}</li>"
        for d in trail.deliveries
    )
    claims = "".join(
        f"<li><code>{_esc(c.business_key)}</code> ({_esc(c.definition)}) "
        f"claimed by run {_esc(c.run_id or '-')}{f' — last error: {_esc(c.last_error)}' if c.last_error else ''}</li>"
        for c in trail.claims
    )
    quarantine = "".join(
        f'<li><a href="{prefix}/quarantine?all=1#q-{r.id}">#{r.id}</a> {_esc(r.source)}/{_esc(r.kind)} '
        f"{_esc(r.ref or '-')}: {_esc(r.reason)}{' (resolved)' if r.resolved_at else ''}</li>"
        for r in trail.quarantine
    )
    return (
        f'<h2>Deliveries per partner</h2><div id="deliveries">{sections or "<p>None.</p>"}</div>'
        f'<h2>What each target holds now</h2><ul id="slots">{now_held or "<li>nothing</li>"}</ul>'
        f'<h2>Active claims</h2><ul id="claims">{claims or "<li>none</li>"}</ul>'
        f'<h2>Quarantine</h2><ul id="asset-quarantine">{quarantine or "<li>none</li>"}</ul>'
    )
