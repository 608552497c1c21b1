"""EXS-6: the brand team's regional and language variants reach Exstream for localized documents.

In Smint.io the brand team keeps variants of a master image: derivatives (``master_asset_id``)
with their ``language`` and ``region`` and, in the asset's metadata, the ``business_unit`` they
are made for (*modelled*, docs/systems/smintio.md). A communication in Exstream shows the master;
its localized version for a language shows that language's variant instead, chosen by the image
resources' metadata (*modelled*, docs/systems/exstream.md). So each approved variant becomes an
APPROVED image resource in every Exstream domain its master was delivered to, carrying its
language, region, business unit and master — once per variant version (a newer version goes
the template review's way, :func:`contentops.pipelines.exstream_template_sync.find_changed`).

Rights first: a variant carries its master's license, and is published only if that license
allows a derivative in its language and region on Exstream's channel on the run's date
(:func:`contentops.rights.evaluate_derivative`); every clearance and refusal is recorded.

Variants partners returned (VIP regional teams, Trading Grid) are the localization return loop's:
it publishes them after their regional review, so they are left alone here.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.models.domain import IntendedUse
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines import mappings
from contentops.pipelines.exstream_template_sync import _advance, _exstream_deliveries, _since
from contentops.pipelines.rights_first import KnownLicense, asset_license, no_license_reason
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem

#: The Smint.io metadata key naming the business unit a variant is for (*modelled*).
BUSINESS_UNIT = "business_unit"
#: Where the localization return loop records the variants it created from partners' returns.
PARTNER_RETURNS = TargetSystem.SMINTIO.of("variant")
#: Audit actions (the rights gate's words for the decisions).
CLEARED, REFUSED, PUBLISHED = "cleared", "refused", "published_localized"


def is_localized_variant(asset: Asset) -> bool:
    """An approved derivative of a master that names a language or a region."""
    return asset.is_derivative and asset.is_approved and bool(asset.language or asset.region)


def publish_variants(run: PipelineRun) -> dict[str, int]:
    """Every approved localized variant Smint.io changed since the last run, to Exstream (once).

    A variant that cannot go yet — its master is not in Exstream (its campaign not released yet),
    or no license of it is known — waits in the ledger (a cursor holding the waiting ids) and is
    looked at again on every run until it goes or stops being an approved variant.
    """
    counts: Counter[str] = Counter()
    smintio = run.hook("smintio")
    cursor = f"{run.dag_id}:variants:{smintio.conn_id}"
    waiting_cursor = f"{run.dag_id}:variants-waiting:{smintio.conn_id}"
    waiting = set(json.loads(run.ledger.get_cursor(waiting_cursor) or "[]"))
    chosen = {d for d in run.params.get("domains") or [] if d}
    returned = {d.remote_id for d in run.ledger.deliveries(target_prefix=str(PARTNER_RETURNS)) if d.remote_id}
    masters: dict[str, Asset | None] = {}
    seen: set[str] = set()
    still_waiting: set[str] = set()

    def handle(variant: Asset) -> None:
        seen.add(variant.id)
        if not is_localized_variant(variant):
            return
        if variant.id in returned:
            counts["partner_returns_left_to_the_loop"] += 1
            return
        master_id = str(variant.master_asset_id)
        if master_id not in masters:
            try:
                masters[master_id] = smintio.get_asset(master_id)
            except NotFoundError:
                masters[master_id] = None
        done = _publish(run, variant, masters[master_id], chosen)
        if done["master_not_in_exstream"] or done["no_license"]:
            still_waiting.add(variant.id)
        counts.update(done)

    for variant in smintio.iter_assets(
        changed_since=_since(run, cursor),
        filters={"approval_status": ApprovalStatus.APPROVED.value},
        on_invalid=run.quarantine_callback("smintio", "asset"),
    ):
        handle(variant)
    for variant_id in sorted(waiting - seen):
        try:
            handle(smintio.get_asset(variant_id))
        except NotFoundError:
            continue  # gone from Smint.io: nothing waits for it
    counts["waiting"] = len(still_waiting)
    if not run.dry_run:
        run.ledger.set_cursor(waiting_cursor, json.dumps(sorted(still_waiting)) if still_waiting else None)
    _advance(run, cursor)
    return dict(counts)


def _master_domains(run: PipelineRun, master_id: str, chosen: set[str]) -> list[str]:
    """The Exstream domains the master was delivered to (and still is), within ``chosen`` if given."""
    found = [
        Target.parse(d.target).key
        for d in _exstream_deliveries(run)
        if d.asset_id == master_id and d.status == "delivered"
    ]
    return [d for d in dict.fromkeys(found) if not chosen or d in chosen]


def _published(run: PipelineRun, variant: Asset, target: Target) -> list[str]:
    """The versions of the variant Exstream holds in ``target`` (delivered, by any pipeline)."""
    return [
        str(d.version)
        for d in run.ledger.deliveries(asset_id=variant.id, target_prefix=target.prefix)
        if target.matches(d.target) and d.status == "delivered"
    ]


def _publish(run: PipelineRun, variant: Asset, master: Asset | None, chosen: set[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    master_id = str(variant.master_asset_id)
    targets = [TargetSystem.EXSTREAM.of(d) for d in _master_domains(run, master_id, chosen)]
    if master is None or not targets:
        run.record(
            variant.id,
            TargetSystem.EXSTREAM,
            "not_published",
            f"its master {master_id} is not in Exstream{' (in the chosen domains)' if chosen else ''}",
        )
        counts["master_not_in_exstream"] += 1
        return counts
    known = asset_license(run, master)
    channel = _channel()
    todo: list[Target] = []
    for target in targets:
        held = _published(run, variant, target)
        if held:  # this version: done; an older one: the template review replaces it (EXS-8)
            counts["already_published" if str(variant.version) in held else "newer_version_to_review"] += 1
            continue
        if known is None:
            run.record(variant.id, target, REFUSED, no_license_reason(master))
            counts["no_license"] += 1
            continue
        use = IntendedUse(
            on_date=run.window.end, channel=channel, region=variant.region or None, language=variant.language or None
        )
        decision = rights.evaluate_derivative(known.rights, use)
        common = {"license": known.ref, "asset_version": variant.version, "channel": channel or ""}
        if not decision.allowed:
            run.record(variant.id, target, REFUSED, decision.summary(), region=variant.region or "*", **common)
            counts["refused"] += 1
            continue
        run.record(variant.id, target, CLEARED, _describe(variant), region=variant.region or "*", **common)
        todo.append(target)
    if not todo:
        return counts
    if run.dry_run:
        counts["would_publish"] += len(todo)
        return counts
    assert known is not None
    with tempfile.TemporaryDirectory(prefix="contentops-exstream-variant-") as scratch:
        binary = variant.binaries[0] if variant.binaries else None
        file_name = (binary.name if binary else None) or f"{variant.id}.bin"
        local = Path(scratch) / "variant.bin"
        run.hook("smintio").download_asset_binary(variant.id, binary.id if binary else f"{variant.id}-main", local)
        content_type = (binary.content_type if binary else None) or variant.content_type or "image/png"
        for target in todo:
            counts.update(_upload(run, variant, master, known, target, local, file_name, content_type, channel))
    return counts


def _upload(
    run: PipelineRun,
    variant: Asset,
    master: Asset,
    known: KnownLicense,
    target: Target,
    local: Path,
    file_name: str,
    content_type: str,
    channel: str | None,
) -> Counter[str]:
    """One variant version as an APPROVED image resource of ``target``'s domain, with the metadata
    a localized version selects it by."""
    exstream = run.hook("exstream")
    domain = target.key
    until = rights.usable_until(known.rights)
    metadata = mappings.exstream_resources(run).apply(
        {
            "source_asset": variant.id,
            "asset_version": variant.version,
            "master_asset": master.id,
            "language": variant.language,
            "region": variant.region,
            "business_unit": variant.metadata.get(BUSINESS_UNIT),
            "localized": True,
            "regions": [variant.region] if variant.region else [],
            "valid_until": until.isoformat() if until else None,
            "license": known.ref,
            "channel": channel,
            "categories": list(variant.categories),
            "rights_status": "cleared",
        }
    )

    def publish(plan: Any) -> str:
        comment = f"Localized variant {variant.id} v{variant.version} of {master.id} ({_describe(variant)})"
        resource = exstream.upload_image(
            domain,
            local,
            # the upload's identity (a retry finds what an earlier attempt created by it)
            name=f"{variant.id}-{file_name}",
            content_type=content_type,
            idempotency_key=plan.key,
            resume=plan.resumed,
        )
        exstream.put_rights_metadata(domain, resource.id, metadata)
        if resource.state == "DRAFT":
            resource = exstream.set_state(domain, resource.id, "REVIEW", comment)
        if resource.state == "REVIEW":
            exstream.set_state(domain, resource.id, "APPROVED", comment)
        return resource.id

    done = run.deliver_once(variant.id, variant.version, target, publish, license_ref=known.ref)
    run.record(variant.id, target, PUBLISHED, _describe(variant), detail=done.remote_id or "")
    return Counter({"published": 1})


def _describe(variant: Asset) -> str:
    unit = variant.metadata.get(BUSINESS_UNIT)
    return " / ".join(
        [f"language {variant.language or '-'}", f"region {variant.region or '-'}", f"business unit {unit or '-'}"]
    )


def _channel() -> str | None:
    """Exstream's channel as the campaign release's settings name it (what the rights are checked for)."""
    from contentops.pipelines.campaign.settings import load_release_settings

    return load_release_settings().channels.get(TargetSystem.EXSTREAM)


__all__ = ["BUSINESS_UNIT", "is_localized_variant", "publish_variants"]
