"""Pydantic v2 models: partner payloads (one module per system) and the shared domain types.

Import from the submodules (``contentops.models.smintio``, ``contentops.models.domain``); this
package re-exports the names most pipelines need so ``from contentops.models import Asset`` works.
"""

from __future__ import annotations

from contentops.models.common import (
    DomainModel,
    LocalizedMetadataElement,
    LocalizedString,
    LocalizedValue,
    MetadataElement,
    PartnerModel,
    UtcDateTime,
    pick_localized,
)
from contentops.models.domain import (
    ComplianceCriteria,
    IntendedUse,
    Reason,
    ReasonCode,
    RightsDecision,
    SweepAssessment,
    SweepStatus,
    Target,
    TargetSystem,
    UsageRights,
    Verdict,
)
from contentops.models.smintio import (
    ApprovalStatus,
    Asset,
    AssetBinary,
    ComplianceStatus,
    ContentElement,
    GenericMetadata,
    LicenseDownloadConstraints,
    LicensePurchaseTransaction,
    LicenseTerm,
    Offering,
    ReleaseDetails,
    SyncBinary,
    SyncLicensePurchaseTransactionQueryResult,
)

__all__ = [
    "ApprovalStatus",
    "Asset",
    "AssetBinary",
    "ComplianceCriteria",
    "ComplianceStatus",
    "ContentElement",
    "DomainModel",
    "GenericMetadata",
    "IntendedUse",
    "LicenseDownloadConstraints",
    "LicensePurchaseTransaction",
    "LicenseTerm",
    "LocalizedMetadataElement",
    "LocalizedString",
    "LocalizedValue",
    "MetadataElement",
    "Offering",
    "PartnerModel",
    "Reason",
    "ReasonCode",
    "ReleaseDetails",
    "RightsDecision",
    "SweepAssessment",
    "SweepStatus",
    "SyncBinary",
    "SyncLicensePurchaseTransactionQueryResult",
    "Target",
    "TargetSystem",
    "UsageRights",
    "UtcDateTime",
    "Verdict",
    "pick_localized",
]
