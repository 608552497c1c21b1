"""Compliance exceptions the rights expiry sweep finds on the asset itself (OWS-4), beside the
license findings :func:`contentops.rights.assess_for_sweep` makes.

An approved asset starts a ``compliance_exception`` workflow for each of these, once per asset and
reason (business key ``compliance_exception:<asset>:<reason>``):

* ``asset_metadata_missing`` — a key of ``required_metadata`` is absent or empty on the asset;
* ``no_license`` — the asset is linked to no license at all, so nothing grants its use;
* ``policy_violation`` — a compliance review marked the asset ``non_compliant``, or the asset
  fails the configured ``policy`` (content criteria, :func:`contentops.rights.meets_compliance`).

Only approved assets are checked: a draft or an asset in review is still in its approval
workflow (OWS-1), which is where missing data is fixed before anyone may use it; a retired one is
out of use. The rules are in ``include/config/rights_expiry_sweep.yaml`` (defaults: no required
metadata, no policy beyond the review's own ``non_compliant`` verdict).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from contentops import rights
from contentops.models.domain import ComplianceCriteria, ReasonCode, Verdict
from contentops.models.smintio import ApprovalStatus, Asset, ComplianceStatus
from contentops.rights.compliance import missing_metadata

METADATA_MISSING = "asset_metadata_missing"
NO_LICENSE = "no_license"
POLICY_VIOLATION = "policy_violation"
#: every exception reason the asset checks can give (each is its own workflow per asset)
REASONS: tuple[str, ...] = (METADATA_MISSING, NO_LICENSE, POLICY_VIOLATION)


def _no_policy() -> ComplianceCriteria:
    return ComplianceCriteria(required_approval_status=None, forbid_editorial_use=False)


class SweepExceptionSettings(BaseModel):
    """``include/config/rights_expiry_sweep.yaml``: what an approved asset must carry and meet.

    ``policy`` is read like a regulated channel's criteria, except that its ``required_metadata``
    is not used (``required_metadata`` here is its own reason), and an unknown answer (say, no
    compliance status yet) is not a violation: only a refusal is.
    """

    model_config = ConfigDict(extra="forbid")

    required_metadata: tuple[str, ...] = Field(default=())
    policy: ComplianceCriteria = Field(default_factory=_no_policy)


def load_exception_settings() -> SweepExceptionSettings:
    from contentops.config import load_settings

    return load_settings("rights_expiry_sweep", SweepExceptionSettings)


def asset_exceptions(asset: Asset, settings: SweepExceptionSettings, as_of: datetime) -> dict[str, str]:
    """The exception reasons of one asset, each with what a reviewer reads; empty = none."""
    if asset.approval_status is not ApprovalStatus.APPROVED:
        return {}
    found: dict[str, str] = {}
    missing = missing_metadata(asset, settings.required_metadata)
    if missing:
        found[METADATA_MISSING] = "required metadata missing: " + ", ".join(missing)
    if not asset.license_purchase_transaction_uuid:
        found[NO_LICENSE] = "the asset is linked to no license"
    violations: list[str] = []
    if asset.compliance_status is ComplianceStatus.NON_COMPLIANT:
        violations.append("the compliance review found the asset non-compliant")
    policy = settings.policy.model_copy(update={"required_metadata": ()})
    decision = rights.meets_compliance(asset, None, policy, as_of)
    if decision.verdict is Verdict.REFUSED:
        violations.extend(r.message for r in decision.reasons if r.code is not ReasonCode.METADATA_MISSING)
    if violations:
        found[POLICY_VIOLATION] = "; ".join(dict.fromkeys(violations))
    return found
