"""
### Exstream template sync

Hourly, on its data interval, for each Exstream domain (the `domains` Param, or every domain):

1. **Review outcomes** — template reviews started by earlier runs that have ended in OpenText
   Workflow Service are applied: approved → the image and its communications are APPROVED again;
   otherwise REJECTED, and the asset is flagged in Smint.io.
2. **Production feedback (EXS-3)** — resources production flagged in the window: a replacement
   request puts the Smint.io asset back in review and tags it; a retirement retires the asset in
   Smint.io and takes the resource out of APPROVED. Feedback about resources we never delivered,
   or that cannot be read, is quarantined.
3. **Changed images (EXS-8)** — an asset delivered to `exstream:<domain>` whose Smint.io version is
   newer than the one Exstream holds and whose file changed: the resource's content is replaced,
   the image and every communication that uses it (DAS links) go to REVIEW — so the next
   production run cannot use them before someone approved — and one template review workflow per
   resource and asset version is started.
4. **Localized variants (EXS-6)** — the license index is brought up to date first; then every
   approved regional or language variant the brand team keeps in Smint.io (a derivative of a
   master naming its language, region and business unit) that changed in the window becomes an
   APPROVED image in each domain its master was delivered to, with those in its metadata — the
   communication's localized version for that language shows it instead of the master. Only if
   the master's license allows the derivative in that language and region; once per variant
   version (a newer one goes through step 3's review). Variants partners returned are the
   localization return loop's.

Every partner write happens once (the ledger's idempotency keys); a re-run changes nothing.
`dry_run` reports what would happen. Every run writes a report (the run's **Run report** tab).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

from contentops.assets import REMOVALS
from contentops.operators.exstream import (
    ExstreamChangedImagesOperator,
    ExstreamFeedbackOperator,
    ExstreamLocalizedVariantsOperator,
    ExstreamReplaceForReviewOperator,
    ExstreamReviewOutcomeOperator,
)
from contentops.operators.smintio import SmintioLicenseSyncOperator
from contentops.params import conn_id_param, names_param
from contentops.retries import task_defaults
from contentops.verdict import seal

SPAN = timedelta(hours=1)


@dag(
    dag_id="exstream_template_sync",
    schedule=CronDataIntervalTimetable("20 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["contentops", "exstream", "smintio", "opentext-workflow"],
    doc_md=__doc__,
    default_args=task_defaults(retry_delay=timedelta(minutes=2)),
    params={
        "domains": names_param([], "Exstream domains; empty = every domain"),
        "dry_run": Param(False, type="boolean", description="Decide and report; change nothing"),
        "smintio_conn_id": conn_id_param("smintio_default"),
        "exstream_conn_id": conn_id_param("opentext_exstream_default"),
        "workflow_conn_id": conn_id_param("opentext_workflow_default"),
    },
)
def exstream_template_sync() -> None:
    @task(trigger_rule="all_done")
    def report(_: list[dict[str, int]], _localized: dict[str, int], **context: object) -> dict[str, object]:
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=SPAN)
        return run.write_report("Exstream template sync")

    outcomes = ExstreamReviewOutcomeOperator(task_id="apply_review_outcomes", default_span=SPAN)
    feedback = ExstreamFeedbackOperator(task_id="collect_feedback", default_span=SPAN, outlets=[REMOVALS])
    changed = ExstreamChangedImagesOperator(task_id="find_changed", default_span=SPAN)
    licenses = SmintioLicenseSyncOperator(task_id="sync_licenses", default_span=SPAN)
    localized = ExstreamLocalizedVariantsOperator(task_id="publish_localized_variants", default_span=SPAN)
    licenses >> outcomes >> feedback >> changed >> localized
    replaced = ExstreamReplaceForReviewOperator.partial(task_id="replace_and_review", default_span=SPAN).expand(
        asset_ids=changed.output
    )
    report(replaced.output, localized.output)


seal(exstream_template_sync())
