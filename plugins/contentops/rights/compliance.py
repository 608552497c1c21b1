"""Content rules beyond the license: what a client signs off, and a regulated channel's
compliance criteria (category, approval, review, editorial, age, metadata). Whether the license
allows the use stays :func:`contentops.rights.evaluate`'s job; both must pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from contentops.models.common import as_utc
from contentops.models.domain import (
    ComplianceCriteria,
    Reason,
    ReasonCode,
    RightsDecision,
    UsageRights,
    Verdict,
)
from contentops.models.smintio import Asset
from contentops.rights.catalogues import DEFAULT_CHANNELS, KeyCatalogue, normalize_key
from contentops.rights.outcomes import Outcome, fmt_keys, worst
from contentops.rights.terms import editorial_flag


def missing_metadata(asset: Asset, required: Iterable[str]) -> list[str]:
    """Required keys absent or empty in ``asset.metadata`` (top-level asset fields count too)."""
    missing = []
    for key in required:
        value = asset.metadata.get(key)
        if value is None and key in type(asset).model_fields:
            value = getattr(asset, key)
        if value is None or value == "" or value == [] or value == {}:
            missing.append(key)
    return missing


def sign_off_restrictions(rights: UsageRights, channels: KeyCatalogue | None = None) -> tuple[str, ...]:
    """The license's usage restrictions a client has to sign off before its agency uses the content.

    Editorial-use-only content, a term with ``restricted_usages``, or a license whose every term
    names only specific distribution channels (no wildcard, not unknown): each such restriction
    is one line saying why. Empty = nothing to sign off (the rights gate still decides the use).
    """
    catalogue = channels or DEFAULT_CHANNELS
    found: list[str] = []
    if editorial_status(rights) is True:
        found.append("licensed for editorial use only")
    restricted = sorted({key for term in rights.terms for key in term.restricted_usages or ()})
    if restricted:
        found.append(f"restricted usages: {fmt_keys(restricted)}")
    limited = [
        term.allowed_distributions
        for term in rights.terms
        if term.allowed_distributions and not any(catalogue.is_wildcard(key) for key in term.allowed_distributions)
    ]
    if rights.terms and len(limited) == len(rights.terms):
        channels_named = sorted({key for keys in limited for key in keys})
        found.append(f"limited to the channels {fmt_keys(channels_named)}")
    return tuple(found)


def editorial_status(rights: UsageRights) -> bool | None:
    """Is the content editorial-use only as a whole? False as soon as one term grants commercial use."""
    if not rights.terms:
        return rights.editorial_only
    flags = {editorial_flag(term, rights) for term in rights.terms}
    if False in flags:
        return False
    if flags == {True}:
        return True
    return None


def meets_compliance(
    asset: Asset,
    rights: UsageRights | None,
    criteria: ComplianceCriteria,
    as_of: datetime,
) -> RightsDecision:
    """Does ``asset`` meet the compliance criteria of a regulated channel (EXS-5)?

    Content criteria only (category, approval, compliance review, editorial, age, metadata);
    whether the license allows the use is :func:`evaluate`'s job and both must pass.
    """
    as_of = as_utc(as_of)
    outcomes: list[Outcome] = []

    def refuse(code: ReasonCode, message: str, **details: Any) -> None:
        outcomes.append(Outcome(Verdict.REFUSED, (Reason(code=code, message=message, **details),)))

    def unknown(code: ReasonCode, message: str, **details: Any) -> None:
        outcomes.append(Outcome(Verdict.UNKNOWN, (Reason(code=code, message=message, **details),)))

    if criteria.required_approval_status is not None and asset.approval_status != criteria.required_approval_status:
        refuse(
            ReasonCode.NOT_APPROVED,
            f"approval status is '{asset.approval_status.value}', '{criteria.required_approval_status.value}' required",
            dimension="approval_status",
            wanted=criteria.required_approval_status.value,
            listed=(asset.approval_status.value,),
        )
    required_compliance = criteria.required_compliance_status
    if required_compliance is not None:
        if asset.compliance_status is None:
            unknown(ReasonCode.NOT_COMPLIANT, "compliance status is not known", dimension="compliance_status")
        elif asset.compliance_status != required_compliance:
            refuse(
                ReasonCode.NOT_COMPLIANT,
                f"compliance status is '{asset.compliance_status.value}', '{required_compliance.value}' required",
                dimension="compliance_status",
                wanted=required_compliance.value,
                listed=(asset.compliance_status.value,),
            )
    if criteria.eligible_categories:
        eligible = {normalize_key(key) for key in criteria.eligible_categories}
        carried = [*asset.categories, *asset.tags]
        if not eligible & {normalize_key(key) for key in carried}:
            refuse(
                ReasonCode.CATEGORY_NOT_ELIGIBLE,
                f"none of the asset's categories/tags {fmt_keys(carried)} is eligible {fmt_keys(sorted(eligible))}",
                dimension="category",
                listed=tuple(sorted(eligible)),
            )
    if criteria.forbid_editorial_use:
        editorial = editorial_status(rights) if rights is not None else None
        if editorial is True:
            refuse(ReasonCode.EDITORIAL_ONLY, "editorial-use-only content is not allowed here", dimension="editorial")
        elif editorial is None:
            unknown(ReasonCode.UNKNOWN_EDITORIAL_USE, "whether the content is editorial-use only is not known")
    if criteria.max_age_days is not None:
        if asset.created_at is None:
            unknown(ReasonCode.UNKNOWN_AGE, "the asset's creation date is not known", dimension="created_at")
        elif as_of - asset.created_at > timedelta(days=criteria.max_age_days):
            refuse(
                ReasonCode.TOO_OLD,
                f"created {asset.created_at.date().isoformat()}, older than {criteria.max_age_days} days",
                dimension="created_at",
                wanted=asset.created_at.isoformat(),
                listed=(str(criteria.max_age_days),),
            )
    for key in missing_metadata(asset, criteria.required_metadata):
        refuse(ReasonCode.METADATA_MISSING, f"metadata '{key}' is missing", dimension=key)

    final = worst(outcomes)
    return RightsDecision(verdict=final.verdict, reasons=final.reasons, asset_id=asset.id)
