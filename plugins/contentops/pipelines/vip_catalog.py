"""The VIP catalogue sync's steps: VIP-held content becomes reusable in Smint.io (VIP-2), and
masters in Smint.io and their distribution-ready versions in VIP stay in step (VIP-4).

VIP holds its content as media on the items of its item catalog (docs/systems/vip.md); a
"catalogue entry" is one such media of a catalogue kind (master, localized version,
deliverable, replacement).

- :func:`register_catalogue`: every catalogue entry changed in the run's window is registered in
  Smint.io once, under ``vip:<entry id>`` (metadata, tags, file streamed from VIP to Smint.io);
  a new entry version updates that asset, and an entry VIP withdrew is retired in Smint.io
  (once: the ledger slot is marked withdrawn). An approved replacement is also written onto the
  metadata of the Smint.io master it replaces, once per replacement version. Malformed entries
  are quarantined with their reason.
- :func:`update_vip_items`: every Smint.io asset changed in the window whose delivered VIP media
  holds an older version gets that media updated to the new version (file re-uploaded), if
  :mod:`contentops.rights` allows the media's regions and channels as of the window's end.

Every write goes through :meth:`PipelineRun.deliver_once`; a re-run sends nothing twice.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError, RequestRejectedError
from contentops.ledger import Action, DeliveryPlan
from contentops.mapping import vip_catalog
from contentops.models.domain import IntendedUse
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.models.vip import CatalogEntry, ItemMedia
from contentops.pipelines import mappings
from contentops.pipelines.rights_first import asset_license, no_license_reason
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem

#: ledger target of catalogue registrations and of replacement notes on masters
SMINTIO_ASSETS = TargetSystem.SMINTIO.of("assets")
SMINTIO_REPLACEMENT = TargetSystem.SMINTIO_METADATA.of("vip_replacement")


class FileMismatchError(ValueError):
    """The file VIP streamed is not the one its catalogue entry describes."""


def register_catalogue(run: PipelineRun, *, page_size: int = 50) -> dict[str, int]:
    """VIP-2 (and the replacement half of VIP-4) for the entries changed in the run's window."""
    vip = run.hook("vip")
    counts: Counter[str] = Counter()
    on_invalid = run.quarantine_callback("vip", "catalog_entry")
    for entry in vip.iter_catalog(
        changed_since=run.window.start, changed_before=run.window.end, page_size=page_size, on_invalid=on_invalid
    ):
        counts["entries"] += 1
        if entry.status == "withdrawn" and _retire(run, entry):
            counts["retired"] += 1
            continue
        skip = vip_catalog.skip_reason(entry)
        if skip is not None:
            run.record(entry.id, SMINTIO_ASSETS, "skipped", skip, detail=f"v{entry.version}")
            counts["skipped"] += 1
            continue
        try:
            asset_id = _register(run, entry, counts)
        except (FileMismatchError, RequestRejectedError, NotFoundError) as exc:
            run.quarantine("vip", "catalog_entry", str(exc), entry.model_dump(mode="json"), ref=entry.id)
            counts["quarantined"] += 1
            continue
        if entry.kind == "replacement" and entry.replaces_asset_id:
            _note_replacement(run, entry, asset_id, counts)
    return dict(counts)


def _register(run: PipelineRun, entry: CatalogEntry, counts: Counter[str]) -> str | None:
    vip, smintio = run.hook("vip"), run.hook("smintio")
    master = _master_asset_id(run, entry)

    def send(plan: DeliveryPlan) -> str:
        fields = vip_catalog.asset_fields(entry, master)
        asset = smintio.upsert_asset_by_reference(vip_catalog.reference(entry.id), **fields)
        with tempfile.TemporaryDirectory(prefix="contentops-vip-") as folder:
            local = Path(folder) / "content"
            result = vip.download_catalog_content(entry, local)
            if entry.sha256 and result.sha256 != entry.sha256:
                raise FileMismatchError(
                    f"VIP streamed a file with SHA-256 {result.sha256[:12]}…, the entry says {entry.sha256[:12]}…"
                )
            smintio.upload_asset_content(asset.id, local, content_type=entry.content_type, file_name=entry.file_name)
        run.ledger.link("asset", "vip", entry.id, "smintio", asset.id, {"reference": vip_catalog.reference(entry.id)})
        return asset.id

    delivered = run.deliver_once(entry.id, entry.version, SMINTIO_ASSETS, send)
    action = {Action.CREATE: "registered", Action.UPDATE: "updated", Action.SKIP: "unchanged"}[delivered.action]
    counts[action] += 1
    if delivered.action is not Action.SKIP:
        run.record(
            entry.id,
            SMINTIO_ASSETS,
            action,
            f"{entry.kind} v{entry.version} ({entry.region or 'global'}, {entry.language or 'any language'})",
            detail=delivered.remote_id or "",
        )
    return delivered.remote_id


def _retire(run: PipelineRun, entry: CatalogEntry) -> bool:
    """An entry VIP withdrew that Smint.io holds is retired there, once; False if it was never registered."""
    registered = [
        d
        for d in run.ledger.deliveries(asset_id=entry.id, pipeline=run.dag_id, target_prefix=SMINTIO_ASSETS.prefix)
        if d.status == "delivered" and d.remote_id
    ]
    if not registered:
        return False
    smintio = run.hook("smintio")
    for delivery in registered:
        reason = f"withdrawn in VIP (catalogue entry {entry.id} v{entry.version})"
        if not run.dry_run:
            smintio.retire_asset(str(delivery.remote_id), reason)
            run.ledger.withdraw(run.dag_id, entry.id, delivery.target, reason, run_id=run.run_id)
        run.record(entry.id, delivery.target, "retired", reason, detail=str(delivery.remote_id))
    return True


def _master_asset_id(run: PipelineRun, entry: CatalogEntry) -> str | None:
    master = vip_catalog.master_of(entry)
    if master is None:
        return None
    system, master_id = master
    if system == "smintio":
        return master_id
    return run.ledger.lookup("asset", "vip", master_id, "smintio")  # registered before (or None)


def _note_replacement(
    run: PipelineRun, entry: CatalogEntry, replacement_asset_id: str | None, counts: Counter[str]
) -> None:
    """VIP-4: the Smint.io master learns that VIP holds an approved replacement of it."""
    smintio = run.hook("smintio")
    master_id = str(entry.replaces_asset_id)

    def send(plan: DeliveryPlan) -> str:
        smintio.update_metadata(
            master_id,
            vip_catalog.replacement_metadata(entry, replacement_asset_id),
            tags_add=[vip_catalog.REPLACEMENT_TAG],
        )
        return master_id

    try:
        delivered = run.deliver_once(master_id, vip_catalog.replacement_version(entry), SMINTIO_REPLACEMENT, send)
    except NotFoundError as exc:
        run.quarantine(
            "vip",
            "catalog_entry",
            f"replaces an asset Smint.io does not know: {exc}",
            entry.model_dump(mode="json"),
            ref=entry.id,
        )
        counts["quarantined"] += 1
        return
    if delivered.action is not Action.SKIP:
        run.record(
            master_id,
            SMINTIO_REPLACEMENT,
            "replacement_noted",
            f"approved replacement {entry.id} v{entry.version} in VIP",
        )
        counts["replacements_noted"] += 1


# --------------------------------------------------------------------------- Smint.io -> VIP (VIP-4)


def update_vip_items(run: PipelineRun, *, page_size: int = 100) -> dict[str, int]:
    """Bring delivered VIP media up to the version of their Smint.io master, rights permitting."""
    smintio = run.hook("smintio")
    counts: Counter[str] = Counter()
    on_invalid = run.quarantine_callback("smintio", "asset")
    for asset in smintio.iter_assets(changed_since=run.window.start, page_size=page_size, on_invalid=on_invalid):
        if asset.updated_at is not None and asset.updated_at >= run.window.end:
            continue  # a later window's change (backfills decide as of their own end)
        stale = [
            d
            for d in run.ledger.deliveries(asset_id=asset.id, target_prefix=TargetSystem.VIP.prefix, status="delivered")
            if _older(d.version, asset.version)
        ]
        if not stale:
            continue
        counts["assets_changed"] += 1
        if asset.approval_status is not ApprovalStatus.APPROVED:
            for delivery in stale:
                run.record(
                    asset.id,
                    delivery.target,
                    "not_updated",
                    f"not approved in Smint.io ({asset.approval_status.value})",
                )
            counts["not_approved"] += len(stale)
            continue
        for delivery in stale:
            counts[_update_item(run, asset, delivery)] += 1
    return dict(counts)


def _older(delivered: str | None, current: int) -> bool:
    try:
        return delivered is not None and int(delivered) < current
    except ValueError:
        return False  # not a version we wrote; leave it alone


def _update_item(run: PipelineRun, asset: Asset, delivery: Any) -> str:
    vip, smintio = run.hook("vip"), run.hook("smintio")
    item_id = Target.parse(delivery.target).key
    media_ref = delivery.remote_id or asset.id
    media: ItemMedia = vip.get_media(item_id, media_ref)
    decision = _rights_for_media(run, asset, media)
    if decision is not None:
        run.record(
            asset.id, delivery.target, "refused", decision, license=asset.license_purchase_transaction_uuid or ""
        )
        return "refused"
    if not asset.binaries:
        run.record(asset.id, delivery.target, "not_updated", "the Smint.io asset has no file to deliver")
        return "no_file"
    binary = asset.binaries[0]
    content_type = binary.content_type or asset.content_type or media.content_type
    attributes = mappings.vip_media(run).attributes_of(asset)  # of the new version

    def send(plan: DeliveryPlan) -> str:
        vip.put_media(
            item_id,
            media_ref,
            asset_id=asset.id,
            version=asset.version,
            file_name=media.file_name,
            content_type=content_type,
            usage_controls=media.usage_controls,
            available_to=media.available_to,
            approval_status=media.approval_status,
            campaign_tags=media.campaign_tags,
            license_summary=media.license_summary,
            agency=media.agency,
            derived_from=media.derived_from,
            attributes=attributes,
        )
        with tempfile.TemporaryDirectory(prefix="contentops-smintio-") as folder:
            local = Path(folder) / "content"
            smintio.download_asset_binary(asset.id, binary.id, local)
            vip.upload_media_content(item_id, media_ref, local, content_type)
        return media_ref

    delivered = run.deliver_once(
        asset.id,
        asset.version,
        delivery.target,
        send,
        pipeline=delivery.pipeline,  # the slot the first delivery filled: this is its update
        license_ref=asset.license_purchase_transaction_uuid,
    )
    if delivered.action is Action.SKIP:
        return "unchanged"
    run.record(
        asset.id,
        delivery.target,
        "item_updated",
        f"v{delivery.version} -> v{asset.version}",
        license=asset.license_purchase_transaction_uuid or "",
        detail=media_ref,
    )
    return "items_updated"


def _rights_for_media(run: PipelineRun, asset: Asset, item: ItemMedia) -> str | None:
    """``None`` when the asset may be used in every region and channel of the VIP media as of the
    window's end; otherwise the reasons it may not (or why nobody can tell)."""
    known = asset_license(run, asset)
    if known is None:
        return no_license_reason(asset)
    usage = known.rights
    reasons = []
    for region in item.usage_controls.regions:
        for channel in item.usage_controls.channels:
            decision = rights.evaluate(usage, IntendedUse(on_date=run.window.end, region=region, channel=channel))
            if not decision.allowed:
                reasons.append(f"{region}/{channel}: {decision.summary()}")
    return "; ".join(reasons) or None
