"""OpenText Trading Grid payloads: Community Management (sourced) and community posts (modelled)."""

from __future__ import annotations

from pydantic import Field

from contentops.models.common import PartnerModel, UtcDateTime


class TradingPartner(PartnerModel):
    partner_company_id: str = Field(alias="partnerCompanyId")
    partner_company_name: str = Field(alias="partnerCompanyName")
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
