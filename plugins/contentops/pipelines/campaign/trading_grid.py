"""Trading Grid delivery: each cleared asset attached to its community's launch kit (OTG-5).

The kit itself (the container) is opened by the first deliver task that has something for the
community (:func:`~contentops.pipelines.campaign.kits.open_kits`) and brought up to date by
:func:`~contentops.pipelines.campaign.kits.finalize`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from contentops.pipelines.campaign.delivery import Release, Send, TargetDelivery
from contentops.pipelines.campaign.kits import open_kits
from contentops.pipelines.campaign.plan import ReleasePlan
from contentops.targets import Target, TargetSystem


class TradingGridDelivery(TargetDelivery):
    """Attachments of a community's launch kit (targets ``trading_grid:<community>``)."""

    system = TargetSystem.TRADING_GRID

    def ensure_containers(self, plans: dict[str, ReleasePlan]) -> Counter[str]:
        """Each community's launch kit exists before anything is attached to it (once, through the
        ledger; parallel batches send the same PUT), so a target that is down fails only its own
        deliveries, not the others'."""
        counts: Counter[str] = Counter()
        for plan in plans.values():
            if self.system in plan.targets:
                counts.update(open_kits(self.run, plan, self.settings))
        return counts

    def sender(self, release: Release, target: Target, regions: list[str]) -> Send:
        grid = self.run.hook("trading_grid")
        community = target.key
        kit = self.settings.kit_ref.format(campaign=release.plan.campaign)
        asset, fetched = release.asset, release.fetched

        def send(_plan: Any) -> str:
            grid.put_attachment(
                community, kit, asset.id, fetched.get(), name=fetched.file_name, content_type=fetched.content_type
            )
            return kit

        return send
