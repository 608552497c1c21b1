"""Rights first: the one way a pipeline finds the license an asset is used under.

Every decision about where an asset may go starts from its license. The ledger's license index,
kept current from Smint.io's license purchase transaction feed by the license sync, holds the
latest rights of each license; this module is the only reader of it for rights decisions, so
every pipeline answers "what may this asset do?" from the same place and falls back the same way.

The fall-back rule fails closed: an asset without a license reference, or whose license the
index does not hold (yet), has **no known license**. :func:`asset_license` then answers ``None``
and the caller refuses or holds the asset with :func:`no_license_reason`; a caller that wants a
decision anyway takes :func:`rights_or_unknown`, the empty rights the rules read as unknown, which
allow nothing. No caller treats a missing license as unrestricted, and none asks Smint.io for it
mid-decision (the sync is the one path from the feed into the index).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from contentops.models.domain import UsageRights

if TYPE_CHECKING:
    from contentops.models.smintio import Asset
    from contentops.pipelines.runtime import PipelineRun

__all__ = [
    "KnownLicense",
    "asset_license",
    "asset_rights",
    "known_license",
    "license_ref",
    "no_license_reason",
    "rights_or_unknown",
]


@dataclass(frozen=True)
class KnownLicense:
    """A license the index holds: its reference (the purchase transaction), rights and version."""

    ref: str
    rights: UsageRights
    version: int | None


def license_ref(asset: Asset) -> str:
    """The license purchase transaction an asset is used under ("" when Smint.io names none)."""
    return asset.license_purchase_transaction_uuid or ""


def known_license(run: PipelineRun, ref: str | None) -> KnownLicense | None:
    """The index's latest rights of license ``ref``; ``None`` when there is no ref or no row."""
    if not ref:
        return None
    row = run.ledger.license(ref)
    if row is None:
        return None
    return KnownLicense(ref=ref, rights=UsageRights.model_validate(row.rights), version=row.version)


def asset_license(run: PipelineRun, asset: Asset | None) -> KnownLicense | None:
    """The license ``asset`` is used under, or ``None`` when none is known (the caller refuses)."""
    return known_license(run, license_ref(asset)) if asset is not None else None


def asset_rights(run: PipelineRun, asset: Asset | None) -> UsageRights | None:
    """The rights of the asset's license, or ``None`` when no license is known."""
    known = asset_license(run, asset)
    return known.rights if known is not None else None


def rights_or_unknown(run: PipelineRun, asset: Asset) -> UsageRights:
    """The rights of the asset's license; without a known license, empty rights of the asset,
    which the rules read as unknown (nothing is allowed)."""
    known = asset_license(run, asset)
    return known.rights if known is not None else UsageRights(asset_id=asset.id)


def no_license_reason(asset: Asset) -> str:
    """Why an asset without a known license is refused (recorded in the audit trail)."""
    ref = license_ref(asset)
    return (
        f"no license known for {asset.id} (license {ref or 'missing'} is not in the license index): "
        "its rights cannot be confirmed"
    )
