"""Campaign release operators (cross-system): plan, collect, gate, deliver to one target, finalize.

Each wraps one stage of :mod:`contentops.pipelines.campaign`. The stages talk through the run's
audit trail in the ledger (the plan, the gate's clearances), so they are meant to run in one DAG
run, in this order: plan → collect → (approvals: :mod:`contentops.operators.opentext_workflow`)
→ gate → deliver (mapped per target system and batch) → finalize. Every write goes through
:meth:`~contentops.pipelines.runtime.PipelineRun.deliver_once`: a retry, a re-run or a backfill
sends only what is missing.

Example (the whole release; ``campaign_release`` is built this way)::

    plan = CampaignPlanOperator(task_id="plan", campaign="spring-launch-2027", targets=["vip", "exstream"])
    approvals = CampaignCollectOperator(task_id="collect", batch_size=50)
    work = CampaignGateOperator(task_id="gate")
    deliveries = CampaignDeliverOperator.partial(task_id="deliver").expand_kwargs(work.output)
    plan >> approvals >> work >> deliveries >> CampaignFinalizeOperator(task_id="finalize")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import SkipMixin

from contentops.operators.base import as_int, as_list
from contentops.operators.steps import PipelineStepOperator, template_fields_of

if TYPE_CHECKING:
    from airflow.sdk import Context

#: every connection a campaign release may use (each operator uses the ones its stage needs)
RELEASE_CONNECTIONS = (
    "smintio_conn_id",
    "workflow_conn_id",
    "vip_conn_id",
    "trading_grid_conn_id",
    "exstream_conn_id",
)


class CampaignOperator(PipelineStepOperator):
    """A stage of the campaign release: all of its connections are arguments of its own."""

    conn_id_fields: ClassVar[tuple[str, ...]] = RELEASE_CONNECTIONS
    template_fields: Sequence[str] = template_fields_of(*RELEASE_CONNECTIONS)

    def __init__(
        self,
        *,
        smintio_conn_id: str | None = None,
        workflow_conn_id: str | None = None,
        vip_conn_id: str | None = None,
        trading_grid_conn_id: str | None = None,
        exstream_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            smintio_conn_id=smintio_conn_id,
            workflow_conn_id=workflow_conn_id,
            vip_conn_id=vip_conn_id,
            trading_grid_conn_id=trading_grid_conn_id,
            exstream_conn_id=exstream_conn_id,
            **kwargs,
        )


class CampaignPlanOperator(CampaignOperator, SkipMixin):
    """Decide which campaigns this run releases, to which targets, in which regions, for which date.

    Each argument left ``None`` is the DAG's Param of the same name (``campaign``, ``targets``,
    ``regions``, ``release_date``, ``exstream_domains``, ``lead_days``), and without one the
    campaign's own (regions, release date), every target, or the configuration's lead time. A
    scheduled run or a backfill releases every campaign due within ``lead_days`` after its
    window and not yet fully released (ahead of its date, under embargo), and every overdue one
    never released, whatever ``campaign`` says.

    Returns ``{"campaigns": [ids], "count": n}``; the plans themselves go to the run's audit trail.

    ``skip_when_nothing_due`` names downstream tasks to skip when the run has nothing left to
    do (:func:`contentops.pipelines.campaign.nothing_due`: every campaign released, every
    approved asset's cleared targets holding its version, no approval, kit or embargo pending):
    then each campaign gets a ``nothing_due`` entry in the audit trail (the run report shows
    it) and those tasks are skipped instead of each starting to find nothing. A task left out
    of the list (the report) runs as usual.

    Example::

        CampaignPlanOperator(task_id="plan", campaign="{{ params.campaign }}", regions=["dach"],
                             targets=["exstream", "trading_grid"])
    """

    inherits_from_skipmixin = True

    param_fields: ClassVar[tuple[str, ...]] = (
        "campaign",
        "targets",
        "regions",
        "release_date",
        "exstream_domains",
        "lead_days",
    )
    template_fields: Sequence[str] = template_fields_of(*RELEASE_CONNECTIONS, *param_fields)

    def __init__(
        self,
        *,
        campaign: str | None = None,
        targets: list[str] | None = None,
        regions: list[str] | None = None,
        release_date: str | None = None,
        exstream_domains: list[str] | None = None,
        lead_days: int | str | None = None,
        skip_when_nothing_due: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.skip_when_nothing_due = list(skip_when_nothing_due)
        self.lead_days = lead_days
        self.campaign = campaign
        self.targets = targets
        self.regions = regions
        self.release_date = release_date
        self.exstream_domains = exstream_domains

    def execute(self, context: Context) -> dict[str, Any]:
        from contentops.pipelines import campaign

        run = self.pipeline_run(context)
        run_type = getattr(context["dag_run"], "run_type", "manual")
        planned = campaign.plan_release(
            run,
            campaign=run.params.get("campaign") or None,
            targets=list(run.params.get("targets") or []),
            regions=list(run.params.get("regions") or []),
            release_date=run.params.get("release_date") or None,
            exstream_domains=list(run.params.get("exstream_domains") or []),
            scheduled=campaign.by_release_date(run_type),
            lead_days=as_int(run.params.get("lead_days")),
        )
        self.log.info("Planned %d campaign release(s): %s", planned["count"], ", ".join(planned["campaigns"]) or "-")
        if self.skip_when_nothing_due:
            found = campaign.nothing_due(run, campaign.load_release_settings())
            if found is not None:
                self._skip_the_rest(context, run, found, planned)
        return planned

    def _skip_the_rest(self, context: Context, run: Any, found: dict[str, Any], planned: dict[str, Any]) -> None:
        """Record that nothing is due, keep the return value, skip the stages that would find nothing."""
        from contentops.pipelines import campaign

        names = set(self.skip_when_nothing_due)
        tasks = [task for task in self.get_flat_relatives(upstream=False) if task.task_id in names]
        unknown = names - {task.task_id for task in tasks}
        if unknown:  # a DAG naming a task that is not downstream of the plan: a bug, not a skip
            raise ValueError(f"skip_when_nothing_due names no downstream task {sorted(unknown)}")
        for campaign_id, counts in found.items():
            campaign.record_nothing_due(run, campaign_id, counts)
        self.log.info("Nothing due (%s): skipping %s", found or "no campaign planned", ", ".join(sorted(names)))
        context["ti"].xcom_push(key="return_value", value=planned)  # a skip ends execute before the return
        self.skip(context["ti"], tasks)


class CampaignCollectOperator(CampaignOperator):
    """Collect the planned campaigns' assets from Smint.io: approved ones go to the gate, the
    others (and, for an agency client, assets whose license needs its sign-off) to approval.

    Returns the approval batches, ``[[[campaign, asset], …], …]`` (ids only, for task mapping:
    ``CampaignApprovalStartOperator.partial(…).expand(batch=collect.output)``); the counts are logged.

    Example::

        CampaignCollectOperator(task_id="collect", batch_size=25)
    """

    param_fields: ClassVar[tuple[str, ...]] = ("batch_size",)
    template_fields: Sequence[str] = template_fields_of(*RELEASE_CONNECTIONS, "batch_size")

    def __init__(self, *, batch_size: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch_size = batch_size

    def execute(self, context: Context) -> list[list[list[str]]]:
        from contentops.pipelines import campaign

        run = self.pipeline_run(context)
        collected = campaign.collect(
            run, batch_size=int(run.params.get("batch_size") or 50), settings=campaign.load_release_settings()
        )
        self.log_counts("Collected", collected["counts"])
        return collected["approval_batches"]


class CampaignGateOperator(CampaignOperator):
    """Decide every approved asset for every target's channel, region and release date (the
    rights gate, fail closed); every clearance and refusal is recorded with its reasons.

    Returns the delivery work, ``[{"system": "vip", "batch": [[campaign, asset], …]}, …]`` — one
    item per target system and batch, made to be expanded into :class:`CampaignDeliverOperator`
    with ``expand_kwargs``.

    Example::

        work = CampaignGateOperator(task_id="gate", batch_size=50)
    """

    param_fields: ClassVar[tuple[str, ...]] = ("batch_size",)
    template_fields: Sequence[str] = template_fields_of(*RELEASE_CONNECTIONS, "batch_size")

    def __init__(self, *, batch_size: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch_size = batch_size

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from contentops.pipelines import campaign

        run = self.pipeline_run(context)
        work = campaign.gate(run, campaign.load_release_settings(), batch_size=int(run.params.get("batch_size") or 50))
        per_system: dict[str, int] = {}
        for item in work:
            per_system[item["system"]] = per_system.get(item["system"], 0) + len(item["batch"])
        self.log_counts("Cleared assets per target system", per_system)
        return work


class CampaignDeliverOperator(CampaignOperator):
    """Deliver one batch of cleared assets to one target system (``vip``, ``trading_grid``,
    ``exstream``), dispatched through :data:`contentops.pipelines.campaign.DELIVERIES`; each
    effect exactly once per asset version and target.

    Returns the counts (``<system>_create`` / ``_update`` / ``_skip`` …). With the alias
    ``contentops-campaign-release`` among its ``outlets`` it also emits the target's release
    Asset for a batch that created or updated something (never in a dry run).

    Example (mapped over the gate's work)::

        CampaignDeliverOperator.partial(task_id="deliver", outlets=[CAMPAIGN_RELEASE]).expand_kwargs(gate.output)
    """

    template_fields: Sequence[str] = template_fields_of(*RELEASE_CONNECTIONS, "system", "batch")

    def __init__(self, *, system: str, batch: list[list[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.system = system
        self.batch = batch

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.assets import CAMPAIGN_RELEASE, announce_release
        from contentops.pipelines import campaign

        run = self.pipeline_run(context)
        system = str(self.system)
        batch = [list(pair) for pair in as_list(self.batch)]
        counts = campaign.deliver(run, system, batch, campaign.load_release_settings())
        self.log_counts(f"Delivered to {system}", counts)
        if CAMPAIGN_RELEASE in (self.outlets or []):
            announce_release(context["outlet_events"], system, counts, dry_run=run.dry_run)
        return counts


class CampaignFinalizeOperator(CampaignOperator):
    """The release's last step, whatever the deliveries did (``trigger_rule="all_done"``):
    :func:`contentops.pipelines.campaign.finalize` — each Trading Grid launch kit a delivery
    opened brought up to what was delivered (as
    :class:`~contentops.operators.trading_grid.TradingGridLaunchKitOperator` does alone), and
    whatever else the pipeline's finish holds for the targets of the run.

    Returns the counts (``kit_create`` / ``kit_update`` / ``kit_skip``, ``kit_not_opened`` …).

    Example::

        CampaignFinalizeOperator(task_id="finalize", trigger_rule="all_done")
    """

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import campaign

        counts = campaign.finalize(self.pipeline_run(context), campaign.load_release_settings())
        self.log_counts("Release finished", counts)
        return counts
