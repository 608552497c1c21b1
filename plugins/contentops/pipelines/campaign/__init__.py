"""The campaign release's steps: plan, collect, approve, gate on rights, deliver once per target.

A campaign (from the UI form; or, on a scheduled run, every campaign due within ``lead_days``
after the run's window and not fully released yet, ahead of its date under embargo, plus any
overdue one never released, caught up) is released in this order, each step a plain function
over hooks and the ledger:

1. :func:`plan_release` — which campaigns (selected by state: :func:`due_campaigns`), for which
   targets, regions and release date, under embargo or late. The plan is written to the run's
   audit trail; later steps read it from there (XComs stay small).
2. :func:`collect` — the campaign's assets and licensed stock from Smint.io (by campaign and
   by campaign tag). Retired and rejected assets are recorded and left out; assets not yet
   approved are batched for an approval workflow (OWS-1).
3. :func:`start_approvals` — one approval workflow per asset and asset version, started once
   per business key (:func:`~contentops.pipelines.workflows.start_workflow_once`), in the
   approval model of the campaign's agency client when configuration names one (OWS-7); the
   wait is the deferrable sensor's, then :func:`apply_approvals` writes each outcome back to
   Smint.io once. An agency client may also have a usage review model (assets whose license
   carries restrictions the client signs off; keyed by asset and restrictions, the outcome kept in
   the ledger for the gate) and an escalation model, started once per business key by
   :func:`escalate` when the client's approval is still open after its SLA by the run's window.
4. :func:`gate` — every approved asset passes the rights gate (:mod:`contentops.rights`, on the
   license from the ledger's license index, like the sweep) for each target's channel, each
   region and the release date; regulated Exstream domains also need the compliance criteria
   (EXS-5). Every refusal is recorded with its reasons; what passed is batched per target.
   Agencies' final deliverables (VIP-7: tagged assets derived from approved masters) are gated
   by :func:`gate_deliverable` on every master's license as a derivative and become media of
   the same VIP catalog items, available only to the publishers, media partners and franchise
   networks of the regions, with the agency on the media. When nothing is left to do — every
   campaign released, every approved asset's cleared targets holding its version, no approval,
   kit or embargo pending — :func:`nothing_due` says so right after the plan, and the stages
   from collect to finalize are skipped (the report still runs).
5. :func:`deliver` (mapped per target and batch; each makes sure its target's container
   exists first, :func:`ensure_containers`) and :func:`finalize` (launch kits brought up to
   date, Exstream embargoes whose date has come lifted, :func:`lift_embargoes`, and a release
   delivered everywhere recorded as ``released``, :func:`mark_released`) —
   each asset as media of the VIP catalog items it shows (:class:`VipSettings`), available to
   the retailer-data parties of the regions its rights allow, with usage controls, campaign
   tags, approval status, license summary and the file streamed from Smint.io — the campaign's
   media together are its hand-off to VIP (VIP-5); one launch kit per
   authorized Trading Grid community (the files attached), Exstream image resources with rights
   metadata moved to APPROVED. A newer version of an image Exstream already holds goes through
   the template sync's ``replace_for_review`` instead (EXS-8): the image and the communications
   using it wait in REVIEW for the template review workflow, whose outcome the template sync
   applies. Every write goes through :meth:`PipelineRun.deliver_once`, keyed by (pipeline,
   asset, asset version, target): a retry or re-run sends only what is missing, and a new asset
   version becomes an update of the delivered item.

Each step is a module of this package (:mod:`.plan`, :mod:`.collect`, :mod:`.approval`,
:mod:`.gate`, :mod:`.deliver` with one delivery class per target system — :mod:`.vip`,
:mod:`.trading_grid`, :mod:`.exstream` — and :mod:`.kits`); every name is importable from here.

Ledger targets (:class:`contentops.targets.Target`) are ``vip:<catalog item>``,
``trading_grid:<community>`` and ``exstream:<domain>`` (remote ids: the VIP media reference,
the launch kit's post reference, the Exstream resource id), which is what the rights expiry
sweep looks for when rights change later. Containers (the launch
kit post) are recorded under the pseudo asset ``campaign:<id>`` and a target kind of their own
(``trading_grid_kit:``), so they are never mistaken for a delivered asset.
"""

from contentops.pipelines.campaign.approval import (
    APPROVAL_OUTCOMES,
    apply_approvals,
    escalate,
    start_approvals,
)
from contentops.pipelines.campaign.collect import campaign_assets, collect, usage_review_key
from contentops.pipelines.campaign.deliver import DELIVERIES, deliver, delivery_for, ensure_containers
from contentops.pipelines.campaign.delivery import Fetched, Release, TargetDelivery
from contentops.pipelines.campaign.exstream import (
    ExstreamDelivery,
    embargoes_due,
    exstream_metadata,
    lift_embargoes,
)
from contentops.pipelines.campaign.finish import finalize
from contentops.pipelines.campaign.gate import (
    Clearance,
    decide,
    decide_deliverable,
    gate,
    gate_deliverable,
    held,
    no_item,
)
from contentops.pipelines.campaign.kits import TargetMap, kits_current, target_map
from contentops.pipelines.campaign.nothing_due import nothing_due
from contentops.pipelines.campaign.plan import (
    APPROVAL_NEEDED,
    CLEARED,
    NOTHING_DUE,
    PLANNED,
    REFUSED,
    REGIONS,
    RELEASED,
    TARGETS,
    USAGE_REVIEW_NEEDED,
    ReleasePlan,
    batches_of,
    by_release_date,
    due_campaigns,
    mark_released,
    plan_release,
    plans_of,
    record_nothing_due,
    released,
    report_notes,
    usage_rights,
)
from contentops.pipelines.campaign.settings import (
    ApprovalRouting,
    CampaignReleaseSettings,
    ClientWorkflows,
    DeliverableSettings,
    VipSettings,
    load_release_settings,
)
from contentops.pipelines.campaign.trading_grid import TradingGridDelivery
from contentops.pipelines.campaign.vip import VipDelivery, license_summary

__all__ = [
    "APPROVAL_NEEDED",
    "APPROVAL_OUTCOMES",
    "CLEARED",
    "DELIVERIES",
    "NOTHING_DUE",
    "PLANNED",
    "REFUSED",
    "REGIONS",
    "RELEASED",
    "TARGETS",
    "USAGE_REVIEW_NEEDED",
    "ApprovalRouting",
    "CampaignReleaseSettings",
    "Clearance",
    "ClientWorkflows",
    "DeliverableSettings",
    "ExstreamDelivery",
    "Fetched",
    "Release",
    "ReleasePlan",
    "TargetDelivery",
    "TargetMap",
    "TradingGridDelivery",
    "VipDelivery",
    "VipSettings",
    "apply_approvals",
    "batches_of",
    "by_release_date",
    "campaign_assets",
    "collect",
    "decide",
    "decide_deliverable",
    "deliver",
    "delivery_for",
    "due_campaigns",
    "embargoes_due",
    "ensure_containers",
    "escalate",
    "exstream_metadata",
    "finalize",
    "gate",
    "gate_deliverable",
    "held",
    "kits_current",
    "license_summary",
    "lift_embargoes",
    "load_release_settings",
    "mark_released",
    "no_item",
    "nothing_due",
    "plan_release",
    "plans_of",
    "record_nothing_due",
    "released",
    "report_notes",
    "start_approvals",
    "target_map",
    "usage_review_key",
    "usage_rights",
]
