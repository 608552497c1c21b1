"""The release's last step: kits brought up to date, embargoes ended, full releases recorded, the
run's staged files removed.

Runs after every deliver task, whatever they did (``trigger_rule="all_done"``), so it reads only
state: the ledger's deliveries and Exstream's images under embargo. That is what lets the next
run selecting by date know what is left (:func:`~contentops.pipelines.campaign.plan.due_campaigns`).
"""

from __future__ import annotations

from collections import Counter

from contentops.pipelines.campaign import staging
from contentops.pipelines.campaign.collect import campaign_assets
from contentops.pipelines.campaign.exstream import lift_embargoes
from contentops.pipelines.campaign.kits import finalize as finalize_kits
from contentops.pipelines.campaign.plan import mark_released, plans_of
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem


def finalize(run: PipelineRun, settings: CampaignReleaseSettings) -> dict[str, int]:
    """Finish the run: launch kits current, ended Exstream embargoes lifted, full releases recorded.

    Embargoes are lifted in the domains of this run's plans and of its ``exstream_domains``
    Param, whether or not the run planned anything: the run after a launch date usually has
    nothing new to release but its images to approve.
    """
    counts: Counter[str] = Counter(finalize_kits(run, settings))
    plans = plans_of(run)
    domains = [d for plan in plans.values() if TargetSystem.EXSTREAM in plan.targets for d in plan.exstream_domains]
    domains.extend(str(d) for d in run.params.get("exstream_domains") or [])
    if domains:
        counts.update(lift_embargoes(run, domains))
    for plan in plans.values():
        if mark_released(run, plan, campaign_assets(run, plan.campaign)):
            counts["campaign_released"] += 1
    staging.clean_up(run)  # files a refused or failed target left staged: every delivery has ended
    return dict(counts)
