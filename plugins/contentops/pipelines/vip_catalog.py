"""The VIP catalogue sync's steps: VIP-held content becomes reusable in Smint.io (VIP-2), and
masters in Smint.io and their distribution-ready versions in VIP stay in step (VIP-4).

VIP holds its content as media on the items of its item catalog (docs/systems/vip.md); a
"catalogue entry" is one such media of a catalogue kind (master, localized version,
deliverable, replacement).

- :func:`register_catalogue`: every catalogue entry changed in the run's window is registered in
  Smint.io once, under ``vip:<entry id>`` (metadata, tags, file streamed from VIP to Smint.io);
  a new entry version updates that asset, and an entry VIP withdrew is retired in Smint.io
  (once: the ledger slot is marked withdrawn). An approved replacement supersedes the Smint.io
  master it replaces (VIP-4): the master's metadata names it, its file becomes the master's new
  version, and the master's copies on VIP catalog items follow that version — each once per
  replacement version. Malformed entries are quarantined with their reason.

The other direction, Smint.io masters' changes reaching their VIP copies, is
:mod:`contentops.pipelines.vip_masters`.

Every write goes through :meth:`PipelineRun.deliver_once`; a re-run sends nothing twice.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from contentops.hooks.errors import NotFoundError, RequestRejectedError
from contentops.ledger import Action, DeliveryPlan
from contentops.mapping import vip_catalog
from contentops.models.vip import CatalogEntry
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.vip_masters import follow_master
from contentops.targets import TargetSystem

if TYPE_CHECKING:
    from contentops.hooks.smintio import SmintioHook
    from contentops.hooks.vip import VipHook

#: ledger target of catalogue registrations and of replacement notes on masters
SMINTIO_ASSETS = TargetSystem.SMINTIO.of("assets")
SMINTIO_REPLACEMENT = TargetSystem.SMINTIO_METADATA.of("vip_replacement")
#: ledger target of a master superseded by its approved VIP replacement (its new version)
SMINTIO_SUPERSEDED = TargetSystem.SMINTIO.of("superseded")


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
        if entry.kind == "replacement" and entry.replaces_asset_id and _note_replacement(run, entry, asset_id, counts):
            _supersede(run, entry, counts)
    return dict(counts)


def _register(run: PipelineRun, entry: CatalogEntry, counts: Counter[str]) -> str | None:
    vip, smintio = run.hook("vip"), run.hook("smintio")
    master = _master_asset_id(run, entry)

    def send(plan: DeliveryPlan) -> str:
        fields = vip_catalog.asset_fields(entry, master)
        asset = smintio.upsert_asset_by_reference(vip_catalog.reference(entry.id), **fields)
        _relay_file(vip, smintio, entry, asset.id)
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


def _relay_file(vip: VipHook, smintio: SmintioHook, entry: CatalogEntry, asset_id: str) -> None:
    """The entry's file streamed from VIP to a scratch file, checked against the SHA-256 the
    entry states, and uploaded as the file of Smint.io asset ``asset_id``."""
    with tempfile.TemporaryDirectory(prefix="contentops-vip-") as folder:
        local = Path(folder) / "content"
        result = vip.download_catalog_content(entry, local)
        if entry.sha256 and result.sha256 != entry.sha256:
            raise FileMismatchError(
                f"VIP streamed a file with SHA-256 {result.sha256[:12]}…, the entry says {entry.sha256[:12]}…"
            )
        smintio.upload_asset_content(asset_id, local, content_type=entry.content_type, file_name=entry.file_name)


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
) -> bool:
    """VIP-4: the Smint.io master learns that VIP holds an approved replacement of it; False when
    Smint.io does not know the master (the entry is quarantined)."""
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
        return False
    if delivered.action is not Action.SKIP:
        run.record(
            master_id,
            SMINTIO_REPLACEMENT,
            "replacement_noted",
            f"approved replacement {entry.id} v{entry.version} in VIP",
        )
        counts["replacements_noted"] += 1
    return True


def _supersede(run: PipelineRun, entry: CatalogEntry, counts: Counter[str]) -> None:
    """VIP-4: the approved replacement becomes the master's new version in Smint.io — its file
    uploaded as the master's file (CLAPI-C counts a binary's versions; the upload is *modelled*),
    the master's metadata naming its successor — once per replacement version; then the
    master's other distribution copies, its media on VIP catalog items, follow the new version
    (:func:`contentops.pipelines.vip_masters.follow_master`, once per master version)."""
    vip, smintio = run.hook("vip"), run.hook("smintio")
    master_id = str(entry.replaces_asset_id)

    def send(plan: DeliveryPlan) -> str:
        _relay_file(vip, smintio, entry, master_id)
        smintio.update_metadata(master_id, vip_catalog.superseded_metadata(entry))
        return master_id

    try:
        delivered = run.deliver_once(master_id, vip_catalog.replacement_version(entry), SMINTIO_SUPERSEDED, send)
    except (FileMismatchError, RequestRejectedError) as exc:
        run.quarantine(
            "vip", "catalog_entry", f"cannot supersede {master_id}: {exc}", entry.model_dump(mode="json"), ref=entry.id
        )
        counts["quarantined"] += 1
        return
    if delivered.action is not Action.SKIP:
        run.record(
            master_id,
            SMINTIO_SUPERSEDED,
            "master_superseded",
            f"new version from the approved replacement {entry.id} v{entry.version} in VIP",
        )
        counts["masters_superseded"] += 1
    # also after a retry that superseded but did not get this far: the copies' updates are once
    followed = follow_master(run, smintio.get_asset(master_id))
    counts.update({f"copies_{k}": v for k, v in followed.items() if k != "assets_changed"})
