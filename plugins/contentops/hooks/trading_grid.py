"""OpenText Trading Grid / Active Community: who the trading partners are, and what they are told.

Sourced (docs/systems/trading_grid.md): the API Grid token ``POST /v1/oauth2/tokens`` with
``grant_type=client_credentials`` in the query and HTTP Basic consumer key/secret; Community
Management under ``/TGCommunityServices/v1`` (company, partner directory, entitlements).
Modelled: communities and posts (launch kits, usage guidance) by our own reference, the
authorized partners a post is addressed to, file attachments of launch kits, and the partners
each entitlement authorizes.

Connection (conn_type ``opentext_trading_grid``): host = ``https://apigrid.opentext.com``,
login/password = consumer key/secret, extra ``company_id`` (the BUID, e.g. ``GC00804444LX``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from contentops.hooks.auth import Auth, OAuth2ClientCredentialsAuth
from contentops.hooks.base import PartnerHook
from contentops.hooks.errors import InvalidConnectionError
from contentops.models.trading_grid import Community, CommunityPost, TradingPartner


class TradingGridHook(PartnerHook):
    conn_name_attr: ClassVar[str] = "trading_grid_conn_id"
    default_conn_name: ClassVar[str] = "opentext_trading_grid_default"
    conn_type: ClassVar[str] = "opentext_trading_grid"
    hook_name: ClassVar[str] = "OpenText Trading Grid"
    system: ClassVar[str] = "trading_grid"
    health_path: ClassVar[str | None] = "communities"
    default_paths: ClassVar[dict[str, str]] = {
        "token": "v1/oauth2/tokens",
        "company": "TGCommunityServices/v1/companies/{company_id}",
        "partners": "TGCommunityServices/v1/companies/{company_id}/partnerDirectory",
        "entitlements": "TGCommunityServices/v1/companies/{company_id}/entitlements",
        "communities": "communities/v1/communities",
        "post": "communities/v1/communities/{community_id}/posts/{post_ref}",
        "posts": "communities/v1/communities/{community_id}/posts",
        "attachment": "communities/v1/communities/{community_id}/posts/{post_ref}/attachments/{attachment_ref}",
    }

    def __init__(self, trading_grid_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(trading_grid_conn_id, **kwargs)

    @property
    def company_id(self) -> str:
        company = self.extra.get("company_id")
        if not company:
            raise InvalidConnectionError(f"connection {self.conn_id!r} needs extra 'company_id'", system=self.system)
        return str(company)

    def build_auth(self, conn: Any) -> Auth | None:
        if not conn.login or not conn.password:
            raise InvalidConnectionError(
                "Trading Grid needs the consumer key (login) and secret (password)", system=self.system
            )
        token_url = f"{self.base_url()}/{self.path('token')}"
        return OAuth2ClientCredentialsAuth(token_url, conn.login, conn.password, style="basic")

    def company(self) -> dict[str, Any]:
        return dict(self.transport.json("GET", self.path("company", company_id=self.company_id)))

    def iter_partners(self, name: str | None = None, page_size: int = 50) -> Iterator[TradingPartner]:
        params = {"partnerCompanyName": name} if name else None
        for item in self.transport.iter_offset(
            self.path("partners", company_id=self.company_id),
            items=lambda p: p["partners"],
            page_size=page_size,
            params=params,
            total=lambda p: p.get("totalCount"),
        ):
            yield TradingPartner.model_validate(item)

    def entitlements(self) -> list[dict[str, Any]]:
        body = self.transport.json("GET", self.path("entitlements", company_id=self.company_id))
        return list(body["entitlements"])

    def communities(self) -> list[Community]:
        return [
            Community.model_validate(c) for c in self.transport.json("GET", self.path("communities"))["communities"]
        ]

    def put_post(
        self,
        community_id: str,
        post_ref: str,
        *,
        title: str,
        body: str,
        kind: str,
        asset_ids: list[str] | None = None,
        partners: list[str] | None = None,
    ) -> CommunityPost:
        """Publish (or update) a post under our own reference: repeating it posts nothing new.

        ``partners`` names the authorized partners a launch kit is addressed to (see
        :meth:`entitlements`); left out, the post is for the whole community."""
        payload: dict[str, Any] = {"title": title, "body": body, "kind": kind, "asset_ids": asset_ids or []}
        if partners is not None:
            payload["partners"] = partners
        return CommunityPost.model_validate(
            self.transport.json("PUT", self.path("post", community_id=community_id, post_ref=post_ref), json=payload)
        )

    def put_attachment(
        self,
        community_id: str,
        post_ref: str,
        attachment_ref: str,
        source: Path | IO[bytes],
        *,
        name: str,
        content_type: str,
    ) -> CommunityPost:
        """Attach a file (streamed) to a post under our own reference: PUT, safe to repeat."""
        response = self.transport.upload(
            "PUT",
            self.path("attachment", community_id=community_id, post_ref=post_ref, attachment_ref=attachment_ref),
            source,
            content_type=content_type,
            params={"name": name},
        )
        return CommunityPost.model_validate(response.json())

    def posts(self, community_id: str) -> list[CommunityPost]:
        body = self.transport.json("GET", self.path("posts", community_id=community_id))
        return [CommunityPost.model_validate(p) for p in body["posts"]]
