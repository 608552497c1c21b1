"""Cross-system rights operators: the rights gate, and the rights expiry sweep's steps.

Example — clear a list of assets for one VIP catalog item's online channel in two regions, then
deliver only what was cleared::

    from contentops.operators.rights import RightsGateOperator

    gate = RightsGateOperator(
        task_id="gate",
        asset_ids=["asset-spring-01", "asset-spring-02"],
        target="vip:item-1001",
        channel="online",
        regions=["de", "fr"],
    )  # returns {"cleared": [...], "counts": {...}}: the next task reads "cleared"
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from contentops.operators.base import ContentOpsOperator, as_bool, as_int, as_list, batches

if TYPE_CHECKING:
    from airflow.sdk import Context


class RightsGateOperator(ContentOpsOperator):
    """Decide, per asset, whether it may go to one target for a channel, regions and a date.

    Why: "rights first" is the project's first promise — nothing leaves Smint.io unless
    :mod:`contentops.rights` allows the use. This operator gives any DAG that gate as one step
    (:func:`contentops.pipelines.rights_gate.gate_assets`): each asset's license comes from the
    ledger's license index (no known license: refused, never "unrestricted"), each region is
    decided as of ``on_date`` (default: the run's window end, so a backfill reproduces its day),
    and every clearance and refusal is recorded with its reasons in the run's audit trail, where
    the run report shows it. It writes nothing to a partner.

    :param asset_ids: the Smint.io asset ids to decide (a list, or its templated text)
    :param target: where they would go, as a target text (``vip:<item>``, ``exstream:<domain>``…);
        the refusals and clearances are recorded under it
    :param channel: the license distribution channel of the use (``online``, ``print``…)
    :param regions: the regions of the use (none: the use is checked without a region)
    :param on_date: the date of use (ISO; default: the run's window end)
    :param language: the language of the use, if the license restricts languages
    :param planned_downloads: downloads the use adds to the license's counters (default 1)
    :param require_approved: refuse assets whose Smint.io approval status is not APPROVED (default)
    :returns: ``{"cleared": [asset ids], "counts": {"cleared", "refused", "no_license", "not_approved",
        "missing"}}``

    Example::

        RightsGateOperator(
            task_id="gate_exstream", asset_ids="{{ params.asset_ids }}",
            target="exstream:retail-banking", channel="print", regions=["de"],
        )
    """

    conn_id_fields = ("smintio_conn_id",)
    template_fields: Sequence[str] = (
        "asset_ids",
        "target",
        "channel",
        "regions",
        "on_date",
        "language",
        "planned_downloads",
        "require_approved",
        "ledger_conn_id",
    )

    def __init__(
        self,
        *,
        asset_ids: Sequence[str] | str,
        target: str,
        channel: str | None = None,
        regions: Sequence[str] | str | None = None,
        on_date: str | datetime | None = None,
        language: str | None = None,
        planned_downloads: int | str | None = 1,
        require_approved: bool | str = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset_ids = asset_ids
        self.target = target
        self.channel = channel
        self.regions = regions
        self.on_date = on_date
        self.language = language
        self.planned_downloads = planned_downloads
        self.require_approved = require_approved

    def execute(self, context: Context) -> dict[str, Any]:
        from contentops.pipelines.rights_gate import gate_assets
        from contentops.pipelines.window import as_utc
        from contentops.targets import Target

        run = self.pipeline_run(context)
        return gate_assets(
            run,
            [str(a) for a in as_list(self.asset_ids)],
            Target.parse(str(self.target)),
            channel=self.channel or None,
            regions=[str(r) for r in as_list(self.regions)],
            on_date=as_utc(self.on_date),
            language=self.language or None,
            planned_downloads=as_int(self.planned_downloads),
            require_approved=as_bool(self.require_approved),
        )


class RightsSweepAssessOperator(ContentOpsOperator):
    """The rights expiry sweep's first step: which assets' licenses need action as of the window's end.

    Why: a license that expired, expires within ``horizon_days`` or reached a usage limit needs a
    person's decision per asset. This step (:func:`contentops.pipelines.rights_sweep.assess`)
    records each finding with its reasons in the run's audit trail and returns the affected asset
    ids in batches, ready for a mapped workflow start. It writes nothing to a partner.

    :param horizon_days: licenses expiring within this many days of the window's end are affected
    :param providers: only these stock providers (``getty``, ``istock``…); empty: all
    :returns: batches of asset ids (``list[list[str]]``), for ``.expand(batch=...)``

    Example::

        assess = RightsSweepAssessOperator(task_id="assess", horizon_days=14, providers=["getty"])
        RightsSweepStartOperator.partial(task_id="start_workflows").expand(batch=assess.output)
    """

    conn_id_fields = ("smintio_conn_id",)
    template_fields: Sequence[str] = ("horizon_days", "providers", "dry_run", "ledger_conn_id")

    def __init__(
        self, *, horizon_days: int | str = 30, providers: Sequence[str] | str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.horizon_days = horizon_days
        self.providers = providers

    def execute(self, context: Context) -> list[list[str]]:
        from contentops.pipelines import rights_sweep

        run = self.pipeline_run(context)
        providers = [str(p) for p in as_list(self.providers)]
        result = rights_sweep.assess(run, horizon_days=as_int(self.horizon_days) or 30, providers=providers or None)
        self.log.info("Assessed: %s", result["counts"])
        return batches(result["batches"])


class RightsSweepStartOperator(ContentOpsOperator):
    """Start, once per asset and license version, the workflow each assessed asset needs.

    Why: a rights renewal (or, without license data, a compliance exception) is a person's
    decision in OpenText Workflow Service. Each is started under a business key kept in the
    ledger (:func:`contentops.pipelines.rights_sweep.start_workflows`), so a retry, re-run or
    backfill finds the running instance instead of starting a second one. A dry run starts nothing.

    :param batch: asset ids assessed by :class:`RightsSweepAssessOperator` in the same run
    :param workflow_conn_id: the Workflow Service connection
    :returns: the instance ids to wait for (``list[str]``; feed them to ``WorkflowInstanceSensor``)

    Example::

        RightsSweepStartOperator.partial(task_id="start_workflows").expand(batch=assess.output)
    """

    conn_id_fields = ("workflow_conn_id",)
    template_fields: Sequence[str] = ("batch", "dry_run", "ledger_conn_id")

    def __init__(self, *, batch: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch

    def execute(self, context: Context) -> list[str]:
        from contentops.pipelines import rights_sweep

        return rights_sweep.start_workflows(self.pipeline_run(context), [str(a) for a in as_list(self.batch)])


class DeliveryComplianceOperator(ContentOpsOperator):
    """Take back every delivered copy that may no longer stay, and give back what a renewal allows.

    Why: a removal can start anywhere (an asset retired or un-approved in Smint.io, a license
    narrowed or expired); this one step re-decides every copy the ledger holds as delivered —
    VIP media, Trading Grid launch kits and cases, Exstream images, Consonance title attachments —
    against the asset's current state and license for that copy's channel and regions on the
    run's day (:func:`contentops.pipelines.delivery_compliance.enforce`), withdraws or
    re-restricts each once, and restores exactly the copies it took back once the license allows
    them again. One copy failing does not stop the others; the task fails at the end if any did.

    :returns: counts (``copies_reviewed``, ``decided_withdrawn``, ``vip_withdrawn``, ``restored``, …)

    Example::

        DeliveryComplianceOperator(task_id="enforce", default_span=timedelta(hours=1))
    """

    conn_id_fields = (
        "smintio_conn_id",
        "vip_conn_id",
        "trading_grid_conn_id",
        "exstream_conn_id",
        "consonance_conn_id",
    )

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines.delivery_compliance import enforce

        return enforce(self.pipeline_run(context))
