"""The campaign release's settings (``include/config/campaign_release.yaml``).

Channels per target, approval routing per agency client (OWS-1, OWS-7), where VIP shows an asset
(VIP-1/3/5), how agencies' final deliverables are recognised (VIP-7) and the regulated Exstream
domains (EXS-5).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contentops.models.domain import ComplianceCriteria
from contentops.models.smintio import Asset, ComplianceStatus
from contentops.targets import TargetSystem


class ClientWorkflows(BaseModel):
    """An agency client's own workflows (OWS-7): approval, usage review and escalation.

    ``usage_review`` is the model the client signs off license usage restrictions in (editorial
    use only, restricted usages, a license limited to certain channels) before the agency
    releases such an asset; ``escalation`` the model started when the client's approval is still
    open ``escalate_after_hours`` after it started, measured against the run's window (so a
    backfill decides as the run of that day would have). Both are optional.
    """

    model_config = ConfigDict(extra="forbid")

    approval: str
    usage_review: str | None = None
    escalation: str | None = None
    escalate_after_hours: float = Field(48.0, gt=0)

    def escalation_due(self, started: datetime | None, window_end: datetime) -> bool:
        """Is an approval that started at ``started`` overdue by the end of the run's window?"""
        if self.escalation is None or started is None:
            return False
        return started + timedelta(hours=self.escalate_after_hours) <= window_end


class ApprovalRouting(BaseModel):
    """Which approval workflow an asset goes through (OWS-1, OWS-7).

    ``clients`` maps an agency client (a campaign's ``client`` in Smint.io) to that client's
    workflows: the name of its approval model alone, or :class:`ClientWorkflows` with its
    usage review and escalation models. Every other campaign uses ``default_workflow`` and
    has neither usage review nor escalation.
    """

    model_config = ConfigDict(extra="forbid")

    default_workflow: str = "asset_approval"
    clients: dict[str, ClientWorkflows] = Field(default_factory=dict)

    @field_validator("clients", mode="before")
    @classmethod
    def _approval_model_alone(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"approval": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    def client(self, client: str | None) -> ClientWorkflows | None:
        return self.clients.get(client or "")

    def workflow_for(self, client: str | None) -> str:
        own = self.client(client)
        return own.approval if own is not None else self.default_workflow

    def usage_review_for(self, client: str | None) -> str | None:
        own = self.client(client)
        return own.usage_review if own is not None else None


class VipSettings(BaseModel):
    """Where VIP distributes an asset (VIP-1/3/5): as media of the catalog items it shows.

    VIP's item catalog holds the products a supplier sells through its distributors; an asset
    shows some of them. The item codes are in the asset's metadata key ``item_key`` (one or a
    list); an asset naming none shows its campaign's items (``campaign_items``). The media is
    available to the retailer-data parties of the ``audience`` kinds in the regions the
    asset's rights allow.
    """

    model_config = ConfigDict(extra="forbid")

    item_key: str = "vip_items"
    campaign_items: dict[str, list[str]] = Field(default_factory=dict)
    audience: tuple[str, ...] = ("distributor", "retailer", "regional_team", "agency", "publishing_partner")

    def items_of(self, asset: Asset, campaign: str) -> list[str]:
        """The catalog items the asset shows (its own metadata first, else its campaign's)."""
        named = asset.metadata.get(self.item_key)
        if named:
            return list(dict.fromkeys(str(i) for i in (named if isinstance(named, list) else [named]) if i))
        return list(dict.fromkeys(self.campaign_items.get(campaign, [])))


class DeliverableSettings(BaseModel):
    """Agencies' final deliverables (VIP-7): how they are recognised and who VIP makes them available to.

    A final deliverable is a Smint.io asset an agency derived from approved masters: it names
    its master (``master_asset_id``, further ones in the metadata key ``master_asset_ids``),
    carries ``tag`` and the agency in the metadata key ``agency_key``. It becomes media of the
    catalog items it shows (as any asset, :class:`VipSettings`), available only to the parties
    of ``recipient_kinds`` in the regions its masters' licenses allow for a derivative, on ``channel``.
    """

    model_config = ConfigDict(extra="forbid")

    tag: str = "deliverable:final"
    agency_key: str = "agency"
    recipient_kinds: tuple[str, ...] = ("publishing_partner", "media_partner", "franchise_network")
    channel: str = "online"

    def is_deliverable(self, asset: Asset) -> bool:
        return self.tag in asset.tags

    def masters_of(self, asset: Asset) -> list[str]:
        """The masters a deliverable was derived from (its own ``master_asset_id`` first)."""
        extra = asset.metadata.get("master_asset_ids") or []
        named = [asset.master_asset_id, *(extra if isinstance(extra, list) else [extra])]
        return list(dict.fromkeys(str(m) for m in named if m))

    def agency_of(self, asset: Asset) -> str | None:
        agency = asset.metadata.get(self.agency_key)
        return str(agency) if agency else None


def _default_regulated() -> dict[str, ComplianceCriteria]:
    return {
        "insurance": ComplianceCriteria(
            eligible_categories=frozenset({"icon", "logo", "disclosure_graphic", "legal_artwork"}),
            required_compliance_status=ComplianceStatus.COMPLIANT,
        )
    }


class CampaignReleaseSettings(BaseModel):
    """``include/config/campaign_release.yaml``: channels per target, approval routing, regulated domains.

    ``channels`` are Smint.io distribution keys the rights gate checks each target against
    (VIP and Trading Grid hand content on for online use; Exstream prints it into customer
    correspondence). ``regulated_domains`` are Exstream domains where only assets meeting the
    compliance criteria may be published (EXS-5).
    """

    model_config = ConfigDict(extra="forbid")

    channels: dict[str, str] = Field(
        default_factory=lambda: {
            TargetSystem.VIP.value: "online",
            TargetSystem.TRADING_GRID.value: "online",
            TargetSystem.EXSTREAM.value: "direct_mail",
        }
    )
    approval: ApprovalRouting = Field(default_factory=ApprovalRouting)
    vip: VipSettings = Field(default_factory=lambda: VipSettings())
    deliverables: DeliverableSettings = Field(default_factory=lambda: DeliverableSettings())
    regulated_domains: dict[str, ComplianceCriteria] = Field(default_factory=_default_regulated)
    kit_ref: str = "kit-{campaign}"
    #: how many days ahead of a campaign's release date a run selecting by date releases it
    #: (under embargo until the date); the DAG's ``lead_days`` Param overrides it per run
    lead_days: int = Field(3, ge=0, le=365)


def load_release_settings() -> CampaignReleaseSettings:
    from contentops.config import load_settings

    return load_settings("campaign_release", CampaignReleaseSettings)
