"""Exstream delivery: image resources with rights metadata, moved to APPROVED (EXS-1/5/8).

A newer version of an image Exstream already holds goes through the template sync's
``replace_for_review`` instead (EXS-8): the image and the communications using it wait in
REVIEW for the template review workflow, whose outcome the template sync applies.

A release ahead of its date (:attr:`ReleasePlan.embargo_until`) carries the embargo as Exstream
can (*modelled*, docs/systems/exstream.md): the image's metadata names ``valid_from`` and
``rights_status: embargoed`` and the image waits in REVIEW, so no communication can use it;
:func:`lift_embargoes` moves it to APPROVED on a run at or after the date, by state (what
Exstream holds in REVIEW under an embargo that has ended), once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from contentops import rights
from contentops.hooks.errors import ConflictError, RequestRejectedError
from contentops.ledger import DeliveryRecord
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset
from contentops.pipelines import exstream_template_sync, mappings
from contentops.pipelines.campaign.delivery import Release, Send, TargetDelivery
from contentops.pipelines.campaign.plan import ReleasePlan
from contentops.pipelines.campaign.settings import CampaignReleaseSettings
from contentops.pipelines.runtime import PipelineRun
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


#: ``rights_status`` of an image delivered ahead of its date (what :func:`lift_embargoes` looks for)
EMBARGOED = "embargoed"


def _embargo(plan: ReleasePlan) -> dict[str, Any]:
    """The embargo fields of an image released ahead of its date (nothing otherwise)."""
    if plan.embargo_until is None:
        return {}
    return {"valid_from": plan.embargo_until.isoformat(), "rights_status": EMBARGOED}


def _embargo_key(run: PipelineRun, field: str) -> str:
    """The metadata key of an embargo field: the mapping's, or the field's own name when the
    mapping leaves it out (an embargo must always be written, or it could never be lifted)."""
    return mappings.exstream_resources(run).key_of(field) or field


def _embargo_keyed(run: PipelineRun, plan: ReleasePlan) -> dict[str, Any]:
    return {_embargo_key(run, field): value for field, value in _embargo(plan).items()}


class ExstreamDelivery(TargetDelivery):
    """Image resources of an Exstream domain (targets ``exstream:<domain>``)."""

    system = TargetSystem.EXSTREAM
    requests_per_target = 4  # upload, rights metadata, REVIEW, APPROVED

    def deliver(self, release: Release, target: Target, regions: list[str]) -> Counter[str]:
        earlier = self._older_image(release.asset, target)
        if earlier is None:
            return super().deliver(release, target, regions)
        metadata = self._keyed(exstream_metadata(release.plan, release.asset, release.usage, regions, self.settings))
        reviewed = exstream_template_sync.replace_for_review(
            self.run, release.asset, earlier, metadata=metadata, staged=release.fetched.get
        )
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
        # a new image released ahead of its date carries the embargo; a newer version of one Exstream
        # holds goes through the template review instead (deliver), which decides its approval
        metadata = self._keyed(exstream_metadata(plan, asset, release.usage, regions, self.settings))
        metadata.update(_embargo_keyed(self.run, plan))

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
            if resource.state == "REVIEW" and plan.embargo_until is None:  # embargoed: waits in REVIEW
                exstream.set_state(domain, resource.id, "APPROVED", comment)
            return resource.id

        return send


def embargoes_due(run: PipelineRun, domains: Iterable[str]) -> Iterator[tuple[str, Any, dict[str, Any], datetime]]:
    """Exstream's embargoed campaign images whose date has come by the run's window end:
    ``(domain, resource, its metadata, valid_from)``, read by state (images in REVIEW whose
    metadata says ``embargoed``). Images in REVIEW for another reason (the template review of a
    replaced image) are not ours to approve and are not listed."""
    exstream = run.hook("exstream")
    status_key, since_key = _embargo_key(run, "rights_status"), _embargo_key(run, "valid_from")
    for domain in dict.fromkeys(domains):
        for resource in exstream.iter_resources(domain, types=["image"], states=["REVIEW"]):
            metadata = dict(resource.metadata)
            since = _moment(metadata.get(since_key))
            if metadata.get(status_key) != EMBARGOED or since is None or since > run.window.end:
                continue
            yield domain, resource, metadata, since


def lift_embargoes(run: PipelineRun, domains: Iterable[str]) -> Counter[str]:
    """Move every embargoed campaign image whose date has come (by the run's window end) to APPROVED.

    By state (:func:`embargoes_due`) — so a run that was skipped loses nothing, and an image
    lifted once is APPROVED and never picked again. Exstream refusing the move (its clock not
    at the date yet) leaves the image for a later run.
    """
    exstream = run.hook("exstream")
    keys = mappings.exstream_resources(run)
    status_key = _embargo_key(run, "rights_status")
    asset_key, campaign_key = keys.key_of("source_asset") or "", keys.key_of("campaign") or ""
    counts: Counter[str] = Counter()
    for domain, resource, metadata, since in embargoes_due(run, domains):
        target = TargetSystem.EXSTREAM.of(domain)
        subject = str(metadata.get(asset_key) or resource.id)
        if run.dry_run:
            counts["exstream_embargo_due"] += 1
            continue
        try:
            exstream.set_state(domain, resource.id, "APPROVED", f"embargo ended {since.isoformat()}")
            exstream.put_rights_metadata(domain, resource.id, {**metadata, status_key: "cleared"})
        except (ConflictError, RequestRejectedError) as refused:
            run.record(subject, target, "embargo_kept", f"Exstream refused APPROVED: {refused}", detail=resource.id)
            counts["exstream_embargo_kept"] += 1
            continue
        run.record(
            subject,
            target,
            "embargo_lifted",
            f"embargo until {since.isoformat()} ended: APPROVED",
            detail=resource.id,
            campaign=str(metadata.get(campaign_key) or ""),
        )
        counts["exstream_embargo_lifted"] += 1
    return counts


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
