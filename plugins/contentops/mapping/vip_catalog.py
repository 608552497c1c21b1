"""VIP catalogue entries -> Smint.io assets (VIP-2); approved replacements -> their master (VIP-4).

Pure functions: no Airflow, no HTTP. The pipeline (:mod:`contentops.pipelines.vip_catalog`)
decides what to send with these and sends it through the hooks.

Choices, and why:

* **One Smint.io asset per catalogue entry**, registered under the reference ``vip:<entry id>``;
  a later version of the entry updates that asset (same reference), never adds a second one.
* **Only approved content** is made reusable: a draft or withdrawn entry is not registered.
* **No loops**: an entry whose file came from Smint.io in the first place (``smintio_asset_id``)
  is already an asset there and is not registered again, except an approved *replacement*,
  which is new content standing in for a Smint.io master.
* Localized versions and replacements are linked to their master (``master_asset_id``), so
  Smint.io shows them as derivatives of the asset they were made from.
"""

from __future__ import annotations

from typing import Any

from contentops.models.vip import CatalogEntry

REFERENCE_PREFIX = "vip:"
#: Tag a Smint.io master gets when VIP holds an approved replacement of it.
REPLACEMENT_TAG = "vip:replacement-approved"


def reference(entry_id: str) -> str:
    """The Smint.io external reference of a catalogue entry."""
    return f"{REFERENCE_PREFIX}{entry_id}"


def skip_reason(entry: CatalogEntry) -> str | None:
    """Why an entry is not registered in Smint.io, or ``None`` when it is."""
    if not entry.is_approved:
        return f"not approved in VIP (status {entry.status})"
    if entry.smintio_asset_id and entry.kind != "replacement":
        return f"came from Smint.io (asset {entry.smintio_asset_id}); it is already searchable there"
    return None


def asset_fields(entry: CatalogEntry, master_asset_id: str | None) -> dict[str, Any]:
    """The Smint.io asset fields of an entry (keyword arguments of ``upsert_asset_by_reference``)."""
    tags = list(dict.fromkeys([*entry.tags, f"vip:{entry.kind}", "source:vip"]))
    metadata: dict[str, Any] = {
        "source": "vip",
        "vip_entry_id": entry.id,
        "vip_kind": entry.kind,
        "vip_version": entry.version,
        "vip_item": entry.item_id,
        "vip_file_name": entry.file_name,
    }
    if entry.master_entry_id:
        metadata["vip_master_entry_id"] = entry.master_entry_id
    return {
        "name": entry.title,
        "content_type": entry.content_type,
        "description": entry.description,
        "metadata": metadata,
        "tags": tags,
        "categories": [entry.kind],
        "region": entry.region,
        "language": entry.language,
        "master_asset_id": master_asset_id,
    }


def master_of(entry: CatalogEntry) -> tuple[str, str] | None:
    """Where the entry's master is: ``("smintio", asset id)`` for a replacement, ``("vip", entry id)``
    for a localized version or deliverable made from a VIP master, ``None`` for a master itself."""
    if entry.kind == "replacement" and entry.replaces_asset_id:
        return ("smintio", entry.replaces_asset_id)
    if entry.master_entry_id:
        return ("vip", entry.master_entry_id)
    return None


def replacement_metadata(entry: CatalogEntry, replacement_asset_id: str | None) -> dict[str, Any]:
    """What the Smint.io master learns of its approved replacement in VIP (VIP-4)."""
    return {
        "vip_approved_replacement": entry.id,
        "vip_replacement_version": entry.version,
        "vip_replacement_file": entry.file_name,
        "vip_replacement_approved_at": entry.updated_at.isoformat(),
        "vip_replacement_asset": replacement_asset_id,
    }


def replacement_version(entry: CatalogEntry) -> str:
    """The ledger version of "this replacement, as of this entry version" (one write each)."""
    return f"{entry.id}:v{entry.version}"


def superseded_metadata(entry: CatalogEntry) -> dict[str, Any]:
    """What the Smint.io master says once its approved VIP replacement became its new version:
    its successor (VIP-4). The link is metadata because the public Smint.io material shows no
    successor relation between assets, only versions of an asset's binaries."""
    return {
        "superseded_by_vip_entry": entry.id,
        "superseded_by_vip_version": entry.version,
        "superseded_at": entry.updated_at.isoformat(),
    }
