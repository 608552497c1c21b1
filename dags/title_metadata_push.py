"""
### Title metadata push

Hourly, on its data interval, between **Consonance** (titles) and **Smint.io** (assets) — and
also as soon as the rights expiry sweep emits `contentops://rights-changes`, so the usage-rights
summary on the titles follows a renewal or a takedown at once (such a run looks back an hour):

- **Consonance → Smint.io** (CON-4, CON-7): titles changed in the interval, and titles whose
  publication is within `lead_days` of the interval's end, push title, subtitle, contributors,
  imprint, format, ISBN, publication date, BISAC subjects and campaign milestones onto their
  matching Smint.io assets as metadata and tags — once per title revision, publication phase
  and asset.
- **Smint.io → Consonance** (CON-1, CON-5, CON-6): the approved covers, jackets, author photos,
  promo graphics and licensed stock of each title are attached to the title record with their
  usage-rights summary (license terms, territories, expiry), paired per format (print jacket,
  ebook cover, audio thumbnail) with the edition's release timing — only when the license
  allows the use in every territory and on the channel of the edition, today and on the
  publication date. Refusals are recorded with their reasons.
- **Revised / reissued / repackaged titles** (CON-8): the latest approved asset of each
  slot is surfaced (tagged `title:current`), the outdated ones are retired — and only those.

Which assets belong to a title is the explicit, ordered `match_rules` Param: `isbn` (ISBN in
the asset's metadata or `isbn:` tags), `title_ref` (the work id or in-house reference in the
asset's metadata or `title-ref:` tags), `ledger_xref` (assets the ledger links to the title,
e.g. attached on request). Each asset counts for the first rule that matches it.

**From the UI form**: set `isbn` to run for that one title only; set `isbn` **and** `asset_id`
to attach that approved asset to that title on request (CON-3, rights-gated); with `target_kind`
`production_task` or `manuscript` and its `target_id` the asset goes to that production task or
manuscript of the title instead (the ISBN, optional then, names the edition to clear it for).
From Smint.io's side, an approved asset whose metadata `consonance_task` / `consonance_manuscript`
(or tag `consonance-task:<id>` / `consonance-manuscript:<id>`) names a task or manuscript is
attached there by the scheduled run that sees it change — once, rights-gated alike. `dry_run` decides
and reports without changing anything. Every run writes a report (the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable, Param, dag, task

from contentops.assets import REMOVALS, RIGHTS_CHANGES
from contentops.operators.consonance import (
    ConsonanceAttachAssetsOperator,
    ConsonanceAttachOnRequestOperator,
    ConsonanceAttachRequestedOperator,
    ConsonanceSelectTitlesOperator,
    ConsonanceSurfaceLatestOperator,
    ConsonanceTitleMetadataPushOperator,
)
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param
from contentops.retries import task_defaults
from contentops.verdict import seal


@dag(
    dag_id="title_metadata_push",
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("15 * * * *", timezone="UTC"), assets=[RIGHTS_CHANGES]
    ),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "titles", "consonance", "smintio"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    params={
        "isbn": Param(
            "",
            type="string",
            pattern=r"^$|^[0-9Xx\- ]{10,17}$",
            maxLength=17,
            description="Run for this one title only (any ISBN of it); empty = every title in scope",
        ),
        "asset_id": Param(
            "",
            type="string",
            maxLength=255,
            description="With an ISBN: attach this approved Smint.io asset to that title on request",
        ),
        "target_kind": Param(
            "title",
            type="string",
            enum=["title", "manuscript", "production_task"],
            description="With an asset: attach it to the title (edition), a manuscript or a production task",
        ),
        "target_id": Param(
            "",
            type="string",
            maxLength=255,
            description="The Consonance manuscript or production task id (target kinds other than title)",
        ),
        "lead_days": Param(
            30,
            type="integer",
            minimum=0,
            maximum=365,
            description="Titles publishing within this many days of the run's end are pushed too",
        ),
        "match_rules": Param(
            ["isbn", "title_ref", "ledger_xref"],
            type="array",
            items={"type": "string", "enum": ["isbn", "title_ref", "ledger_xref"]},
            minItems=1,
            maxItems=3,
            uniqueItems=True,
            description="How assets are found for a title, in order; the first rule that matches an asset wins",
        ),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "consonance_conn_id": conn_id_param("consonance_default"),
    },
)
def title_metadata_push() -> None:
    hourly = timedelta(hours=1)  # a run without a data interval (or asset-triggered) looks back an hour
    licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=hourly)
    on_request = ConsonanceAttachOnRequestOperator(task_id="attach_on_request", default_span=hourly)
    selected = ConsonanceSelectTitlesOperator(task_id="select_titles", default_span=hourly)
    batches = selected.output
    pushed = ConsonanceTitleMetadataPushOperator.partial(task_id="push_metadata", default_span=hourly).expand(
        batch=batches
    )
    surfaced = ConsonanceSurfaceLatestOperator.partial(
        task_id="surface_latest", default_span=hourly, outlets=[REMOVALS]
    ).expand(batch=batches)
    attached = ConsonanceAttachAssetsOperator.partial(task_id="attach_assets", default_span=hourly).expand(
        batch=batches
    )
    requested = ConsonanceAttachRequestedOperator(task_id="attach_requested_in_smintio", default_span=hourly)

    @task(trigger_rule="all_done")
    def report(_: object, **context: object) -> dict[str, object]:
        from contentops.pipelines import titles
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=timedelta(hours=1))
        return run.write_report("Title metadata push", notes=titles.report_notes(run))

    # an asset attached on request is then linked to its title, so the title's own run (same
    # form, same ISBN) pushes the title's metadata onto it right away
    licenses >> on_request >> selected
    pushed >> surfaced >> attached  # retire the outdated before attaching the latest
    licenses >> requested >> report(attached.output)


seal(title_metadata_push())
