"""OpenText Workflow Service operators: start workflows once per business key.

The start steps of the pipelines differ in what they start a workflow *for* (an asset version
to approve, an incoming DAM asset to onboard, a localized variant to review), each with its own
business key, variables and records, so there is one operator per start step rather than one
generic one. All of them start through
:func:`~contentops.pipelines.workflows.start_workflow_once` (the ledger claims the business key
first: a retry, a re-run or a backfill never starts a second instance) and return the instance
ids started or still open.

The project's DAGs do not wait for the workflows they start: ``workflow_outcomes`` applies each
outcome once its instance ended (:mod:`contentops.pipelines.workflow_outcomes`). A DAG of another
team that does want to wait uses the deferrable
:class:`~contentops.sensors.workflow.WorkflowInstanceSensor` on the ids these operators return::

    started = CampaignApprovalStartOperator.partial(task_id="start_approvals").expand(batch=collect.output)
    ids = flatten(started.output)  # a @task: [[id, …], …] -> [id, …]
    WorkflowInstanceSensor.partial(task_id="wait_for_approval").expand(instance_id=ids)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from contentops.operators.base import as_list
from contentops.operators.steps import PipelineStepOperator, template_fields_of

if TYPE_CHECKING:
    from airflow.sdk import Context

WORKFLOW_AND_SMINTIO = ("workflow_conn_id", "smintio_conn_id")
RETURN_CONNECTIONS = ("workflow_conn_id", "smintio_conn_id", "vip_conn_id", "trading_grid_conn_id")


class WorkflowOperator(PipelineStepOperator):
    """A Workflow Service step that reads or writes Smint.io (the assets the workflows are about)."""

    conn_id_fields: ClassVar[tuple[str, ...]] = WORKFLOW_AND_SMINTIO
    template_fields: Sequence[str] = template_fields_of(*WORKFLOW_AND_SMINTIO)

    def __init__(
        self, *, workflow_conn_id: str | None = None, smintio_conn_id: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(workflow_conn_id=workflow_conn_id, smintio_conn_id=smintio_conn_id, **kwargs)


# ------------------------------------------------------------------------- campaign approvals


class CampaignApprovalStartOperator(WorkflowOperator):
    """Start the approval workflow of each asset of a batch, once per asset version, in the
    approval model of the campaign's agency client (or the default one); for such a client also
    its usage review of license restrictions, and its escalation when an approval is still open
    after the client's SLA. Works on the campaign plans and collection of this run.

    Returns the instance ids to wait for (``[]`` in a dry run).

    Example::

        CampaignApprovalStartOperator.partial(task_id="start_approvals").expand(batch=collect.output)
    """

    template_fields: Sequence[str] = template_fields_of(*WORKFLOW_AND_SMINTIO, "batch")

    def __init__(self, *, batch: list[list[str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch

    def execute(self, context: Context) -> list[str]:
        from contentops.pipelines import campaign

        run = self.pipeline_run(context)
        batch = [list(pair) for pair in as_list(self.batch)]
        ids = campaign.start_approvals(run, batch, campaign.load_release_settings())
        self.log.info("Waiting for %d approval workflow(s)", len(ids))
        return ids


# ------------------------------------------------------------------------- workflow intake


class CreativeRequestMatchOperator(WorkflowOperator):
    """Answer the creative requests captured in the run's window: approved Smint.io assets of the
    request's campaign type and format, rights-cleared for its region on the run's end and on the
    deadline, written onto the request; its task completed ``matched`` / ``no_match``.

    ``max_matches`` left ``None`` is the DAG's Param of that name (20 without one).
    Returns the counts (``requests``, ``matched``, ``no_match`` …).

    Example::

        CreativeRequestMatchOperator(task_id="match_requests", max_matches=5)
    """

    param_fields: ClassVar[tuple[str, ...]] = ("max_matches",)
    template_fields: Sequence[str] = template_fields_of(*WORKFLOW_AND_SMINTIO, "max_matches")

    def __init__(self, *, max_matches: int | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_matches = max_matches

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import workflow_intake

        run = self.pipeline_run(context)
        counts = workflow_intake.match_creative_requests(run, max_matches=int(run.params.get("max_matches") or 20))
        self.log_counts("Creative requests", counts)
        return counts


class DamOnboardingStartOperator(WorkflowOperator):
    """Start one onboarding workflow per asset (and version) of the DAM ingest batches started in
    the run's window; invalid incoming assets are quarantined, each batch's hand-over task completed once.

    Returns the instance ids to wait for (``[]`` in a dry run).

    Example::

        DamOnboardingStartOperator(task_id="start_onboarding", default_span=timedelta(hours=1))
    """

    def execute(self, context: Context) -> list[str]:
        from contentops.pipelines import workflow_intake

        ids = workflow_intake.start_onboarding(self.pipeline_run(context))
        self.log.info("Waiting for %d onboarding workflow(s)", len(ids))
        return ids


# ------------------------------------------------------------------------- localization reviews


class LocalizationReviewStartOperator(WorkflowOperator):
    """Take in one batch of accepted localized returns: each file downloaded from the partner's
    own origin (size-limited, its type sniffed), uploaded to Smint.io as a variant of its master,
    and one regional localization review started for it, once per variant.

    ``max_file_mb`` left ``None`` is the DAG's Param of that name. Returns the counts.

    Example::

        LocalizationReviewStartOperator.partial(task_id="take_in", max_file_mb=50).expand(refs=intake.output)
    """

    conn_id_fields: ClassVar[tuple[str, ...]] = RETURN_CONNECTIONS
    param_fields: ClassVar[tuple[str, ...]] = ("max_file_mb",)
    template_fields: Sequence[str] = template_fields_of(*RETURN_CONNECTIONS, "refs", "max_file_mb")

    def __init__(
        self,
        *,
        refs: list[str],
        max_file_mb: float | str | None = None,
        vip_conn_id: str | None = None,
        trading_grid_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(vip_conn_id=vip_conn_id, trading_grid_conn_id=trading_grid_conn_id, **kwargs)
        self.refs = refs
        self.max_file_mb = max_file_mb

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import localization

        run = self.pipeline_run(context)
        refs = [str(ref) for ref in as_list(self.refs)]
        counts = localization.take_in(run, refs, policy=localization.policy_from(run.params))
        self.log_counts("Returns taken in", counts)
        return counts


class LocalizationReviewSyncOperator(WorkflowOperator):
    """Keep every open regional localization review in step with its Smint.io variant, both ways
    (comments and status, each once), and return the ids of the open reviews to wait for —
    ``[]`` when ``wait_for_reviews`` is false (they are applied by a later run).

    ``wait_for_reviews`` left ``None`` is the DAG's Param of that name (true without one).

    Example::

        LocalizationReviewSyncOperator(task_id="sync_reviews", wait_for_reviews=True)
    """

    param_fields: ClassVar[tuple[str, ...]] = ("wait_for_reviews",)
    template_fields: Sequence[str] = template_fields_of(*WORKFLOW_AND_SMINTIO, "wait_for_reviews")

    def __init__(self, *, wait_for_reviews: bool | str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.wait_for_reviews = wait_for_reviews

    def execute(self, context: Context) -> list[str]:
        from contentops.operators.base import as_bool
        from contentops.pipelines import localization

        run = self.pipeline_run(context)
        ids = localization.sync_reviews(run)
        wait = run.params.get("wait_for_reviews")
        self.log.info("%d review(s) open", len(ids))
        return ids if wait is None or as_bool(wait) else []
