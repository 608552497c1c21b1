"""Smint.io: the hub of every pipeline — licenses (CLAPI-C) and assets (Portals backend).

Sourced (public Smint.io integration code, see docs/systems/smintio.md): OAuth2 against
``https://{tenant}.smint.io/connect/token`` with a refresh token that rotates (form POST,
``grant_type=refresh_token``), 401/403 answered by one refresh and a replay, the CLAPI-C base
URL ``https://{tenant}.clapi.smint.io/consumer/v1``, the license purchase transaction feed
paged by ``continuation_uuid`` until ``count == 0``, items whose ``can_be_synced`` is not
``true`` skipped while still advancing the cursor, signed binary URLs valid for up to an hour, and CLAPI-C's
Pusher channel authorization path (``notifications/pusher/auth``), which the connection
form's Test button uses because it is the one CLAPI-C path the public code names, and the push
channel itself (Pusher app key, cluster ``eu``, private channel ``private-2-{ChannelId}``, event
``global-transaction-history-update``; a ``ChannelId`` of 0 or less means no push), which
:mod:`contentops.triggers.smintio_push` listens on.

Modelled (the specs are private): the HTTP paths of the CLAPI-C sync operations and the Portals
backend (``https://{tenant}.portalsapib.smint.io/backend/v1``) write side — approval status,
metadata and tags, derivatives, retirement, "assets changed since", an asset's file by asset
and binary id, and campaigns (release date, regions, segments, agency client). Every path is in
:attr:`SmintioHook.default_paths` and can be overridden by the connection's extra ``paths``.

Connection (conn_type ``smintio``): host = tenant id (or leave the tenant in extra
``tenant``), login = client id, password = client secret, extra ``refresh_token``; optional
extra ``token_url``, ``clapi_url``, ``portals_url`` (the sandbox connection sets all three)
extra ``channel_id`` (the tenant's Pusher channel id; missing or <= 0 = no push, polling only)
and ``pusher_url`` (default Pusher's ``wss://ws-eu.pusher.com/app/<key>``; the sandbox
connection points it at the sandbox), and the transport settings every partner connection has.

Rotated refresh tokens are kept in the Airflow Variable ``smintio_refresh_token__<conn_id>``
(masked in the UI and logs) and preferred over the connection's, so the next task does not
present a refresh token Smint.io has already spent. The Test button never presents it (see
:meth:`SmintioHook.test_connection`). The fact-by-fact table is ``docs/systems/smintio.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from contentops import lineage
from contentops.hooks.base import OnInvalid, RefreshTokenHook
from contentops.hooks.errors import (
    AuthenticationError,
    InvalidConnectionError,
    MalformedResponseError,
    NotFoundError,
    PartnerAPIError,
)
from contentops.hooks.transport import DownloadResult, HttpTransport
from contentops.models.common import validated_or_skipped
from contentops.models.smintio import (
    ApprovalStatus,
    Asset,
    AssetComment,
    Campaign,
    GenericMetadata,
    LicensePurchaseTransaction,
    SyncBinary,
)
from contentops.models.smintio_feed import (
    TransactionPage,
    decode_transaction_page,
    page_value,
    parse_transaction_page,
)

log = logging.getLogger(__name__)

SMINTIO_SCOPE = "smintio.full openid profile offline_access"
#: Smint.io's Pusher app (sourced: the CLAPI-C cores' key and cluster ``eu``); Pusher serves an
#: app's websocket at ``wss://ws-{cluster}.pusher.com/app/{key}`` (Pusher's public protocol).
PUSHER_URL = "wss://ws-eu.pusher.com/app/32f31c26a83e09dc401b"
#: The Pusher protocol version the trigger speaks (Pusher's query parameter ``protocol``).
PUSHER_PROTOCOL = 7
#: The private channel of a tenant's license changes (sourced: ``private-2-{ChannelId}``).
PUSH_CHANNEL_PREFIX = "private-2-"
#: The event the cores sync on (sourced); its payload is not read by them, nor by us.
LICENSE_PUSH_EVENT = "global-transaction-history-update"


class SmintioHook(RefreshTokenHook):
    """Smint.io CLAPI-C (licenses, binaries) and Portals backend (assets) on the shared transport."""

    conn_name_attr: ClassVar[str] = "smintio_conn_id"
    default_conn_name: ClassVar[str] = "smintio_default"
    conn_type: ClassVar[str] = "smintio"
    hook_name: ClassVar[str] = "Smint.io"
    system: ClassVar[str] = "smintio"
    health_path: ClassVar[str | None] = None  # the Test button is test_connection below, not a GET
    default_paths: ClassVar[dict[str, str]] = {
        # CLAPI-C, relative to clapi_url: the Pusher channel authorization path is sourced ...
        "pusher_auth": "notifications/pusher/auth",
        # ... the sync operations' names are sourced, their paths modelled
        "generic_metadata": "sync/generic-metadata",
        "license_purchase_transactions": "sync/license-purchase-transactions",
        "binaries": "sync/cart-purchase-transactions/{cpt}/license-purchase-transactions/{lpt}/binaries",
        # Portals backend, relative to portals_url (modelled)
        "assets": "assets",
        "asset": "assets/{asset_id}",
        "asset_approval": "assets/{asset_id}/approval",
        "asset_metadata": "assets/{asset_id}/metadata",
        "asset_variants": "assets/{asset_id}/variants",
        "asset_retire": "assets/{asset_id}/retire",
        "asset_comments": "assets/{asset_id}/comments",
        "asset_by_reference": "assets-by-reference/{reference}",
        "asset_content": "assets/{asset_id}/content",
        "asset_binary": "assets/{asset_id}/binaries/{binary_id}/content",
        "campaigns": "campaigns",
        "campaign": "campaigns/{campaign_id}",
        # how assets are exposed to users (modelled): collections, access, an asset's own license
        "collection_by_reference": "collections-by-reference/{reference}",
        "collection": "collections/{collection_id}",
        "collection_asset": "collections/{collection_id}/assets/{asset_id}",
        "asset_access": "assets/{asset_id}/access",
        "asset_license": "assets/{asset_id}/license",
    }

    def __init__(self, smintio_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(smintio_conn_id, **kwargs)

    # -- connection --------------------------------------------------------------------
    @property
    def tenant(self) -> str:
        tenant = self.extra.get("tenant") or self.connection.host
        if not tenant:
            raise InvalidConnectionError(f"connection {self.conn_id!r} names no tenant", system=self.system)
        return str(tenant)

    def _url(self, key: str, default: str) -> str:
        return str(self.extra.get(key) or default).rstrip("/")

    def base_url(self) -> str:
        return self._url("clapi_url", f"https://{self.tenant}.clapi.smint.io/consumer/v1")

    @property
    def portals_url(self) -> str:
        return self._url("portals_url", f"https://{self.tenant}.portalsapib.smint.io/backend/v1")

    def token_url(self) -> str:
        return self._url("token_url", f"https://{self.tenant}.smint.io/connect/token")

    # -- the push channel (Pusher) ----------------------------------------------------------
    @property
    def push_channel(self) -> str | None:
        """The private channel of this tenant's license changes, or None: no ``channel_id`` (or
        one <= 0, as the cores read it) means no push, and the polling schedule alone applies."""
        raw = self.extra.get("channel_id")
        if raw is None or str(raw).strip() == "":
            return None
        try:
            channel_id = int(str(raw).strip())
        except ValueError:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r}: extra 'channel_id' must be an integer, not {raw!r}", system=self.system
            ) from None
        return f"{PUSH_CHANNEL_PREFIX}{channel_id}" if channel_id > 0 else None

    def push_url(self) -> str:
        """The websocket URL of the push channel, with the Pusher protocol version asked for."""
        url = self._url("pusher_url", PUSHER_URL)
        if "protocol=" in url:
            return url
        return f"{url}{'&' if '?' in url else '?'}protocol={PUSHER_PROTOCOL}&client=contentops&version=0.1.0"

    def authorize_push_channel(self, socket_id: str, channel_name: str) -> str:
        """Pusher's ``auth`` for subscribing ``socket_id`` to ``channel_name``, from CLAPI-C's
        channel authorization (Pusher's form, the hook's Bearer token: a refused or expired token
        is refreshed and the call replayed by the transport, as for every other call).

        Blocking, like every hook call: a trigger runs it in a thread (``asyncio.to_thread``)."""
        body = self.transport.json(
            "POST",
            self.path("pusher_auth"),
            data={"socket_id": socket_id, "channel_name": channel_name},
            idempotent=True,  # a signature: asking twice changes nothing
        )
        auth = (body or {}).get("auth") if isinstance(body, dict) else None
        if not isinstance(auth, str) or ":" not in auth:
            raise MalformedResponseError(
                "the Pusher channel authorization has no 'auth' of the form <key>:<signature>", system=self.system
            )
        return auth

    def _portals(self, name: str, **params: Any) -> str:
        return f"{self.portals_url}/{self.path(name, **params)}"

    # -- the connection form's Test button ----------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Check the tenant, the OAuth client and CLAPI-C without spending the refresh token.

        Smint.io spends a refresh token on every use and answers with a new one. The Test button
        runs outside any task (under a throw-away connection id, in the API server or a worker
        without Variable access), so a new token it received could not be stored where tasks
        look: the connection's token would be spent and the next Test and the next task run
        refused. So the test never presents the refresh token:

        - the token endpoint is asked to refresh a token that cannot exist: an OAuth2 server
          checks the client first (RFC 6749 §5.2), so ``invalid_grant`` means the client id and
          secret were accepted, ``invalid_client`` that they were not;
        - CLAPI-C's Pusher channel authorization (the one CLAPI-C path the public integration
          code names) is called without a token: asking for one (401/403) shows the tenant's
          CLAPI-C is there;
        - the generic-metadata path (modelled) is asked the same way; a 404 there is reported as
          a path to override in extra ``paths``, not as a failed connection.
        """
        try:
            transport = self.transport  # builds the auth: fails on a missing client id/secret/token
            client = self.test_client_credentials(transport)
            if client is not None:
                return False, client
            clapi = self._test_unauthenticated(transport, "POST", "pusher_auth")
            if clapi is not None:
                return False, clapi
            note = self._test_unauthenticated(transport, "GET", "generic_metadata")
        except PartnerAPIError as exc:
            return False, str(exc)
        message = (
            f"Smint.io accepted the client at {transport.redact_url(self.token_url())} and CLAPI-C answers at "
            f"{transport.redact_url(self.base_url())}. The refresh token was not used (Smint.io spends it on "
            "every use and a test could not keep the new one): the first task run uses it."
        )
        if note:
            message += f" Note: {note}"
        return True, message

    def _test_unauthenticated(self, transport: HttpTransport, method: str, name: str) -> str | None:
        """None when ``name`` answers like a protected CLAPI-C operation asked without a token."""
        url = f"{self.base_url()}/{self.path(name)}"
        form = {"socket_id": "0.0", "channel_name": "private-2-0"} if name == "pusher_auth" else None
        response = transport.request(
            method, url, data=form, authenticated=False, idempotent=True, expected=(400, 401, 403, 404, 405)
        )
        if response.status_code in (401, 403):
            return None
        where = f"{method} {transport.redact_url(url)} answered {response.status_code}"
        if name == "pusher_auth":
            return f"{where} without a token, not 401: check the tenant (host) or extra 'clapi_url'"
        return (
            f"{where}; the CLAPI-C sync paths are modelled (not public): set the right one in the "
            f"connection's extra 'paths' (key {name!r})"
        )

    # -- CLAPI-C -----------------------------------------------------------------------
    def generic_metadata(self) -> GenericMetadata:
        return GenericMetadata.model_validate(self.transport.json("GET", self.path("generic_metadata")))

    def iter_transaction_pages(
        self, start_cursor: str | None = None, *, limit: int = 100, on_invalid: OnInvalid | None = None
    ) -> Iterator[TransactionPage]:
        """Every change since ``start_cursor``, a parsed page at a time, the final empty page included.

        A record that fails validation is handed to ``on_invalid`` (quarantine) and skipped;
        Records whose ``can_be_synced`` is not ``true`` (false, or missing: the public .NET core
        reads a missing value as "no", and a license we do not know we may sync is not synced)
        and records without a content element are skipped.
        Store each page's ``continuation_uuid`` after processing it to resume there.
        """
        for raw_page in self.iter_raw_transaction_pages(start_cursor, limit=limit):
            yield self.parse_transaction_page(raw_page, on_invalid=on_invalid)

    def iter_raw_transaction_pages(self, start_cursor: str | None = None, *, limit: int = 100) -> Iterator[Any]:
        """The feed's pages, the final empty page included, as they came: each page's bytes with
        only its head (count, cursor) read — a page whose head does not read comes as its decoded
        JSON body. :meth:`parse_transaction_page` validates a page: in one pass from its bytes
        when every record validates, else record by record (quarantining the malformed).

        Split from :meth:`parse_transaction_page` so a caller can fetch the next page while it
        still validates and stores the previous one (the license index sync does): reading only
        the head, the fetching thread asks for the next page as soon as one arrives."""
        lineage.read(self, "license-purchase-transactions")
        yield from self.transport.iter_cursor_pages(
            self.path("license_purchase_transactions"),
            cursor_param="continuation_uuid",
            params={"limit": limit},
            start_cursor=start_cursor,
            next_cursor=lambda page: page_value(page, "continuation_uuid"),
            is_last=lambda page: not page_value(page, "count"),
            decode=decode_transaction_page,
        )

    def parse_transaction_page(self, raw_page: Any, *, on_invalid: OnInvalid | None = None) -> TransactionPage:
        """One page body of :meth:`iter_raw_transaction_pages`, validated as
        :meth:`iter_transaction_pages` describes (:func:`contentops.models.smintio_feed.parse_transaction_page`)."""
        return parse_transaction_page(raw_page, on_invalid=on_invalid)

    def iter_license_purchase_transactions(
        self, start_cursor: str | None = None, *, limit: int = 100, on_invalid: OnInvalid | None = None
    ) -> Iterator[LicensePurchaseTransaction]:
        """The transactions alone (for callers that do not checkpoint per page)."""
        for page in self.iter_transaction_pages(start_cursor, limit=limit, on_invalid=on_invalid):
            yield from page.transactions

    def binaries(self, cart_purchase_transaction_uuid: str, license_purchase_transaction_uuid: str) -> list[SyncBinary]:
        body = self.transport.json(
            "GET", self.path("binaries", cpt=cart_purchase_transaction_uuid, lpt=license_purchase_transaction_uuid)
        )
        return [SyncBinary.model_validate(item) for item in body or []]

    def download_binary(
        self, lpt: LicensePurchaseTransaction, binary: SyncBinary, sink: Path | IO[bytes]
    ) -> DownloadResult:
        """Stream a binary; a signed URL that has expired is replaced by a fresh one, once."""
        lineage.read(self, "license-purchase-transactions", lpt.uuid, "binaries", binary.uuid)
        url = binary.download_url
        if url:
            try:
                return self.transport.download(url, sink)
            except (AuthenticationError, NotFoundError) as exc:
                if exc.status not in (401, 403, 404, 410):
                    raise
                log.info(
                    "smintio: download URL of binary %s is no longer valid (%s); fetching a fresh one",
                    binary.uuid,
                    exc.status,
                )
        if not lpt.cart_purchase_transaction_uuid:
            raise InvalidConnectionError(
                f"license purchase transaction {lpt.uuid} has no cart transaction", system=self.system
            )
        fresh = {b.uuid: b for b in self.binaries(lpt.cart_purchase_transaction_uuid, lpt.uuid)}
        renewed = fresh.get(binary.uuid)
        if renewed is None or not renewed.download_url:
            raise NotFoundError(f"binary {binary.uuid} is no longer part of {lpt.uuid}", system=self.system)
        return self.transport.download(renewed.download_url, sink)

    # -- Portals backend (modelled) ---------------------------------------------------------
    def get_asset(self, asset_id: str) -> Asset:
        asset = Asset.model_validate(self.transport.json("GET", self._portals("asset", asset_id=asset_id)))
        lineage.read(self, "assets", asset_id)
        return asset

    def iter_assets(
        self,
        *,
        changed_since: datetime | None = None,
        page_size: int = 100,
        filters: dict[str, Any] | None = None,
        on_invalid: OnInvalid | None = None,
    ) -> Iterator[Asset]:
        """Assets (optionally only those changed since a time), validated one by one."""
        params = dict(filters or {})
        if changed_since is not None:
            params["changed_since"] = changed_since.isoformat()
        for item in self.transport.iter_offset(
            self._portals("assets"),
            items=lambda page: page.get("items") or [],
            page_size=page_size,
            params=params,
            total=lambda page: page.get("total"),
        ):
            asset = validated_or_skipped(Asset, item, "asset", on_invalid, system="smintio")
            if asset is None:
                continue
            lineage.read(self, "assets", asset.id)
            yield asset

    def set_approval(self, asset_id: str, status: ApprovalStatus | str, comment: str) -> Asset:
        body = {"status": ApprovalStatus(status).value, "comment": comment}
        asset = Asset.model_validate(
            self.transport.json("PUT", self._portals("asset_approval", asset_id=asset_id), json=body)
        )
        lineage.wrote(self, "assets", asset_id)
        return asset

    def update_metadata(
        self,
        asset_id: str,
        metadata: dict[str, Any] | None = None,
        *,
        tags_add: list[str] | None = None,
        tags_remove: list[str] | None = None,
    ) -> Asset:
        """Merge metadata keys and add/remove tags (PATCH semantics: safe to repeat)."""
        body = {"metadata": metadata or {}, "tags_add": tags_add or [], "tags_remove": tags_remove or []}
        asset = Asset.model_validate(
            self.transport.json("PATCH", self._portals("asset_metadata", asset_id=asset_id), json=body, idempotent=True)
        )
        lineage.wrote(self, "assets", asset_id)
        return asset

    def upload_variant(
        self,
        master_asset_id: str,
        source: Path | IO[bytes],
        *,
        name: str,
        language: str | None,
        region: str | None,
        content_type: str,
        idempotency_key: str,
    ) -> Asset:
        """Upload a derivative linked to its master; the key makes a replay return the same variant."""
        params = {"name": name, "content_type": content_type}
        if language:
            params["language"] = language
        if region:
            params["region"] = region
        response = self.transport.upload(
            "POST",
            self._portals("asset_variants", asset_id=master_asset_id),
            source,
            content_type=content_type,
            params=params,
            headers={"Idempotency-Key": idempotency_key},
            idempotent=True,
        )
        variant = Asset.model_validate(response.json())
        lineage.wrote(self, "assets", variant.id)
        return variant

    def retire_asset(self, asset_id: str, reason: str) -> Asset:
        asset = Asset.model_validate(
            self.transport.json(
                "POST", self._portals("asset_retire", asset_id=asset_id), json={"reason": reason}, idempotent=True
            )
        )
        lineage.wrote(self, "assets", asset_id)
        return asset

    def comments(self, asset_id: str) -> list[AssetComment]:
        """What reviewers and brand managers said about an asset, oldest first (modelled)."""
        body = self.transport.json("GET", self._portals("asset_comments", asset_id=asset_id)) or {}
        return [AssetComment.model_validate(item) for item in body.get("items") or []]

    def add_comment(
        self, asset_id: str, text: str, *, author: str | None = None, external_ref: str | None = None
    ) -> AssetComment:
        """Add a comment; one with an ``external_ref`` already on the asset is not added twice."""
        body = {"text": text, "author": author, "external_ref": external_ref}
        comment = AssetComment.model_validate(
            self.transport.json(
                "POST",
                self._portals("asset_comments", asset_id=asset_id),
                json=body,
                idempotent=external_ref is not None,
            )
        )
        lineage.wrote(self, "assets", asset_id)
        return comment

    def download_asset_binary(self, asset_id: str, binary_id: str, sink: Path | IO[bytes]) -> DownloadResult:
        """Stream the file of an asset's current version into ``sink`` (never held in memory)."""
        result = self.transport.download(
            self._portals("asset_binary", asset_id=asset_id, binary_id=binary_id), sink, authenticated=True
        )
        lineage.read(self, "assets", asset_id)
        return result

    def get_campaign(self, campaign_id: str) -> Campaign:
        campaign = Campaign.model_validate(
            self.transport.json("GET", self._portals("campaign", campaign_id=campaign_id))
        )
        lineage.read(self, "campaigns", campaign_id)
        return campaign

    def iter_campaigns(
        self, *, release_from: datetime | None = None, release_to: datetime | None = None, page_size: int = 50
    ) -> Iterator[Campaign]:
        """Campaigns, optionally only those releasing in ``[release_from, release_to)``."""
        params: dict[str, Any] = {}
        if release_from is not None:
            params["release_from"] = release_from.isoformat()
        if release_to is not None:
            params["release_to"] = release_to.isoformat()
        for item in self.transport.iter_offset(
            self._portals("campaigns"),
            items=lambda page: page.get("items") or [],
            page_size=page_size,
            params=params,
            total=lambda page: page.get("total"),
        ):
            campaign = Campaign.model_validate(item)
            lineage.read(self, "campaigns", campaign.id)
            yield campaign

    # -- assets registered by an external reference (modelled) ------------------------------
    def upsert_asset_by_reference(
        self,
        reference: str,
        *,
        name: str,
        content_type: str,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        tags: list[str] | None = None,
        categories: list[str] | None = None,
        region: str | None = None,
        language: str | None = None,
        campaign: str | None = None,
        master_asset_id: str | None = None,
        approval_status: ApprovalStatus | str | None = None,
    ) -> Asset:
        """Create the asset for content held elsewhere, or update the one registered under
        ``reference`` (PUT by our reference: repeating it is harmless, a change is an update).

        ``approval_status`` only counts when the asset is created; later changes go through
        :meth:`set_approval`, which keeps the approval history.
        """
        body: dict[str, Any] = {
            "name": name,
            "content_type": content_type,
            "description": description,
            "metadata": metadata or {},
            "tags": tags or [],
            "categories": categories or [],
            "region": region,
            "language": language,
            "campaign": campaign,
            "master_asset_id": master_asset_id,
        }
        if approval_status is not None:
            body["approval_status"] = ApprovalStatus(approval_status).value
        asset = Asset.model_validate(
            self.transport.json("PUT", self._portals("asset_by_reference", reference=reference), json=body)
        )
        lineage.wrote(self, "assets", asset.id)
        return asset

    def upload_asset_content(
        self, asset_id: str, source: Path | IO[bytes], *, content_type: str, file_name: str | None = None
    ) -> Asset:
        """Stream the asset's main file (PUT: the same bytes again change nothing)."""
        response = self.transport.upload(
            "PUT",
            self._portals("asset_content", asset_id=asset_id),
            source,
            content_type=content_type,
            params={"file_name": file_name} if file_name else None,
        )
        asset = Asset.model_validate(response.json())
        lineage.wrote(self, "assets", asset_id)
        return asset

    # -- exposure: collections, access permissions, an asset's own license (modelled) --------
    def upsert_collection_by_reference(
        self, reference: str, *, name: str, description: str | None = None
    ) -> dict[str, Any]:
        """The collection registered under ``reference`` (created, or renamed; PUT: safe to repeat)."""
        body = {"name": name, "description": description}
        collection = self.transport.json(
            "PUT", self._portals("collection_by_reference", reference=reference), json=body, idempotent=True
        )
        lineage.wrote(self, "collections", collection["id"])
        return dict(collection)

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        collection = self.transport.json("GET", self._portals("collection", collection_id=collection_id))
        lineage.read(self, "collections", collection_id)
        return dict(collection)

    def add_to_collection(self, collection_id: str, asset_id: str) -> dict[str, Any]:
        """Put an asset into a collection (already in: nothing changes)."""
        path = self._portals("collection_asset", collection_id=collection_id, asset_id=asset_id)
        collection = self.transport.json("PUT", path, idempotent=True)
        lineage.wrote(self, "collections", collection_id)
        return dict(collection)

    def remove_from_collection(self, collection_id: str, asset_id: str) -> None:
        """Take an asset out of a collection (not in it: nothing changes)."""
        path = self._portals("collection_asset", collection_id=collection_id, asset_id=asset_id)
        self.transport.request("DELETE", path, idempotent=True, expected=(200, 204))
        lineage.wrote(self, "collections", collection_id)

    def set_access(self, asset_id: str, *, visibility: str, groups: list[str]) -> Asset:
        """Who sees the asset in the portal: ``restricted`` to ``groups``, ``internal`` or ``public``."""
        body = {"visibility": visibility, "groups": groups}
        asset = Asset.model_validate(
            self.transport.json("PUT", self._portals("asset_access", asset_id=asset_id), json=body, idempotent=True)
        )
        lineage.wrote(self, "assets", asset_id)
        return asset

    def set_asset_license(self, asset_id: str, license_: dict[str, Any]) -> Asset:
        """Give an asset not bought through Smint.io its license (``reference`` + usage rules); the
        asset then names that reference as its ``license_purchase_transaction_uuid``."""
        asset = Asset.model_validate(
            self.transport.json(
                "PUT", self._portals("asset_license", asset_id=asset_id), json=license_, idempotent=True
            )
        )
        lineage.wrote(self, "assets", asset_id)
        return asset
