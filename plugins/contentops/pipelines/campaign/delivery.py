"""What every target's delivery shares: the asset's staged file, the release of one asset, the base class.

A deliver task sends one batch of cleared assets to one target system. Each system is one
:class:`TargetDelivery` subclass (VIP media, Trading Grid kit attachments, Exstream images):
it makes sure its containers exist, builds the write for one target, and may turn a partner's
answer into a recorded refusal. Every write goes through :meth:`PipelineRun.deliver_once`,
keyed by (pipeline, asset, asset version, target): a retry or re-run sends only what is missing,
and a new asset version becomes an update of the delivered item.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from contentops.ledger import Action, DeliveryPlan
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset
from contentops.pipelines.campaign.plan import ReleasePlan
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.campaign.staging import StagedFile
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem

#: the write of one asset to one target: gets the ledger's plan, returns the remote id
Send = Callable[[DeliveryPlan], str]


#: the asset's file as every target's delivery reads it: staged once per run and asset version
#: (:mod:`~contentops.pipelines.campaign.staging`), whichever deliver task needs it first
Fetched = StagedFile


@dataclass(frozen=True)
class Release:
    """One approved asset of a campaign on its way out: what every target needs to send it."""

    plan: ReleasePlan
    asset: Asset
    usage: UsageRights | None
    fetched: StagedFile


class TargetDelivery(ABC):
    """One target system's deliveries within a deliver task (one instance per task)."""

    system: ClassVar[TargetSystem]
    #: partner requests one delivery to one target costs: the gate sizes this system's batches by it
    #: so the tasks the scheduler runs side by side load each partner alike
    requests_per_target: ClassVar[int] = 1

    def __init__(self, run: PipelineRun, settings: CampaignReleaseSettings) -> None:
        self.run = run
        self.settings = settings

    def ensure_containers(self, plans: dict[str, ReleasePlan]) -> Counter[str]:
        """Make sure the containers this system's items go into exist (most systems have none to make)."""
        return Counter()

    @abstractmethod
    def sender(self, release: Release, target: Target, regions: list[str]) -> Send:
        """The write of ``release`` to ``target`` for the regions the gate cleared."""

    def deliver(self, release: Release, target: Target, regions: list[str]) -> Counter[str]:
        """Deliver the asset to one target once; the counts of what happened."""
        return self.send_once(release, target, self.sender(release, target, regions))

    def send_once(self, release: Release, target: Target, send: Send) -> Counter[str]:
        """Send through the ledger (exactly once per asset version and target) and record the effect."""
        asset = release.asset
        license_ref = asset.license_purchase_transaction_uuid
        done = self.run.deliver_once(asset.id, asset.version, target, send, license_ref=license_ref)
        if done.action is not Action.SKIP and not self.run.dry_run:
            self.run.record(
                asset.id,
                target,
                "delivered" if done.action is Action.CREATE else "updated",
                f"version {asset.version}",
                detail=done.remote_id or "",
                license=license_ref or "",
                campaign=release.plan.campaign,
            )
        return Counter({f"{self.system}_{done.action.value}": 1})
