"""VIP (vtinfo): B2B commerce and distribution for beverage and consumer-goods suppliers,
distributors and retailers.

Sourced (docs/systems/vip.md): VIP's REST API is organised in modules — item catalog, order
management, pricing, payments and retailer data — and authenticates with OAuth 2.0
authorization code through the customer's ADFS. contentops uses two of them:

- **retailer data**: who is in which region (:meth:`VipHook.iter_parties`);
- **item catalog**: approved assets become the media of the catalog items they show, available
  to the parties of the regions their rights allow (:meth:`VipHook.put_media` and the media
  methods); localized variants come back as media regional teams attach to items
  (:meth:`VipHook.iter_returns`); content VIP holds is the media on its items
  (:meth:`VipHook.iter_catalog`).

Modelled (no public source shows paths or payloads): every path in
:attr:`VipHook.default_paths`, overridable per connection (extra ``paths``). Writes are
PUT-style by our own references (media ref = Smint.io asset id), so repeating one is harmless.

Connection (conn_type ``vip``): host = the VIP API base URL, login/password = the ADFS client
id/secret, extra ``refresh_token`` (from the one-time authorization) and ``token_url``
(default ``{host}/adfs/oauth2/token``). Rotated refresh tokens are kept like Smint.io's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from contentops import lineage
from contentops.hooks.base import OnInvalid, RefreshTokenHook, iter_validated
from contentops.hooks.errors import PartnerAPIError
from contentops.hooks.transport import DownloadResult
from contentops.models.vip import (
    CATALOG_KINDS,
    RETURN_KIND,
    CatalogEntry,
    CatalogItem,
    ItemMedia,
    Party,
    Return,
    UsageControls,
)


class VipHook(RefreshTokenHook):
    conn_name_attr: ClassVar[str] = "vip_conn_id"
    default_conn_name: ClassVar[str] = "vip_default"
    conn_type: ClassVar[str] = "vip"
    hook_name: ClassVar[str] = "VIP"
    system: ClassVar[str] = "vip"
    health_path: ClassVar[str | None] = "items"
    default_paths: ClassVar[dict[str, str]] = {
        # retailer data
        "parties": "api/v1/retailers",
        # item catalog: items, and the media attached to them
        "items": "api/v1/items",
        "item": "api/v1/items/{item_id}",
        "media": "api/v1/items/{item_id}/media/{media_ref}",
        "media_content": "api/v1/items/{item_id}/media/{media_ref}/content",
        "media_withdraw": "api/v1/items/{item_id}/media/{media_ref}/withdraw",
        "media_usage": "api/v1/items/{item_id}/media/{media_ref}/usage-controls",
        # media across the catalogue (by attach or change time), one by VIP's media id
        "all_media": "api/v1/item-media",
        "media_by_id": "api/v1/item-media/{media_id}",
        "media_by_id_content": "api/v1/item-media/{media_id}/content",
        "media_review": "api/v1/item-media/{media_id}/review",
    }

    def __init__(self, vip_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(vip_conn_id, **kwargs)

    def token_url(self) -> str:
        return str(self.extra.get("token_url") or f"{self.base_url()}/adfs/oauth2/token")

    def test_connection(self) -> tuple[bool, str]:
        """Check the OAuth client and the item catalog (a module VIP publishes) without spending
        the rotating refresh token (see :meth:`test_client_credentials`): the catalog is asked
        for one item without a token, and a protected API answers that with 401/403."""
        try:
            transport = self.transport  # builds the auth: fails on a missing client id/secret/token
            refused = self.test_client_credentials(transport)
            if refused is not None:
                return False, refused
            url = f"{self.base_url()}/{self.path('items')}"
            response = transport.request(
                "GET", url, params={"offset": 0, "limit": 1}, authenticated=False, expected=(401, 403, 404)
            )
        except PartnerAPIError as exc:
            return False, str(exc)
        if response.status_code not in (401, 403):
            return False, (
                f"GET {transport.redact_url(url)} answered {response.status_code} without a token where the item "
                "catalog asks for one: check the host, or the path in the connection's extra 'paths' (key 'items')"
            )
        return True, (
            f"VIP accepted the client at {transport.redact_url(self.token_url())} and its item catalog answers at "
            f"{transport.redact_url(url)}. The refresh token was not used (VIP spends it on every use and a test "
            "could not keep the new one): the first task run uses it."
        )

    # -- retailer data ----------------------------------------------------------------------
    def iter_parties(
        self, *, region: str | None = None, kind: str | None = None, page_size: int = 50
    ) -> Iterator[Party]:
        """The parties of the retailer data, optionally of one region and kind."""
        params = {k: v for k, v in (("region", region), ("type", kind)) if v}
        lineage.read(self, "retailers")
        for item in self._iter_items("parties", params or None, page_size):
            yield Party.model_validate(item)

    # -- item catalog -------------------------------------------------------------------------
    def iter_items(self, *, page_size: int = 50) -> Iterator[CatalogItem]:
        for item in self._iter_items("items", None, page_size):
            yield CatalogItem.model_validate(item)

    def get_item(self, item_id: str) -> CatalogItem:
        return CatalogItem.model_validate(self.transport.json("GET", self.path("item", item_id=item_id)))

    def put_media(
        self,
        item_id: str,
        media_ref: str,
        *,
        asset_id: str,
        version: int,
        file_name: str,
        content_type: str,
        usage_controls: UsageControls,
        available_to: list[str],
        approval_status: str = "approved",
        campaign_tags: list[str] | None = None,
        license_summary: str | None = None,
        agency: str | None = None,
        derived_from: list[str] | None = None,
        attributes: dict[str, Any] | None = None,
        available_from: datetime | None = None,
    ) -> ItemMedia:
        """Attach media to an item under our reference, or update it to a new asset version (a
        replacement of that media, not a second one). ``available_to`` are retailer-data parties.

        ``agency`` / ``derived_from`` are set on an agency's final deliverable: who made it and
        from which master assets. ``attributes`` describe the asset to VIP's buyers
        (``mappings/vip_media.yaml``); sent only when there are some. ``available_from``
        (*modelled*) is an embargo: VIP holds the media but serves it to retailers only from that
        moment (a release ahead of its date)."""
        body: dict[str, Any] = {
            "asset_id": asset_id,
            "version": version,
            "file_name": file_name,
            "content_type": content_type,
            "usage_controls": usage_controls.model_dump(mode="json"),
            "available_to": list(available_to),
            "approval_status": approval_status,
            "campaign_tags": campaign_tags or [],
            "license_summary": license_summary,
        }
        if agency is not None:
            body.update(agency=agency, derived_from=list(derived_from or []))
        if attributes:
            body["attributes"] = dict(attributes)
        if available_from is not None:
            body["available_from"] = available_from.isoformat()
        path = self.path("media", item_id=item_id, media_ref=media_ref)
        media = ItemMedia.model_validate(self.transport.json("PUT", path, json=body))
        lineage.wrote(self, "items", item_id, "media", media_ref)
        return media

    def get_media(self, item_id: str, media_ref: str) -> ItemMedia:
        path = self.path("media", item_id=item_id, media_ref=media_ref)
        return ItemMedia.model_validate(self.transport.json("GET", path))

    def upload_media_content(
        self, item_id: str, media_ref: str, source: Path | IO[bytes], content_type: str
    ) -> ItemMedia:
        path = self.path("media_content", item_id=item_id, media_ref=media_ref)
        media = ItemMedia.model_validate(self.transport.upload("PUT", path, source, content_type=content_type).json())
        lineage.wrote(self, "items", item_id, "media", media_ref)
        return media

    def withdraw_media(self, item_id: str, media_ref: str, reason: str) -> ItemMedia:
        path = self.path("media_withdraw", item_id=item_id, media_ref=media_ref)
        media = ItemMedia.model_validate(self.transport.json("POST", path, json={"reason": reason}, idempotent=True))
        lineage.wrote(self, "items", item_id, "media", media_ref)
        return media

    def restrict_media(self, item_id: str, media_ref: str, usage_controls: UsageControls) -> ItemMedia:
        path = self.path("media_usage", item_id=item_id, media_ref=media_ref)
        body = usage_controls.model_dump(mode="json")
        media = ItemMedia.model_validate(self.transport.json("PATCH", path, json=body, idempotent=True))
        lineage.wrote(self, "items", item_id, "media", media_ref)
        return media

    # -- returns: media regional teams attached for review ---------------------------------------
    def iter_returns(
        self, since: datetime | None = None, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Return]:
        """Localized variants regional teams attached to items after ``since`` (the cursor)."""
        params: dict[str, Any] = {"kind": RETURN_KIND, "attached_by_type": "regional_team"}
        if since is not None:
            params["attached_since"] = since.isoformat()
        lineage.read(self, "item-media")
        yield from iter_validated(self._iter_items("all_media", params, page_size), Return, "VIP return", on_invalid)

    def get_return(self, return_id: str) -> Return:
        return Return.model_validate(self.transport.json("GET", self.path("media_by_id", media_id=return_id)))

    def set_return_status(self, return_id: str, status: str, reason: str | None = None) -> Return:
        returned = Return.model_validate(
            self.transport.json(
                "PATCH",
                self.path("media_review", media_id=return_id),
                json={"review_status": status, "note": reason},
                idempotent=True,
            )
        )
        lineage.wrote(self, "item-media", return_id)
        return returned

    # -- content VIP holds: media on its items ------------------------------------------------
    def iter_catalog(
        self,
        *,
        changed_since: datetime | None = None,
        changed_before: datetime | None = None,
        kind: str | None = None,
        page_size: int = 50,
        on_invalid: OnInvalid | None = None,
    ) -> Iterator[CatalogEntry]:
        """Media of the catalogue kinds changed in ``[changed_since, changed_before)``, oldest
        change first; one that fails validation goes to ``on_invalid`` (quarantine) instead of
        stopping the listing."""
        params: dict[str, Any] = {"kind": kind or ",".join(CATALOG_KINDS)}
        if changed_since is not None:
            params["changed_since"] = changed_since.isoformat()
        if changed_before is not None:
            params["changed_before"] = changed_before.isoformat()
        lineage.read(self, "item-media")
        yield from iter_validated(
            self._iter_items("all_media", params, page_size), CatalogEntry, "VIP catalogue entry", on_invalid
        )

    def get_catalog_entry(self, entry_id: str) -> CatalogEntry:
        return CatalogEntry.model_validate(self.transport.json("GET", self.path("media_by_id", media_id=entry_id)))

    def download_catalog_content(
        self, entry: CatalogEntry, sink: Path | IO[bytes], *, max_bytes: int | None = None
    ) -> DownloadResult:
        """Stream an entry's file into ``sink``. The link is partner input and the download needs
        VIP's token, so it is confined to VIP's own origin (:meth:`download_partner_file`): a
        ``download_url`` pointing elsewhere is refused, never requested."""
        url = entry.download_url or self.transport.url_for(self.path("media_by_id_content", media_id=entry.id))
        result = self.download_partner_file(url, sink, max_bytes=max_bytes)
        lineage.read(self, "item-media", entry.id)
        return result

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
