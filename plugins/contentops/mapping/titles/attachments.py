"""What is attached to a Consonance title (S -> C): the attachment, its rights record and the
stable references and content version that make each attachment happen once.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from typing import Any

from pydantic import Field

from contentops.mapping.titles.clearance import rights_summary
from contentops.mapping.titles.pairing import FormatPairing, PairingRules, asset_role
from contentops.mapping.titles.records import BookFormat, TitleRecord
from contentops.models.common import DomainModel
from contentops.models.domain import UsageRights
from contentops.models.smintio import Asset


class Attachment(DomainModel):
    """What is attached to a title record: the asset, its pairing and release timing, its rights."""

    work_id: str
    asset_id: str
    asset_name: str | None = None
    role: str
    format: BookFormat | None = None
    isbn: str | None = None
    product_id: str | None = None
    release_date: date | None = None
    announce_from: date | None = None
    match_rule: str | None = None
    license: str | None = None
    rights: dict[str, Any] = Field(default_factory=dict)
    binaries: tuple[str, ...] = ()

    @property
    def slot(self) -> str:
        """The title-side target of the attachment: one per (title, format)."""
        return f"{self.work_id}:{self.format.value if self.format else 'all'}"

    def payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def build_attachment(
    title: TitleRecord,
    asset: Asset,
    pairing: FormatPairing,
    usage: UsageRights | None,
    *,
    license_version: int | None = None,
    match_rule: str | None = None,
) -> Attachment:
    return Attachment(
        work_id=title.work_id,
        asset_id=asset.id,
        asset_name=asset.name,
        role=asset_role(asset),
        format=pairing.format,
        isbn=pairing.isbn,
        product_id=pairing.product_id,
        release_date=pairing.release_date,
        announce_from=pairing.announce_from,
        match_rule=match_rule,
        license=asset.license_purchase_transaction_uuid,
        rights=rights_summary(usage, license_version=license_version),
        binaries=tuple(f"{b.id}@{b.version or 1}:{b.sha256 or ''}" for b in sorted(asset.binaries, key=lambda b: b.id)),
    )


_PRINT_RUN = re.compile(r"print_run_(\d+)")


def usage_rights_record(attachment: Attachment) -> dict[str, Any]:
    """The usage-rights summary as the title record keeps it (CON-1, CON-6): one readable line,
    the license, its end, territories and channels, the editions it is cleared for and the
    print run its terms allow (the smallest ``print_run_<n>`` usage limit; ``None`` = not stated)."""
    summary = attachment.rights
    if not summary.get("known"):
        line = "No license terms known"
    else:
        territories = ", ".join(summary.get("territories") or []) if summary.get("territories") is not None else "?"
        channels = ", ".join(summary.get("channels") or []) if summary.get("channels") is not None else "?"
        until = (summary.get("expires") or "")[:10] or "no end date"
        provider = summary.get("provider") or "licensed"
        line = (
            f"{provider} license {summary.get('license')}: territories {territories}; "
            f"channels {channels}; until {until}"
        )
    runs = [
        int(match.group(1))
        for term in summary.get("terms") or []
        for limit in term.get("usage_limits") or []
        if (match := _PRINT_RUN.fullmatch(str(limit)))
    ]
    edition = (
        f"{attachment.format.value} {attachment.isbn}" if attachment.format and attachment.isbn else "all editions"
    )
    return {
        "summary": line,
        "license_reference": summary.get("license"),
        "valid_until": summary.get("expires"),
        "territories": list(summary.get("territories") or []),
        "channels": list(summary.get("channels") or []),
        "editions": [edition],
        "print_run": min(runs) if runs else None,
    }


def resource_reference(asset_id: str) -> str:
    """Our reference of an asset attached to a title: stable across asset versions, so a new
    version updates the same supporting resource instead of adding a second one."""
    return f"smintio-asset-{asset_id}"


def pairing_reference(attachment: Attachment, rules: PairingRules | None = None) -> str:
    """Our reference of a format pairing: one per role of a singular role (a new jacket replaces
    the old one's pairing), one per asset otherwise (several promo graphics)."""
    rules = rules or PairingRules()
    if attachment.role in rules.singular_roles:
        return f"smintio-{attachment.role}"
    return f"smintio-{attachment.role}-{attachment.asset_id}"


def attachment_version(attachment: Attachment) -> str:
    """A content version: a changed file, license, pairing or release date is a new version (an
    update of the attachment); a metadata change on the asset alone is not."""
    body = attachment.model_dump(mode="json", exclude={"asset_name"})
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return digest[:16]
