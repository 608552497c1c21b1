"""The integration's own vocabulary: what pipelines pass between tasks and what the rules return.

These types are system-neutral: a :class:`UsageRights` is built from a Smint.io license purchase
transaction today, but the rules in :mod:`contentops.rights` only see the neutral view. They are
frozen :class:`~contentops.models.common.DomainModel`\\ s, so they can be shared between tasks and
serialised to XCom/ledger rows as JSON (``model_dump(mode="json")``) without surprises.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import Field, NonNegativeInt, PositiveInt

from contentops.models.common import DomainModel, UtcDateTime
from contentops.models.smintio import (
    ApprovalStatus,
    ComplianceStatus,
    LicensePurchaseTransaction,
    LicenseTerm,
    ReleaseDetails,
)

__all__ = [
    "SWEEP_SEVERITY",
    "ComplianceCriteria",
    "IntendedUse",
    "Reason",
    "ReasonCode",
    "RightsDecision",
    "SweepAssessment",
    "SweepStatus",
    "Target",
    "TargetSystem",
    "UsageReconciliation",
    "UsageRights",
    "UsageThresholds",
    "UsageVolume",
    "Verdict",
]


class Verdict(StrEnum):
    """Outcome of a rights question. ``UNKNOWN`` is never treated as allowed."""

    ALLOWED = "allowed"
    REFUSED = "refused"
    UNKNOWN = "unknown"


class ReasonCode(StrEnum):
    """Stable machine codes for why a decision is not (or not clearly) "allowed".

    Codes are part of the ledger and of partner guidance: add new ones, never rename.
    Per usage dimension ``X`` (region, channel, language, industry, usage, size, placement) there
    are three codes: ``X_not_allowed`` (the allowed list does not cover the use),
    ``X_restricted`` (a restricted key overlaps the use) and ``unknown_X`` (the allowed list is
    missing, or a key cannot be resolved, so we cannot tell).
    """

    # validity
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    USE_PERIOD_ENDED = "use_period_ended"  # to_be_used_until passed: no new use may start
    # license as a whole
    NO_LICENSE_TERMS = "no_license_terms"
    LICENSE_NOT_COMPLETED = "license_not_completed"
    UNKNOWN_LICENSE_STATE = "unknown_license_state"
    EDITORIAL_ONLY = "editorial_only"
    UNKNOWN_EDITORIAL_USE = "unknown_editorial_use"
    # counters vs. download constraints
    DOWNLOAD_LIMIT_REACHED = "download_limit_reached"
    USER_LIMIT_REACHED = "user_limit_reached"
    REUSE_LIMIT_REACHED = "reuse_limit_reached"
    UNKNOWN_DOWNLOAD_COUNT = "unknown_download_count"
    UNKNOWN_USER_COUNT = "unknown_user_count"
    UNKNOWN_REUSE_COUNT = "unknown_reuse_count"
    # usage dimensions
    REGION_NOT_ALLOWED = "region_not_allowed"
    REGION_RESTRICTED = "region_restricted"
    UNKNOWN_REGION = "unknown_region"
    CHANNEL_NOT_ALLOWED = "channel_not_allowed"
    CHANNEL_RESTRICTED = "channel_restricted"
    UNKNOWN_CHANNEL = "unknown_channel"
    LANGUAGE_NOT_ALLOWED = "language_not_allowed"
    LANGUAGE_RESTRICTED = "language_restricted"
    UNKNOWN_LANGUAGE = "unknown_language"
    INDUSTRY_NOT_ALLOWED = "industry_not_allowed"
    INDUSTRY_RESTRICTED = "industry_restricted"
    UNKNOWN_INDUSTRY = "unknown_industry"
    USAGE_NOT_ALLOWED = "usage_not_allowed"
    USAGE_RESTRICTED = "usage_restricted"
    UNKNOWN_USAGE = "unknown_usage"
    SIZE_NOT_ALLOWED = "size_not_allowed"
    SIZE_RESTRICTED = "size_restricted"
    UNKNOWN_SIZE = "unknown_size"
    PLACEMENT_NOT_ALLOWED = "placement_not_allowed"
    PLACEMENT_RESTRICTED = "placement_restricted"
    UNKNOWN_PLACEMENT = "unknown_placement"
    # derivatives
    DERIVATIVES_NOT_ALLOWED = "derivatives_not_allowed"
    # compliance (EXS-5) and sweep
    NOT_APPROVED = "not_approved"
    NOT_COMPLIANT = "not_compliant"
    CATEGORY_NOT_ELIGIBLE = "category_not_eligible"
    TOO_OLD = "too_old"
    UNKNOWN_AGE = "unknown_age"
    METADATA_MISSING = "metadata_missing"
    EXPIRING = "expiring"
    # usage reconciliation (EXS-7, OWS-8)
    USAGE_OVER_THRESHOLD = "usage_over_threshold"
    USAGE_OUTSIDE_REGION = "usage_outside_region"
    USAGE_AFTER_EXPIRY = "usage_after_expiry"
    DOWNLOADS_OVER_THRESHOLD = "downloads_over_threshold"
    NO_LICENSE_KNOWN = "no_license_known"


class Reason(DomainModel):
    """One finding behind a decision, for machines (``code``) and people (``message``).

    ``dimension`` names what was checked (``"region"``, ``"valid_until"``, ``"downloads"`` ...),
    ``wanted`` the value the use asked for and ``listed`` the license values it was checked
    against, so a refusal can be explained without re-running the rules. ``term`` is the
    ``sequence_number`` of the license term the finding is about (``None`` = the license as a whole).
    """

    code: ReasonCode
    message: str
    term: int | None = None
    dimension: str | None = None
    wanted: str | None = None
    listed: tuple[str, ...] = ()


class RightsDecision(DomainModel):
    """The answer to "may this asset be used like that?" with every reason recorded."""

    verdict: Verdict
    reasons: tuple[Reason, ...] = ()
    asset_id: str | None = None
    granted_by_term: int | None = None

    @property
    def allowed(self) -> bool:
        """True only for an explicit ``ALLOWED``; ``UNKNOWN`` is not allowed."""
        return self.verdict is Verdict.ALLOWED

    @property
    def codes(self) -> frozenset[ReasonCode]:
        """The reason codes, for quick checks (``ReasonCode.EXPIRED in decision.codes``)."""
        return frozenset(reason.code for reason in self.reasons)

    def summary(self) -> str:
        """One line for logs and reports."""
        if not self.reasons:
            return self.verdict.value
        return f"{self.verdict.value}: " + "; ".join(reason.message for reason in self.reasons)


class IntendedUse(DomainModel):
    """How someone wants to use an asset. A dimension left ``None`` is not checked.

    ``channel`` is a Smint.io license *distribution* key (e.g. ``"online"``, ``"print"``);
    ``region`` an ISO-3166 alpha-2 code or a region key of the region catalogue (``"dach"``);
    ``language`` an ISO 639-1 code (``"en"``; ``"en-GB"`` is read as ``"en"``). ``on_date`` is the
    date of use (a pipeline passes its data interval end, not "now", so backfills reproduce).
    ``editorial`` is True for editorial (news, non-commercial) use. ``planned_*`` are the
    downloads/users/reuses this use will add to the license counters (``None`` = none).
    """

    on_date: UtcDateTime
    channel: str | None = None
    region: str | None = None
    language: str | None = None
    industry: str | None = None
    usage: str | None = None
    size: str | None = None
    placement: str | None = None
    editorial: bool = False
    planned_downloads: NonNegativeInt | None = None
    planned_users: NonNegativeInt | None = None
    planned_reuses: NonNegativeInt | None = None


class TargetSystem(StrEnum):
    """Partner systems an asset can be delivered to."""

    VIP = "vip"
    TRADING_GRID = "trading_grid"
    EXSTREAM = "exstream"
    CONSONANCE = "consonance"
    WORKFLOW = "workflow"


class Target(DomainModel):
    """Where something goes: a partner system plus the channel/region/language it will be used in.

    ``recipient`` is the partner-side addressee (VIP team, Trading Grid community id, Exstream
    template library, Consonance title id ...).
    """

    system: TargetSystem
    channel: str | None = None
    region: str | None = None
    language: str | None = None
    industry: str | None = None
    recipient: str | None = None

    def intended_use(
        self,
        on_date: datetime,
        *,
        planned_downloads: int | None = None,
        planned_users: int | None = None,
        planned_reuses: int | None = None,
    ) -> IntendedUse:
        """The use this target implies on ``on_date`` (commercial use)."""
        return IntendedUse(
            on_date=on_date,
            channel=self.channel,
            region=self.region,
            language=self.language,
            industry=self.industry,
            planned_downloads=planned_downloads,
            planned_users=planned_users,
            planned_reuses=planned_reuses,
        )


class SweepStatus(StrEnum):
    """Findings of the rights expiry sweep, most severe first (see :data:`SWEEP_SEVERITY`)."""

    EXPIRED = "expired"
    LIMIT_REACHED = "limit_reached"
    EXPIRING = "expiring"
    METADATA_MISSING = "metadata_missing"
    OK = "ok"


#: Severity order used to pick :attr:`SweepAssessment.status` from several findings.
SWEEP_SEVERITY: tuple[SweepStatus, ...] = tuple(SweepStatus)


class SweepAssessment(DomainModel):
    """What the sweep found for one asset: the headline status plus every finding and reason."""

    status: SweepStatus
    findings: frozenset[SweepStatus] = frozenset()
    reasons: tuple[Reason, ...] = ()
    expires_at: UtcDateTime | None = None
    asset_id: str | None = None

    @classmethod
    def from_findings(
        cls,
        findings: Iterable[SweepStatus],
        reasons: Iterable[Reason],
        expires_at: datetime | None,
        asset_id: str | None,
    ) -> SweepAssessment:
        """Build an assessment whose status is the most severe finding (``OK`` when none)."""
        found = frozenset(findings) - {SweepStatus.OK}
        status = next((status for status in SWEEP_SEVERITY if status in found), SweepStatus.OK)
        return cls(
            status=status,
            findings=found or frozenset({SweepStatus.OK}),
            reasons=tuple(reasons),
            expires_at=expires_at,
            asset_id=asset_id,
        )

    @property
    def needs_action(self) -> bool:
        return self.status is not SweepStatus.OK


class UsageRights(DomainModel):
    """The neutral view of what an asset may do: terms, caps, counters, releases, editorial flags.

    ``terms`` are alternative grants (see :func:`contentops.rights.evaluate`); an empty tuple
    means the license says nothing we can use, which the rules read as unknown.
    ``max_*`` caps: ``None`` = no cap declared. ``current_*`` counters: ``None`` = not known.
    ``content_is_editorial_use`` / ``offering_is_editorial_use``: the LPT-level "editorial use
    only" flags; ``None`` = not stated.
    """

    asset_id: str | None = None
    license_purchase_transaction_uuid: str | None = None
    content_element_uuid: str | None = None
    provider: str | None = None
    license_state: str | None = None
    terms: tuple[LicenseTerm, ...] = ()
    max_downloads: NonNegativeInt | None = None
    max_users: NonNegativeInt | None = None
    max_reuses: NonNegativeInt | None = None
    current_downloads: NonNegativeInt | None = None
    current_users: NonNegativeInt | None = None
    current_reuses: NonNegativeInt | None = None
    release_details: ReleaseDetails | None = None
    content_is_editorial_use: bool | None = None
    offering_is_editorial_use: bool | None = None

    @classmethod
    def from_lpt(cls, lpt: LicensePurchaseTransaction, asset_id: str | None = None) -> UsageRights:
        """Build the rights of an LPT: its terms (else the offering's), constraints and counters.

        ``asset_id`` defaults to the LPT uuid, which is the asset identity in a CLAPI-C sync.
        """
        constraints = lpt.effective_download_constraints()
        element = lpt.content_element
        return cls(
            asset_id=asset_id if asset_id is not None else lpt.uuid,
            license_purchase_transaction_uuid=lpt.uuid,
            content_element_uuid=element.uuid if element else None,
            provider=element.provider if element else None,
            license_state=lpt.state,
            terms=tuple(lpt.effective_terms()),
            max_downloads=constraints.effective_max_downloads if constraints else None,
            max_users=constraints.effective_max_users if constraints else None,
            max_reuses=constraints.effective_max_reuses if constraints else None,
            current_downloads=lpt.current_downloads,
            current_users=lpt.current_users,
            current_reuses=lpt.current_reuses,
            release_details=element.release_details if element else None,
            content_is_editorial_use=element.is_editorial_use if element else None,
            offering_is_editorial_use=lpt.offering.is_editorial_use if lpt.offering else None,
        )

    @property
    def editorial_only(self) -> bool | None:
        """LPT-level "editorial use only": True if any flag says so, False if one says not, else None."""
        flags = (self.content_is_editorial_use, self.offering_is_editorial_use)
        if any(flag is True for flag in flags):
            return True
        if any(flag is False for flag in flags):
            return False
        return None


class ComplianceCriteria(DomainModel):
    """What a regulated channel (EXS-5) accepts; loaded from config and validated there.

    * ``eligible_categories``: the asset must carry at least one of these keys among its
      categories or tags (e.g. ``icon``, ``disclosure_graphic``, ``legal_artwork``); empty = any.
    * ``required_approval_status``: default ``approved``; ``None`` = not checked.
    * ``required_compliance_status``: e.g. ``compliant``; ``None`` = not checked.
    * ``forbid_editorial_use``: editorial-only content is refused (and unknown editorial status is unknown).
    * ``max_age_days``: the asset must be at most this old on the check date (by ``created_at``).
    * ``required_metadata``: asset metadata keys that must be present and non-empty.
    """

    eligible_categories: frozenset[str] = frozenset()
    required_approval_status: ApprovalStatus | None = ApprovalStatus.APPROVED
    required_compliance_status: ComplianceStatus | None = None
    forbid_editorial_use: bool = True
    max_age_days: NonNegativeInt | None = None
    required_metadata: tuple[str, ...] = Field(default=())


class UsageVolume(DomainModel):
    """How often an asset appeared in one communication stream on one day (EXS-7).

    ``region`` is where the documents went (ISO-3166 code or a region key), ``channel`` a
    distribution key when known; ``None`` = not reported, so not checked.
    """

    on_date: UtcDateTime
    stream: str
    volume: PositiveInt
    region: str | None = None
    channel: str | None = None


class UsageThresholds(DomainModel):
    """When usage needs a compliance review (OWS-8); every limit is optional.

    * ``max_volume``: more uses than this in the period is over the threshold;
    * ``max_downloads``: a license downloaded more often than this is over the threshold;
    * ``check_regions``: usage outside the license's regions is suspicious;
    * ``check_expiry``: usage on a day no license term covers (after expiry) is suspicious.
    """

    max_volume: NonNegativeInt | None = None
    max_downloads: NonNegativeInt | None = None
    check_regions: bool = True
    check_expiry: bool = True


class UsageReconciliation(DomainModel):
    """Usage of one asset in a period, compared with its license and the thresholds."""

    asset_id: str | None = None
    total_volume: NonNegativeInt = 0
    by_day: dict[str, dict[str, int]] = Field(default_factory=dict)
    findings: tuple[Reason, ...] = ()

    @property
    def needs_review(self) -> bool:
        return bool(self.findings)

    @property
    def codes(self) -> frozenset[ReasonCode]:
        return frozenset(finding.code for finding in self.findings)
