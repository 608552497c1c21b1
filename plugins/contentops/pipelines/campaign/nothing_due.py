"""Is anything left for this run to do? Decided right after the plan, so a run with nothing due
costs a few task starts instead of every stage's.

Under the scheduler each stage is a task process of its own, started one after the other:
a re-run of a campaign already released everywhere spent most of its time starting tasks that
then found nothing to do (collect, the approvals' hand-over, the gate, finalize). The plan task
asks the same questions those stages would, by state, and only when every answer is "nothing"
do they get skipped (the report and the verdict still run):

- each planned campaign is recorded ``released`` for its release date and targets
  (:func:`~contentops.pipelines.campaign.plan.released`);
- every asset of the campaign is settled (rejected, retired) or approved — none waits for an
  approval, and the campaign's client has no usage review to start — and none is an agency's
  final deliverable (decided on its masters' rights by the gate alone);
- the rights gate (:func:`~contentops.pipelines.campaign.gate.decide`, the same pure decision
  on the license index the license sync just brought up to date) clears each asset for targets
  that all hold this asset version in the ledger: nothing to deliver, nothing to update;
- every Trading Grid launch kit a delivery opened already says what the ledger holds;
- no embargoed Exstream image in the run's domains has reached its date.

Anything else — a new asset or version, a license that changed, an open approval, a failed
delivery, a kit behind, an embargo to lift, a dry run — and the run goes the whole way, stage
by stage, as before. Each delivery is still decided once, by the ledger, in the deliver task.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from contentops.models.smintio import ApprovalStatus
from contentops.pipelines.campaign.collect import campaign_assets
from contentops.pipelines.campaign.exstream import embargoes_due
from contentops.pipelines.campaign.gate import decide, held
from contentops.pipelines.campaign.kits import kits_current, target_map
from contentops.pipelines.campaign.plan import plans_of, released, usage_rights
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem

#: asset states a release leaves alone
_SETTLED = {ApprovalStatus.REJECTED, ApprovalStatus.RETIRED}


def nothing_due(run: PipelineRun, settings: CampaignReleaseSettings) -> dict[str, Any] | None:
    """What this run found when nothing is left for it to do (per campaign: its assets, how many
    are held everywhere they are cleared, how many the gate refuses everywhere); ``None`` as soon
    as anything may be due (see the module docstring) — then every stage runs."""
    if run.dry_run:
        return None  # a dry run reports every decision, stage by stage
    plans = plans_of(run)
    found: dict[str, Any] = {}
    for campaign, plan in plans.items():
        if not released(run, campaign, plan.release_date, plan.targets):
            return None
        if settings.approval.usage_review_for(plan.client) is not None:
            return None
        targets = target_map(run, plan, settings)
        counts: Counter[str] = Counter()
        for asset in campaign_assets(run, campaign):
            counts["assets"] += 1
            if asset.approval_status in _SETTLED:
                counts["settled"] += 1
                continue
            if asset.approval_status is not ApprovalStatus.APPROVED or settings.deliverables.is_deliverable(asset):
                return None
            cleared: dict[str, list[str]] = {}
            for clearance in decide(asset, usage_rights(run, asset), plan, targets, settings):
                if clearance.allowed:
                    cleared.setdefault(clearance.system, []).append(str(clearance.target))
            if not all(held(run, asset, listed) for listed in cleared.values()):
                return None
            counts["held" if cleared else "refused"] += 1
        if TargetSystem.TRADING_GRID in plan.targets and not kits_current(run, plan, targets):
            return None
        found[campaign] = dict(counts)
    domains = [d for plan in plans.values() if TargetSystem.EXSTREAM in plan.targets for d in plan.exstream_domains]
    domains.extend(str(d) for d in run.params.get("exstream_domains") or [])
    if domains and next(iter(embargoes_due(run, domains)), None) is not None:
        return None
    return found
