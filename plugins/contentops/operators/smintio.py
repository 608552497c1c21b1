"""Smint.io operators: the license index sync, and the asset updates a compliance review decides.

Example::

    from contentops.assets import SMINTIO_LICENSES
    from contentops.operators.smintio import SmintioLicenseSyncOperator

    sync = SmintioLicenseSyncOperator(
        task_id="sync_licenses",
        page_size="{{ params.page_size }}",
        smintio_conn_id="smintio_eu",
        outlets=[SMINTIO_LICENSES],
    )
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from contentops.operators.base import ContentOpsOperator, as_int
from contentops.pipelines.page_worker import PAGE_WORKER_AFTER

if TYPE_CHECKING:
    from airflow.sdk import Context


class SmintioLicenseSyncOperator(ContentOpsOperator):
    """Bring the ledger's license index up to date with Smint.io's license feed.

    Why an operator: every pipeline that decides rights reads the index, so every DAG starts with
    this step (:func:`contentops.pipelines.licenses.sync_license_index`). The feed is read from the
    ledger's stored cursor onwards, page by page; malformed records are quarantined with their
    feed position and taken in by a later sync once Smint.io serves them valid. Nothing is sent to
    Smint.io, so a retry only rewrites the same rows.

    :param page_size: transactions per page (1-100; templated, e.g. ``"{{ params.page_size }}"``)
    :param max_pages: stop after this many pages (``None``: read to the end of the feed)
    :param assess_horizon_days: also make the rights sweep's assessment of every license written,
        as of the run's end with this horizon (templated; the rights expiry sweep passes its
        ``horizon_days``): it runs while the feed is paged, and the sweep's ``assess`` step reads it
    :param page_worker_after: pages this task validates itself before a page worker process takes
        the validation and assessment of the rest over (:mod:`contentops.pipelines.page_worker`;
        ~60 MB, no Airflow, no secrets; this task still writes every page): a long feed then runs
        at the partner's pace on two cores. ``None``: every page in the task's process (templated)
    :param smintio_conn_id: the Smint.io connection (default: the DAG's Param, then ``smintio_default``)
    :returns: ``{"pages", "indexed", "skipped", "quarantined", "healed", "cursor_start", "cursor_end"}``
        (counts, and the feed cursor before and after)

    Example::

        SmintioLicenseSyncOperator(task_id="sync_licenses", page_size=50, max_pages=10)
    """

    conn_id_fields = ("smintio_conn_id",)
    template_fields: Sequence[str] = (
        "page_size",
        "max_pages",
        "assess_horizon_days",
        "page_worker_after",
        "dry_run",
        "ledger_conn_id",
    )

    def __init__(
        self,
        *,
        page_size: int | str = 100,
        max_pages: int | str | None = None,
        assess_horizon_days: int | str | None = None,
        page_worker_after: int | str | None = PAGE_WORKER_AFTER,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size
        self.max_pages = max_pages
        self.assess_horizon_days = assess_horizon_days
        self.page_worker_after = page_worker_after

    def execute(self, context: Context) -> dict[str, Any]:
        from contentops.pipelines.licenses import sync_license_index

        run = self.pipeline_run(context)
        page_size = as_int(self.page_size) or 100
        return sync_license_index(
            run,
            page_size=page_size,
            max_pages=as_int(self.max_pages),
            assess_horizon_days=as_int(self.assess_horizon_days),
            page_worker_after=as_int(self.page_worker_after),
        )


class SmintioComplianceOutcomeOperator(ContentOpsOperator):
    """Apply the outcome of every ended compliance review to its Smint.io asset, once.

    Why: a usage compliance review (started by the usage reconciliation) ends when a person
    decides, hours or days later. This step reads the reviews the ledger still has open, asks
    OpenText Workflow Service which have ended, and updates each asset in Smint.io — ``cleared``
    tags it, ``restrict`` sends it back to review, ``removed`` retires it, each with the
    reviewer's comment (:func:`contentops.pipelines.usage_reconciliation.apply_review_outcomes`).
    An applied review is marked in the ledger, so no later run applies it again; a dry run
    applies nothing.

    :param smintio_conn_id: the Smint.io connection the assets are updated through
    :param workflow_conn_id: the Workflow Service connection the reviews are read from
    :returns: counts per outcome applied, and ``reviews_pending`` for reviews still open

    Example::

        SmintioComplianceOutcomeOperator(task_id="apply_review_outcomes", workflow_conn_id="ows_eu")
    """

    conn_id_fields = ("smintio_conn_id", "workflow_conn_id")

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines.usage_reconciliation import apply_review_outcomes

        return apply_review_outcomes(self.pipeline_run(context))
