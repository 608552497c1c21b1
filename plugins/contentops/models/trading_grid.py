"""OpenText Trading Grid payloads: Community Management (sourced) and community posts, partner
cases and co-marketing sign-offs (modelled)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from contentops.models.common import PartnerModel, UtcDateTime


class TradingPartner(PartnerModel):
    """An entry of the partner directory. The three field names the directory's published filters
    use (``partnerCompanyId``, ``partnerCompanyName``, ``tradingAddress``) are sourced; ``region``
    and ``relationshipStatus``, which rights checks and addressing rely on, are modelled."""

    partner_company_id: str = Field(alias="partnerCompanyId")
    partner_company_name: str = Field(alias="partnerCompanyName")
    trading_address: str | None = Field(None, alias="tradingAddress")
    region: str | None = None
    relationship_status: str | None = Field(None, alias="relationshipStatus")


class Community(PartnerModel):
    id: str
    name: str
    region: str | None = None
    entitlement: str | None = None


class CommunityPost(PartnerModel):
    ref: str
    community: str
    title: str
    body: str
    kind: str
    asset_ids: list[str] = Field(default_factory=list)
    published_at: UtcDateTime | None = None
    embargoed_until: UtcDateTime | None = None  # modelled: a kit released ahead of its date


# -- Community Management users and roles (sourced paths and request fields; response shapes modelled)


class TradingGridUser(PartnerModel):
    """A user of our company in Trading Grid (``/companies/{companyId}/users``).

    The collection description names ``userId``, ``loginId``, ``email``, ``firstName`` and
    ``lastName`` in the user list; the create body's fields (``contactInformation`` …) are kept
    as extra fields. Roles are fetched by ``loginId``, which a user may change.
    """

    user_id: str = Field(alias="userId")
    login_id: str = Field(alias="loginId")
    first_name: str | None = Field(None, alias="firstName")
    last_name: str | None = Field(None, alias="lastName")
    email: str | None = None
    unique_id: str | None = Field(None, alias="uniqueId")


class TradingGridRole(PartnerModel):
    role_name: str = Field(alias="roleName")


# -- partner cases and requests (modelled: Active Community has no public case API) -------------


class CaseType(StrEnum):
    """What a partner files: requests (OTG-2) and reports about an asset (OTG-6)."""

    ASSET_REQUEST = "asset_request"
    RIGHTS_CLARIFICATION = "rights_clarification"
    MISSING_FILE = "missing_file"
    BROKEN_LINK = "broken_link"
    WRONG_METADATA = "wrong_metadata"
    QUALITY_PROBLEM = "quality_problem"


#: Requests routed into Smint.io for review, approval and delivery (OTG-2).
REQUEST_TYPES: frozenset[CaseType] = frozenset({CaseType.ASSET_REQUEST, CaseType.RIGHTS_CLARIFICATION})
#: Reports that become correction cases linked to a Smint.io asset (OTG-6).
REPORT_TYPES: frozenset[CaseType] = frozenset(
    {CaseType.MISSING_FILE, CaseType.BROKEN_LINK, CaseType.WRONG_METADATA, CaseType.QUALITY_PROBLEM}
)


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_ON_PARTNER = "waiting_on_partner"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"


class AssetKind(StrEnum):
    """What an asset request asks for."""

    LOGO = "logo"
    IMAGE = "image"
    LOCALIZED_ARTWORK = "localized_artwork"


class CaseDetails(PartnerModel):
    """The type-specific part of a case, as the partner filled it in."""

    asset_id: str | None = Field(None, min_length=1)
    asset_kind: AssetKind | None = None
    campaign: str | None = None
    language: str | None = None
    region: str | None = None
    channel: str | None = None
    url: str | None = None
    field: str | None = None
    expected_value: str | None = None


class CaseLink(PartnerModel):
    ref: str
    system: str
    asset_id: str
    version: int | None = None
    relation: str


class CaseComment(PartnerModel):
    ref: str
    case_id: str
    author: str
    body: str
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    created_at: UtcDateTime | None = None


class PartnerCase(PartnerModel):
    """A partner request or case. Validation is strict on what routing needs: a report must name
    the asset it is about, an asset request what kind of asset it wants."""

    id: str = Field(min_length=1)
    type: CaseType
    status: CaseStatus
    partner_company_id: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    description: str | None = None
    submitted_by: str | None = None
    revision: int = Field(1, ge=1)
    details: CaseDetails = Field(default_factory=CaseDetails)
    links: list[CaseLink] = Field(default_factory=list)
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @model_validator(mode="after")
    def _routable(self) -> PartnerCase:
        if self.type in REPORT_TYPES and not self.details.asset_id:
            raise ValueError(f"a {self.type.value} case must name the asset (details.asset_id)")
        if self.type is CaseType.ASSET_REQUEST and self.details.asset_kind is None:
            raise ValueError("an asset request must say which kind of asset (details.asset_kind)")
        return self


# -- co-marketing sign-off (modelled) -----------------------------------------------------------


class SignoffDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    CHANGES_REQUESTED = "changes_requested"


class SignoffItem(PartnerModel):
    asset_id: str
    version: str
    name: str | None = None


class SignoffResponse(PartnerModel):
    """One partner's answer to a sign-off request."""

    partner_company_id: str = Field(min_length=1)
    decision: SignoffDecision
    login_id: str | None = None
    comment: str | None = None
    responded_at: UtcDateTime
    #: the revision of the request answered (*modelled*; absent = the first)
    revision: int = Field(1, ge=1)
    #: the item the answer is about (*modelled*; absent = the whole kit)
    asset_id: str | None = None


class SignoffRequest(PartnerModel):
    """A template/logo kit sent to a community's partners for sign-off. ``responses`` stay raw
    here: each is validated on its own, so one malformed answer does not hide the others."""

    ref: str
    community: str
    title: str
    message: str | None = None
    items: list[SignoffItem]
    partners: list[str] = Field(default_factory=list)
    responses: list[dict[str, Any]] = Field(default_factory=list)
    status: str = "pending"
    #: grows when other items are sent under the same reference (*modelled*)
    revision: int = Field(1, ge=1)
    #: our files on the request, by our reference: ``{name, content_type, sha256, size, uploaded_at}``
    attachments: dict[str, dict[str, Any]] = Field(default_factory=dict)
    #: our answers on the request, by our reference
    comments: list[dict[str, Any]] = Field(default_factory=list)
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
