"""Usage reconciliation operators (cross-system): Exstream usage back to Smint.io, checked against
the license, with a compliance review in OpenText Workflow Service where it needs one.

The thresholds are the DAG's Params of the same name unless the operator is given its own
(``param_fields``): ``volume_threshold``, ``download_threshold``, ``check_regions``,
``check_expiry``, ``review_period``; ``domains`` likewise for the collection.

Example::

    from contentops.operators.usage import UsageCollectOperator, UsageReconcileOperator

    usage = UsageCollectOperator(task_id="collect_usage", domains=["retail-banking"])
    UsageReconcileOperator.partial(task_id="reconcile", volume_threshold=5000).expand(batch=usage.output)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from contentops.operators.base import ContentOpsOperator, as_bool, as_int, as_list, batches

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import Context


class UsageCollectOperator(ContentOpsOperator):
    """Read the window's Exstream usage records and attribute them to the Smint.io assets delivered.

    Why: whether production use stays within a license can only be told from the volumes per day
    and stream. This step (:func:`contentops.pipelines.usage_reconciliation.collect_usage`) reads
    the usage of each domain from midnight of the window's start, keeps the volumes per asset,
    day and stream in the run's audit trail (where :class:`UsageReconcileOperator` reads them),
    quarantines unreadable records and reports usage of resources contentops never delivered.
    Reads only.

    :param domains: the Exstream domains (empty: every domain; default: the DAG's Param)
    :returns: batches of asset ids (``list[list[str]]``), for ``.expand(batch=...)``

    Example::

        UsageCollectOperator(task_id="collect_usage", domains="{{ params.domains }}")
    """

    conn_id_fields = ("exstream_conn_id",)
    param_fields: ClassVar[dict[str, Callable[[Any], Any]]] = {"domains": as_list}

    def execute(self, context: Context) -> list[list[str]]:
        from contentops.pipelines import usage_reconciliation

        result = usage_reconciliation.collect_usage(self.pipeline_run(context))
        self.log.info("Collected: %s", result["counts"])
        return batches(result["batches"])


class UsageReconcileOperator(ContentOpsOperator):
    """Per asset: write the usage volumes to Smint.io, compare them with the license, and start one
    compliance review per asset and period where the use is suspicious.

    Why: usage over a threshold, outside the licensed regions, after the license ended, or a
    license downloaded too often needs a person's review
    (:func:`contentops.pipelines.usage_reconciliation.reconcile`). The volumes go onto the asset
    through ``run.deliver_once`` (a re-run of the day changes nothing; a corrected figure is an
    update), and the review is started once per business key.

    :param batch: asset ids (one batch of :class:`UsageCollectOperator`)
    :returns: counts (``usage_written``, ``reviews_started``, findings…)

    Example::

        UsageReconcileOperator(task_id="reconcile", batch=["asset-1"], review_period="week")
    """

    conn_id_fields = ("smintio_conn_id", "workflow_conn_id")
    param_fields: ClassVar[dict[str, Callable[[Any], Any]]] = {
        "volume_threshold": as_int,
        "download_threshold": as_int,
        "check_regions": as_bool,
        "check_expiry": as_bool,
        "review_period": str,
    }
    template_fields: Sequence[str] = ("batch", "dry_run", "ledger_conn_id")

    def __init__(self, *, batch: Sequence[str] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import usage_reconciliation

        asset_ids = [str(asset_id) for asset_id in as_list(self.batch)]
        return usage_reconciliation.reconcile(self.pipeline_run(context), asset_ids)
