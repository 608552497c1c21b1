"""Exstream delivery: image resources with rights metadata, moved to APPROVED (EXS-1/5/8).

A newer version of an image Exstream already holds goes through the template sync's
``replace_for_review`` instead (EXS-8): the image and the communications using it wait in
REVIEW for the template review workflow, whose outcome the template sync applies.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from contentops import rights
from contentops.ledger import DeliveryRecord
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset
from contentops.pipelines import exstream_template_sync, mappings
from contentops.pipelines.campaign.delivery import Release, Send, TargetDelivery
from contentops.pipelines.campaign.plan import ReleasePlan
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.targets import Target, TargetSystem


def exstream_metadata(
    plan: ReleasePlan,
    asset: Asset,
    usage: UsageRights | None,
    regions: list[str],
    settings: CampaignReleaseSettings,
) -> dict[str, Any]:
    """The rights metadata on an Exstream image: what templates select by, and until when."""
    until = rights.usable_until(usage) if usage is not None else None
    return {
        "source_asset": asset.id,
        "asset_version": asset.version,
        "campaign": plan.campaign,
        "segments": list(plan.segments),
        "regions": regions,
        "valid_until": until.isoformat() if until else None,
        "license": asset.license_purchase_transaction_uuid,
        "channel": settings.channels.get(TargetSystem.EXSTREAM),
        "categories": list(asset.categories),
        "compliance_status": asset.compliance_status.value if asset.compliance_status else None,
        "rights_status": "cleared",
    }


class ExstreamDelivery(TargetDelivery):
    """Image resources of an Exstream domain (targets ``exstream:<domain>``)."""

    system = TargetSystem.EXSTREAM

    def deliver(self, release: Release, target: Target, regions: list[str]) -> Counter[str]:
        earlier = self._older_image(release.asset, target)
        if earlier is None:
            return super().deliver(release, target, regions)
        metadata = self._keyed(exstream_metadata(release.plan, release.asset, release.usage, regions, self.settings))
        reviewed = exstream_template_sync.replace_for_review(self.run, release.asset, earlier, metadata=metadata)
        return Counter({f"{self.system}_{key}": n for key, n in reviewed.items()})

    def _keyed(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """The metadata under the keys of ``mappings/exstream_resources.yaml``."""
        return mappings.exstream_resources(self.run).apply(metadata)

    def _older_image(self, asset: Asset, target: Target) -> DeliveryRecord | None:
        """The ledger's slot when Exstream holds an older version of the asset (else None)."""
        if self.run.dry_run:
            return None
        for slot in self.run.ledger.deliveries(
            asset_id=asset.id, pipeline=self.run.dag_id, target_prefix=target.prefix
        ):
            if target.matches(slot.target) and slot.remote_id and exstream_template_sync.is_outdated(slot, asset):
                return slot
        return None

    def sender(self, release: Release, target: Target, regions: list[str]) -> Send:
        exstream = self.run.hook("exstream")
        domain = target.key
        plan, asset, fetched = release.plan, release.asset, release.fetched
        metadata = self._keyed(exstream_metadata(plan, asset, release.usage, regions, self.settings))

        def send(delivery: Any) -> str:
            comment = f"Campaign {plan.campaign}: {asset.id} v{asset.version}, rights cleared"
            if delivery.remote_id:
                resource = exstream.replace_content(
                    domain, delivery.remote_id, fetched.get(), name=fetched.file_name, content_type=fetched.content_type
                )
            else:
                resource = exstream.upload_image(
                    domain,
                    fetched.get(),
                    name=f"{asset.id}.png",  # the upload's identity: a retry finds it by this name
                    content_type=fetched.content_type,
                    idempotency_key=delivery.key,
                    resume=delivery.resumed,
                )
            exstream.put_rights_metadata(domain, resource.id, metadata)
            if resource.state == "DRAFT":
                resource = exstream.set_state(domain, resource.id, "REVIEW", comment)
            if resource.state == "REVIEW":
                exstream.set_state(domain, resource.id, "APPROVED", comment)
            return resource.id

        return send
