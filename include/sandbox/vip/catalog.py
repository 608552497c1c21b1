"""Content VIP itself holds, in the VIP sandbox: media on catalog items (modelled, like all of
VIP's paths and payloads).

Suppliers' teams, regional teams and agencies keep master packages, localized versions,
approved deliverables and approved replacements on the items of VIP's item catalog. contentops
makes them searchable in Smint.io (VIP-2) and reflects approved replacements on the Smint.io
master (VIP-4). They are listed with the other media across the catalogue
(:mod:`contentops_sandbox.vip.item_media`, filtered by ``kind``); the shape is ours (see
docs/systems/vip.md):

``id``, ``kind`` (:data:`CATALOG_KINDS`), ``item_id``, ``title``, ``description``,
``file_name``, ``content_type``, ``size``, ``sha256``, ``region``, ``language``, ``status``
(:data:`CATALOG_STATUSES`), ``version`` (grows on every change), ``attached_by``,
``master_entry_id`` (a localized version's VIP master), ``replaces_asset_id`` (the Smint.io
master an approved replacement stands in for), ``smintio_asset_id`` (set when the file came
from Smint.io in the first place), ``tags``, ``created_at``, ``updated_at``; the listing adds
a ``download_url`` on VIP's own host, which needs the same bearer token as the API.

Operator side: ``PUT /_sandbox/vip/catalog/{media_id}`` attaches media or changes it (its
version grows, its file is regenerated when the content changes); fields are stored as given,
hostile ones included, for the quarantine tests.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI

from contentops_sandbox.core import SandboxContext
from contentops_sandbox.smintio import images

CATALOG_KINDS = ("master_package", "localized_version", "deliverable", "replacement")
CATALOG_STATUSES = ("draft", "approved", "withdrawn")
#: fields whose change means a new file
_CONTENT_FIELDS = ("file_name", "content_type", "content_seed")


def content_of(entry: dict[str, Any]) -> bytes:
    """The entry's file: a real PNG derived from its id and content seed (stable per content)."""
    return images.png(f"vip-catalog:{entry.get('id')}:{entry.get('content_seed', 1)}")


def _with_file(entry: dict[str, Any]) -> dict[str, Any]:
    data = content_of(entry)
    return {**entry, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def seed_catalog(context: SandboxContext) -> None:
    """A small demo catalogue: two masters, their localized versions, a deliverable, a draft."""
    item_of = {"vip-cat-001": "ITM-1001", "vip-cat-002": "ITM-1001", "vip-cat-003": "ITM-1001"}
    item_of.update({"vip-cat-004": "ITM-2001", "vip-cat-005": "ITM-2001", "vip-cat-006": "ITM-3001"})
    now = context.clock.now().isoformat()
    entries = [
        ("vip-cat-001", "master_package", "Spring launch master key visual", None, None, "approved", None),
        (
            "vip-cat-002",
            "localized_version",
            "Spring key visual (German)",
            "dach",
            "de",
            "approved",
            "vip-cat-001",
        ),
        (
            "vip-cat-003",
            "localized_version",
            "Spring key visual (French)",
            "emea",
            "fr",
            "approved",
            "vip-cat-001",
        ),
        ("vip-cat-004", "master_package", "Retail shelf talker master", None, None, "approved", None),
        (
            "vip-cat-005",
            "deliverable",
            "Shelf talker, US print",
            "north_america",
            "en",
            "approved",
            "vip-cat-004",
        ),
        ("vip-cat-006", "deliverable", "Summer teaser (work in progress)", "emea", "en", "draft", None),
    ]
    docs = []
    for entry_id, kind, title, region, language, status, master in entries:
        docs.append(
            (
                entry_id,
                _with_file(
                    {
                        "id": entry_id,
                        "kind": kind,
                        "title": title,
                        "description": f"{title}, held in VIP",
                        "file_name": f"{entry_id}.png",
                        "content_type": "image/png",
                        "region": region,
                        "language": language,
                        "status": status,
                        "version": 1,
                        "item_id": item_of[entry_id],
                        "attached_by": "rtl-008" if kind == "localized_version" else None,  # a regional team
                        "master_entry_id": master,
                        "replaces_asset_id": None,
                        "smintio_asset_id": None,
                        "tags": [f"vip:{kind}"],
                        "content_seed": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ),
            )
        )
    context.store.put_many("catalog", docs)


def add_catalog_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """The operator route of VIP-held content on ``app`` (the VIP sandbox's)."""

    @app.put("/_sandbox/vip/catalog/{media_id}")
    def put_entry(media_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Attach or change media as a VIP user would (fields stored as given)."""
        now = ctx.clock.now().isoformat()
        existing = ctx.store.get("catalog", media_id)
        if existing is None:
            entry = {
                "id": media_id,
                "kind": "deliverable",
                "item_id": "ITM-1001",
                "status": "approved",
                "version": 1,
                "tags": [],
                "region": None,
                "language": None,
                "attached_by": None,
                "master_entry_id": None,
                "replaces_asset_id": None,
                "smintio_asset_id": None,
                "content_seed": 1,
                "created_at": now,
                **body,
                "updated_at": now,
            }
        else:
            entry = {**existing, **body, "version": int(existing.get("version") or 0) + 1, "updated_at": now}
            if any(entry.get(k) != existing.get(k) for k in _CONTENT_FIELDS) or body.get("new_file"):
                entry["content_seed"] = int(existing.get("content_seed") or 1) + 1
        entry.pop("new_file", None)
        if "sha256" not in body and "size" not in body:
            entry = _with_file(entry)
        ctx.store.put("catalog", media_id, entry, action="update" if existing else "create")
        return entry
