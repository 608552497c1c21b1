"""What earlier runs left in the partner sandboxes and the ledger, set up directly so a test starts
from that state instead of running the pipelines that make it."""

from __future__ import annotations

from typing import Any

from contentops.ledger import Ledger


def delivered(ledger: Ledger, pipeline: str, asset_id: str, target: str, remote_id: str) -> None:
    """The ledger's slot of version 1 of ``asset_id`` delivered to ``target``."""
    plan = ledger.plan(pipeline, asset_id, 1, target)
    ledger.begin(plan)
    ledger.complete(plan.key, remote_id)


def vip_media_released(
    vip: Any,
    asset_id: str,
    item: str,
    *,
    regions: tuple[str, ...] = ("emea",),
    campaign_tags: tuple[str, ...] = (),
    ledger: Ledger | None = None,
) -> None:
    """What ``campaign_release`` leaves in VIP: version 1 of the asset as active media of a catalog
    item (and, given ``ledger``, its delivery slot)."""
    vip.context.store.put(
        "media",
        f"{item}/{asset_id}",
        {
            "ref": asset_id,
            "item_id": item,
            "kind": "asset",
            "asset_id": asset_id,
            "version": 1,
            "file_name": f"{asset_id}.png",
            "content_type": "image/png",
            "status": "active",
            "approval_status": "approved",
            "campaign_tags": list(campaign_tags),
            "available_to": ["rtl-001"],
            "usage_controls": {"regions": list(regions), "channels": ["online"], "valid_until": None},
            "content": {"sha256": "0" * 64, "size": 10},
            "history": [],
        },
    )
    if ledger is not None:
        delivered(ledger, "campaign_release", asset_id, f"vip:{item}", asset_id)
