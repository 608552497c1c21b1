"""VIP (vtinfo): controlled distribution of approved, rights-cleared content to partners.

Sourced: VIP's REST API authenticates with OAuth 2.0 authorization code through the customer's
ADFS. Modelled (the endpoint list is not public; docs/systems/vip.md): every path in
:attr:`VipHook.default_paths`, overridable per connection. Writes are PUT-style by our own
references (package = campaign/target, item = asset), so repeating one is harmless. The
catalogue of content VIP itself holds (listed by change time, files on VIP's own host) is
modelled the same way.

Connection (conn_type ``vip``): host = the VIP API base URL, login/password = the ADFS client
id/secret, extra ``refresh_token`` (from the one-time authorization) and ``token_url``
(default ``{host}/adfs/oauth2/token``). Rotated refresh tokens are kept like Smint.io's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from contentops.hooks.base import OnInvalid, RefreshTokenHook, iter_validated
from contentops.hooks.transport import DownloadResult
from contentops.models.vip import CatalogEntry, DistributionPackage, PackageItem, Recipient, Return, UsageControls


class VipHook(RefreshTokenHook):
    conn_name_attr: ClassVar[str] = "vip_conn_id"
    default_conn_name: ClassVar[str] = "vip_default"
    conn_type: ClassVar[str] = "vip"
    hook_name: ClassVar[str] = "VIP"
    system: ClassVar[str] = "vip"
    health_path: ClassVar[str | None] = "recipients"
    default_paths: ClassVar[dict[str, str]] = {
        "recipients": "api/v1/recipients",
        "package": "api/v1/packages/{package_ref}",
        "item": "api/v1/packages/{package_ref}/items/{item_ref}",
        "item_content": "api/v1/packages/{package_ref}/items/{item_ref}/content",
        "item_withdraw": "api/v1/packages/{package_ref}/items/{item_ref}/withdraw",
        "item_usage": "api/v1/packages/{package_ref}/items/{item_ref}/usage-controls",
        "deliveries": "api/v1/packages/{package_ref}/deliveries",
        "returns": "api/v1/returns",
        "return": "api/v1/returns/{return_id}",
        "catalog": "api/v1/catalog",
        "catalog_entry": "api/v1/catalog/{entry_id}",
        "catalog_content": "api/v1/catalog/{entry_id}/content",
    }

    def __init__(self, vip_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(vip_conn_id, **kwargs)

    def token_url(self) -> str:
        return str(self.extra.get("token_url") or f"{self.base_url()}/adfs/oauth2/token")

    # -- recipients and packages ----------------------------------------------------------
    def iter_recipients(self, *, region: str | None = None, page_size: int = 50) -> Iterator[Recipient]:
        params = {"region": region} if region else None
        for item in self.transport.iter_offset(
            self.path("recipients"),
            items=lambda p: p["items"],
            page_size=page_size,
            count_param="limit",
            params=params,
            total=lambda p: p.get("total"),
        ):
            yield Recipient.model_validate(item)

    def put_package(
        self, package_ref: str, *, name: str, campaign: str | None, recipients: list[str], tags: list[str] | None = None
    ) -> DistributionPackage:
        """Create or update a package under our own reference (PUT: safe to repeat)."""
        body = {"name": name, "campaign": campaign, "recipients": recipients, "tags": tags or []}
        return DistributionPackage.model_validate(
            self.transport.json("PUT", self.path("package", package_ref=package_ref), json=body)
        )

    def get_package(self, package_ref: str) -> DistributionPackage:
        return DistributionPackage.model_validate(
            self.transport.json("GET", self.path("package", package_ref=package_ref))
        )

    def put_item(
        self,
        package_ref: str,
        item_ref: str,
        *,
        asset_id: str,
        version: int,
        file_name: str,
        content_type: str,
        usage_controls: UsageControls,
        approval_status: str = "approved",
        campaign_tags: list[str] | None = None,
        license_summary: str | None = None,
        agency: str | None = None,
        derived_from: list[str] | None = None,
    ) -> PackageItem:
        """Create the item, or update it to a new asset version (a replacement, not a second item).

        ``agency`` / ``derived_from`` are set on an agency's final deliverable: who made it and
        from which master assets (modelled)."""
        body: dict[str, Any] = {
            "asset_id": asset_id,
            "version": version,
            "file_name": file_name,
            "content_type": content_type,
            "usage_controls": usage_controls.model_dump(mode="json"),
            "approval_status": approval_status,
            "campaign_tags": campaign_tags or [],
            "license_summary": license_summary,
        }
        if agency is not None:
            body.update(agency=agency, derived_from=list(derived_from or []))
        return PackageItem.model_validate(
            self.transport.json("PUT", self.path("item", package_ref=package_ref, item_ref=item_ref), json=body)
        )

    def get_item(self, package_ref: str, item_ref: str) -> PackageItem:
        return PackageItem.model_validate(
            self.transport.json("GET", self.path("item", package_ref=package_ref, item_ref=item_ref))
        )

    def upload_item_content(
        self, package_ref: str, item_ref: str, source: Path | IO[bytes], content_type: str
    ) -> PackageItem:
        response = self.transport.upload(
            "PUT",
            self.path("item_content", package_ref=package_ref, item_ref=item_ref),
            source,
            content_type=content_type,
        )
        return PackageItem.model_validate(response.json())

    def withdraw_item(self, package_ref: str, item_ref: str, reason: str) -> PackageItem:
        return PackageItem.model_validate(
            self.transport.json(
                "POST",
                self.path("item_withdraw", package_ref=package_ref, item_ref=item_ref),
                json={"reason": reason},
                idempotent=True,
            )
        )

    def restrict_item(self, package_ref: str, item_ref: str, usage_controls: UsageControls) -> PackageItem:
        return PackageItem.model_validate(
            self.transport.json(
                "PATCH",
                self.path("item_usage", package_ref=package_ref, item_ref=item_ref),
                json=usage_controls.model_dump(mode="json"),
                idempotent=True,
            )
        )

    def deliveries(self, package_ref: str) -> list[dict[str, Any]]:
        return list(self.transport.json("GET", self.path("deliveries", package_ref=package_ref))["items"])

    # -- returns ----------------------------------------------------------------------------
    def iter_returns(
        self, since: datetime | None = None, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Return]:
        params = {"since": since.isoformat()} if since else None
        yield from iter_validated(self._iter_items("returns", params, page_size), Return, "VIP return", on_invalid)

    def set_return_status(self, return_id: str, status: str, reason: str | None = None) -> Return:
        return Return.model_validate(
            self.transport.json(
                "PATCH",
                self.path("return", return_id=return_id),
                json={"status": status, "reason": reason},
                idempotent=True,
            )
        )

    # -- the catalogue of VIP-held content (modelled) -------------------------------------------
    def iter_catalog(
        self,
        *,
        changed_since: datetime | None = None,
        changed_before: datetime | None = None,
        kind: str | None = None,
        page_size: int = 50,
        on_invalid: OnInvalid | None = None,
    ) -> Iterator[CatalogEntry]:
        """Entries changed in ``[changed_since, changed_before)``, oldest change first; an entry
        that fails validation goes to ``on_invalid`` (quarantine) instead of stopping the listing."""
        params: dict[str, Any] = {}
        if changed_since is not None:
            params["changed_since"] = changed_since.isoformat()
        if changed_before is not None:
            params["changed_before"] = changed_before.isoformat()
        if kind is not None:
            params["kind"] = kind
        yield from iter_validated(
            self._iter_items("catalog", params, page_size), CatalogEntry, "VIP catalogue entry", on_invalid
        )

    def _iter_items(self, path: str, params: dict[str, Any] | None, page_size: int) -> Iterator[Any]:
        """The raw ``items`` of a VIP list endpoint (offset paging with ``limit``), page after page."""
        return self.transport.iter_offset(
            self.path(path),
            items=lambda p: p["items"],
            page_size=page_size,
            count_param="limit",
            params=params,
            total=lambda p: p.get("total"),
        )

    def get_catalog_entry(self, entry_id: str) -> CatalogEntry:
        return CatalogEntry.model_validate(self.transport.json("GET", self.path("catalog_entry", entry_id=entry_id)))

    def download_catalog_content(
        self, entry: CatalogEntry, sink: Path | IO[bytes], *, max_bytes: int | None = None
    ) -> DownloadResult:
        """Stream an entry's file into ``sink``. The link is partner input and the download needs
        VIP's token, so it is confined to VIP's own origin (:meth:`download_partner_file`): a
        ``download_url`` pointing elsewhere is refused, never requested."""
        url = entry.download_url or self.transport.url_for(self.path("catalog_content", entry_id=entry.id))
        return self.download_partner_file(url, sink, max_bytes=max_bytes)
