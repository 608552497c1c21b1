"""Workflow intake rules: which Smint.io assets answer a creative request (OWS-3), and what an
asset arriving from another DAM may be used for (OWS-6).

Pure functions: no Airflow, no HTTP. Rights decisions themselves stay in :mod:`contentops.rights`;
this module only says *which* use to ask about and turns partner data into its inputs.

Choices, and why:

* **A match is an approved asset of the request's campaign type and format.** The campaign type
  is a tag (``campaign_type:<type>``, the search Smint.io runs), the format a category or the
  ``format`` metadata key. An asset made for one region or language (a localized variant) only
  answers requests for that region or language; a global asset answers any.
* **Rights as of the run's end and as of the deadline**: the asset must be usable in the request's
  region (and channel, when given) now *and* when the material goes live. Asking only about
  today would hand out assets whose license lapses before the campaign starts.
* **An incoming DAM license is read like a Smint.io license term**: stated regions and channels
  are what is allowed, a missing list is *unknown* (never allowed), a missing end date is no end,
  a license that does not say whether it is editorial-use only cannot clear a commercial use,
  and an asset that arrives with no license at all has rights nobody can vouch for (unknown).
"""

from __future__ import annotations

from datetime import datetime

from contentops.models.common import as_utc
from contentops.models.domain import IntendedUse, UsageRights
from contentops.models.opentext_workflow import CreativeRequest, IncomingAsset
from contentops.models.smintio import COMPLETED_STATE, Asset, LicenseTerm

CAMPAIGN_TYPE_TAG = "campaign_type:{}"


def campaign_type_tag(campaign_type: str) -> str:
    """The Smint.io tag that marks assets made for a campaign type (the search key)."""
    return CAMPAIGN_TYPE_TAG.format(campaign_type.strip().lower())


def _norm(value: object) -> str:
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


def mismatch(request: CreativeRequest, asset: Asset) -> str | None:
    """Why ``asset`` does not answer ``request`` (``None`` = it does, rights aside)."""
    if not asset.is_approved:
        return f"not approved (status {asset.approval_status.value})"
    if campaign_type_tag(request.campaign_type) not in {t.strip().lower() for t in asset.tags}:
        return f"not made for campaign type {request.campaign_type}"
    formats = {_norm(c) for c in asset.categories}
    if asset.metadata.get("format"):
        formats.add(_norm(asset.metadata["format"]))
    if _norm(request.format) not in formats:
        return f"not in format {request.format}"
    if asset.region and _norm(asset.region) != _norm(request.region):
        return f"made for region {asset.region}"
    if request.language and asset.language and asset.language.lower()[:2] != request.language.lower()[:2]:
        return f"made for language {asset.language}"
    return None


def request_uses(request: CreativeRequest, as_of: datetime) -> list[IntendedUse]:
    """The uses a match must be licensed for: in the request's region (and channel), on the run's
    end and on the deadline (only the run's end when the deadline has already passed)."""
    dates = [as_utc(as_of)]
    if request.deadline > dates[0]:
        dates.append(request.deadline)
    return [
        IntendedUse(on_date=date, region=request.region, channel=request.channel, language=request.language)
        for date in dates
    ]


def incoming_rights(asset: IncomingAsset) -> UsageRights:
    """The rights an asset arrives with, as :mod:`contentops.rights` reads them."""
    if asset.license is None:
        return UsageRights(asset_id=asset.reference)
    licence = asset.license
    term = LicenseTerm(
        sequence_number=1,
        allowed_geographies=licence.regions,
        restricted_geographies=[],
        allowed_distributions=licence.channels,
        restricted_distributions=[],
        allowed_usages=["any"],
        allowed_sizes=["any"],
        allowed_placements=["any"],
        allowed_industries=["any"],
        allowed_languages=["any"],
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        is_editorial_use=licence.editorial_only,
    )
    return UsageRights(
        asset_id=asset.reference,
        provider=asset.source_dam,
        license_state=COMPLETED_STATE,
        terms=(term,),
        content_is_editorial_use=licence.editorial_only,
    )


def onboarding_use(as_of: datetime) -> IntendedUse:
    """The use an onboarded asset must be cleared for before Smint.io exposes it: commercial use
    on the run's end (where and how it may be used travels with the asset's license)."""
    return IntendedUse(on_date=as_utc(as_of))
