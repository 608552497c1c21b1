"""OpenText Trading Grid operators: launch kits, co-marketing posts and their answers, partner cases.

Each wraps one step of :mod:`contentops.pipelines` that is Trading Grid's work:

- :class:`TradingGridLaunchKitOperator` — a campaign's launch kit post per community, brought up
  to what was delivered (:func:`contentops.pipelines.campaign.kits.finalize`);
- :class:`TradingGridSignoffPostOperator` / :class:`TradingGridSignoffAnswersOperator` — the
  brand kit posted to each community for sign-off, and the partners' answers recorded on the
  Smint.io assets (:mod:`contentops.pipelines.co_marketing`);
- :class:`TradingGridCaseIntakeOperator` / :class:`TradingGridCaseReplyOperator` — partner
  cases collected, then routed and answered (:mod:`contentops.pipelines.partner_cases`).

Every post, attachment, link, comment and status change goes through
:meth:`~contentops.pipelines.runtime.PipelineRun.deliver_once`, keyed by the DAG and what was
sent: a retry or re-run changes nothing twice.

Example (partner cases, mapped per batch of case ids)::

    cases = TradingGridCaseIntakeOperator(task_id="collect_cases", default_span=timedelta(minutes=30))
    TradingGridCaseReplyOperator.partial(task_id="handle_cases").expand(case_ids=cases.output)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from contentops.operators.base import as_list
from contentops.operators.steps import PipelineStepOperator, template_fields_of

if TYPE_CHECKING:
    from airflow.sdk import Context

GRID_AND_SMINTIO = ("trading_grid_conn_id", "smintio_conn_id")
CASE_CONNECTIONS = ("trading_grid_conn_id", "smintio_conn_id", "workflow_conn_id")


class TradingGridOperator(PipelineStepOperator):
    """A Trading Grid step that also reads Smint.io (the assets it posts or answers with)."""

    conn_id_fields: ClassVar[tuple[str, ...]] = GRID_AND_SMINTIO
    template_fields: Sequence[str] = template_fields_of(*GRID_AND_SMINTIO)

    def __init__(
        self, *, trading_grid_conn_id: str | None = None, smintio_conn_id: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(trading_grid_conn_id=trading_grid_conn_id, smintio_conn_id=smintio_conn_id, **kwargs)


class TradingGridLaunchKitOperator(TradingGridOperator):
    """Bring each campaign launch kit that a delivery of this run opened up to what was
    delivered: one post per authorized community, its asset list as the ledger knows it (once
    per change). A community that received nothing gets no post at all, never an empty kit.

    Works on the campaign plans of this run (:class:`~contentops.operators.campaign.CampaignPlanOperator`).
    Returns the counts (``kit_create`` / ``kit_update`` / ``kit_skip``, ``kit_not_opened``).

    Example::

        TradingGridLaunchKitOperator(task_id="launch_kits", trigger_rule="all_done",
                                     trading_grid_conn_id="trading_grid_emea")
    """

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import campaign
        from contentops.pipelines.campaign import kits

        counts = kits.finalize(self.pipeline_run(context), campaign.load_release_settings())
        self.log_counts("Launch kits", counts)
        return counts


class TradingGridSignoffPostOperator(TradingGridOperator):
    """Post the co-marketing kit (approved Smint.io assets tagged ``kit_tag``) to each community
    for sign-off, rights-gated for the community's region as of the run's end (refusals
    recorded with their reasons), once per kit version and community.

    ``kit_tag``, ``kit_name`` and ``communities`` left ``None`` are the DAG's Params of those
    names (``brand`` / ``brand-kit`` / every community without them).
    Returns the counts (``kits_sent``, ``kits_unchanged``, ``kit_assets``, ``refused`` …).

    Example::

        TradingGridSignoffPostOperator(task_id="send_kits", kit_tag="brand", kit_name="brand-kit",
                                       communities=["community-dach"])
    """

    param_fields: ClassVar[tuple[str, ...]] = ("kit_tag", "kit_name", "communities")
    template_fields: Sequence[str] = template_fields_of(*GRID_AND_SMINTIO, *param_fields)

    def __init__(
        self,
        *,
        kit_tag: str | None = None,
        kit_name: str | None = None,
        communities: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kit_tag = kit_tag
        self.kit_name = kit_name
        self.communities = communities

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import co_marketing

        run = self.pipeline_run(context)
        counts = co_marketing.send_kits(
            run,
            kit_tag=str(run.params.get("kit_tag") or "brand"),
            kit_name=str(run.params.get("kit_name") or "brand-kit"),
            communities=list(run.params.get("communities") or []) or None,
        )
        self.log_counts("Sign-off kits", counts)
        return counts


class TradingGridSignoffAnswersOperator(TradingGridOperator):
    """Record the partners' answers to each community's current sign-off request on the Smint.io
    assets (once per answer); tag an asset signed off once every partner asked approved it.
    Malformed answers, or answers from partners who were not asked, are quarantined.

    ``kit_name`` left ``None`` is the DAG's Param (``brand-kit`` without one). Returns the counts.

    Example::

        TradingGridSignoffAnswersOperator(task_id="record_signoffs", kit_name="brand-kit")
    """

    param_fields: ClassVar[tuple[str, ...]] = ("kit_name",)
    template_fields: Sequence[str] = template_fields_of(*GRID_AND_SMINTIO, "kit_name")

    def __init__(self, *, kit_name: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kit_name = kit_name

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import co_marketing

        run = self.pipeline_run(context)
        counts = co_marketing.record_signoffs(run, kit_name=str(run.params.get("kit_name") or "brand-kit"))
        self.log_counts("Sign-off answers", counts)
        return counts


class TradingGridCaseOperator(TradingGridOperator):
    """A partner-case step: cases may start a creative request intake workflow, so the Workflow
    Service connection is an argument too."""

    conn_id_fields: ClassVar[tuple[str, ...]] = CASE_CONNECTIONS
    template_fields: Sequence[str] = template_fields_of(*CASE_CONNECTIONS)

    def __init__(self, *, workflow_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(workflow_conn_id=workflow_conn_id, **kwargs)


class TradingGridCaseIntakeOperator(TradingGridCaseOperator):
    """Collect the partner cases to handle: those filed or changed in the run's window and still
    open, every case in progress, and quarantined ones the partner now serves valid (bad cases
    are quarantined with their reason).

    Returns batches of case ids, ``[[id, …], …]`` (for ``expand(case_ids=…)``); counts are logged.

    Example::

        TradingGridCaseIntakeOperator(task_id="collect_cases", default_span=timedelta(minutes=30))
    """

    def execute(self, context: Context) -> list[list[str]]:
        from contentops.pipelines import partner_cases

        collected = partner_cases.collect(self.pipeline_run(context))
        self.log_counts("Partner cases", collected["counts"])
        return collected["batches"]


class TradingGridCaseReplyOperator(TradingGridCaseOperator):
    """Route and answer one batch of partner cases: requests answered with approved, rights-cleared
    Smint.io assets (or the rights clarification, or a creative request intake workflow); reports
    flag the asset for correction and resolve the case once it is corrected.

    Returns the counts (``delivered``, ``case_resolved``, ``workflows_started``, ``flagged``, ``quarantined`` …).

    Example::

        TradingGridCaseReplyOperator(task_id="reply", case_ids=["case-1001", "case-1002"])
    """

    template_fields: Sequence[str] = template_fields_of(*CASE_CONNECTIONS, "case_ids")

    def __init__(self, *, case_ids: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case_ids = case_ids

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import partner_cases

        counts = partner_cases.handle_cases(self.pipeline_run(context), [str(c) for c in as_list(self.case_ids)])
        self.log_counts("Cases handled", counts)
        return counts
