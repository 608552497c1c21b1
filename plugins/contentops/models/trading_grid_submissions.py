"""Trading Grid partner submissions and our replies (modelled: Active Community publishes no API
for them; see docs/systems/trading_grid.md). Kept apart from the community and case models so
the localization loop's shapes change on their own."""

from __future__ import annotations

from pydantic import Field

from contentops.models.common import PartnerModel, UtcDateTime


class SubmissionFile(PartnerModel):
    """The file a partner attached: its metadata as the partner declared it, and where to get it."""

    name: str
    content_type: str = Field(alias="contentType")
    size: int = Field(ge=0)
    download_url: str = Field(alias="downloadUrl")


class SubmissionReply(PartnerModel):
    ref: str
    status: str
    message: str
    asset_id: str | None = Field(None, alias="assetId")
    version: int | None = None
    at: UtcDateTime | None = None


class PartnerSubmission(PartnerModel):
    """Localization feedback from a trading partner: a translation, localized variant or resized
    derivative of one of our masters (validated before any use)."""

    id: str
    partner_company_id: str = Field(alias="partnerCompanyId")
    community: str | None = None
    kind: str = "localized_variant"
    master_asset_id: str = Field(alias="masterAssetId")
    language: str | None = None
    region: str | None = None
    comment: str | None = None
    status: str
    submitted_at: UtcDateTime = Field(alias="submittedAt")
    file: SubmissionFile
    replies: list[SubmissionReply] = Field(default_factory=list)
