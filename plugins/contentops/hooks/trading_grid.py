"""OpenText Trading Grid / Active Community: who the trading partners are, and what they are told.

Sourced (docs/systems/trading_grid.md): the API Grid token ``POST /v1/oauth2/tokens`` with
``grant_type=client_credentials`` in the query and HTTP Basic consumer key/secret; Community
Management under ``/TGCommunityServices/v1`` (company — what the connection test reads —,
partner directory with its three filters, entitlements).
Sourced as well: the users of our company, their roles (by ``loginId``) and entitlements.
Modelled: communities and posts (launch kits, usage guidance) by our own reference, the
authorized partners a post is addressed to, file attachments of launch kits, and the partners
each entitlement authorizes; partner cases and requests (status, comments, asset links and file
attachments by our own references) and co-marketing sign-off requests with the partners' answers.

Connection (conn_type ``opentext_trading_grid``): host = ``https://apigrid.opentext.com``,
login/password = consumer key/secret, extra ``company_id`` (the BUID, e.g. ``GC00804444LX``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from contentops import lineage
from contentops.hooks.auth import Auth, OAuth2ClientCredentialsAuth
from contentops.hooks.base import OnInvalid, PartnerHook, iter_validated, validate_or_hand_over
from contentops.hooks.errors import InvalidConnectionError, PartnerAPIError
from contentops.hooks.trading_grid_paging import iter_listing
from contentops.hooks.trading_grid_submissions import SUBMISSION_PATHS, PartnerSubmissionsMixin
from contentops.models.trading_grid import (
    CaseComment,
    CaseStatus,
    Community,
    CommunityPost,
    PartnerCase,
    SignoffRequest,
    TradingGridRole,
    TradingGridUser,
    TradingPartner,
)


class TradingGridHook(PartnerSubmissionsMixin, PartnerHook):
    conn_name_attr: ClassVar[str] = "trading_grid_conn_id"
    default_conn_name: ClassVar[str] = "opentext_trading_grid_default"
    conn_type: ClassVar[str] = "opentext_trading_grid"
    hook_name: ClassVar[str] = "OpenText Trading Grid"
    system: ClassVar[str] = "trading_grid"
    #: The connection test reads our own company: the cheapest call OpenText's public collection
    #: shows (the modelled community paths may not exist on a real tenant).
    health_path: ClassVar[str | None] = "company"
    default_paths: ClassVar[dict[str, str]] = {
        "token": "v1/oauth2/tokens",
        "company": "TGCommunityServices/v1/companies/{company_id}",
        "partners": "TGCommunityServices/v1/companies/{company_id}/partnerDirectory",
        "entitlements": "TGCommunityServices/v1/companies/{company_id}/entitlements",
        "communities": "communities/v1/communities",
        "post": "communities/v1/communities/{community_id}/posts/{post_ref}",
        "posts": "communities/v1/communities/{community_id}/posts",
        "attachment": "communities/v1/communities/{community_id}/posts/{post_ref}/attachments/{attachment_ref}",
        # Community Management users and roles (sourced)
        "users": "TGCommunityServices/v1/companies/{company_id}/users",
        "user": "TGCommunityServices/v1/companies/{company_id}/users/{user_ref}",
        "user_roles": "TGCommunityServices/v1/companies/{company_id}/users/{login_id}/roles",
        "user_entitlements": "TGCommunityServices/v1/users/{login_id}/entitlements",
        # partner cases and co-marketing sign-offs (modelled)
        "cases": "communities/v1/cases",
        "case": "communities/v1/cases/{case_id}",
        "case_status": "communities/v1/cases/{case_id}/status",
        "case_comments": "communities/v1/cases/{case_id}/comments",
        "case_comment": "communities/v1/cases/{case_id}/comments/{comment_ref}",
        "case_link": "communities/v1/cases/{case_id}/links/{link_ref}",
        "case_attachment": "communities/v1/cases/{case_id}/attachments/{attachment_ref}",
        "signoffs": "communities/v1/signoffs",
        "signoff": "communities/v1/signoffs/{signoff_ref}",
        "signoff_attachment": "communities/v1/signoffs/{signoff_ref}/attachments/{attachment_ref}",
        "signoff_comment": "communities/v1/signoffs/{signoff_ref}/comments/{comment_ref}",
        **SUBMISSION_PATHS,  # partner submissions and our replies (trading_grid_submissions.py)
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

    def test_connection(self) -> tuple[bool, str]:
        """The Test button: fetch a token and read our company (``GET …/companies/{companyId}``).

        A public Community Management call, so good credentials pass against the real service; a
        missing company id fails here, before any request, with what to fill in."""
        try:
            self.company()
        except PartnerAPIError as exc:  # InvalidConnectionError included
            return False, str(exc)
        return True, (
            f"Connected to {self.hook_name} at {self.transport.redact_url(self.base_url())} "
            f"as company {self.company_id}"
        )

    def company(self) -> dict[str, Any]:
        return dict(self.transport.json("GET", self.path("company", company_id=self.company_id)))

    def iter_partners(
        self,
        name: str | None = None,
        page_size: int = 50,
        *,
        partner_company_id: str | None = None,
        trading_address: str | None = None,
    ) -> Iterator[TradingPartner]:
        """The partner directory, optionally filtered by the three filters OpenText's collection
        shows: ``partnerCompanyName``, ``partnerCompanyId`` and ``tradingAddress`` (e.g.
        ``ZZ:DEMOSUPPLIER5``). The paging parameters and the envelope are modelled."""
        filters = {
            "partnerCompanyName": name,
            "partnerCompanyId": partner_company_id,
            "tradingAddress": trading_address,
        }
        params = {key: value for key, value in filters.items() if value} or None
        lineage.read(self, "companies", self.company_id, "partners")
        for item in iter_listing(
            self.transport,
            self.path("partners", company_id=self.company_id),
            "partners",
            page_size=page_size,
            params=params,
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
        embargoed_until: datetime | None = None,
    ) -> CommunityPost:
        """Publish (or update) a post under our own reference: repeating it posts nothing new.

        ``partners`` names the authorized partners a launch kit is addressed to (see
        :meth:`entitlements`); left out, the post is for the whole community.
        ``embargoed_until`` (*modelled*) marks a kit released ahead of its date: partners see it
        but may not take its files before that moment."""
        payload: dict[str, Any] = {"title": title, "body": body, "kind": kind, "asset_ids": asset_ids or []}
        if partners is not None:
            payload["partners"] = partners
        if embargoed_until is not None:
            payload["embargoed_until"] = embargoed_until.isoformat()
        post = CommunityPost.model_validate(
            self.transport.json("PUT", self.path("post", community_id=community_id, post_ref=post_ref), json=payload)
        )
        lineage.wrote(self, "communities", community_id, "posts", post_ref)
        return post

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
        path = self.path("attachment", community_id=community_id, post_ref=post_ref, attachment_ref=attachment_ref)
        post = CommunityPost.model_validate(self._put_file(path, source, name=name, content_type=content_type))
        lineage.wrote(self, "communities", community_id, "posts", post_ref)
        return post

    def _put_file(self, path: str, source: Path | IO[bytes], *, name: str, content_type: str) -> Any:
        """Stream a file as the raw body of a PUT under our own reference (the same upload for a
        launch kit's files and a case's, so both are retried and named alike); the answer's JSON."""
        response = self.transport.upload("PUT", path, source, content_type=content_type, params={"name": name})
        return response.json()

    def posts(self, community_id: str) -> list[CommunityPost]:
        body = self.transport.json("GET", self.path("posts", community_id=community_id))
        return [CommunityPost.model_validate(p) for p in body["posts"]]

    # -- Community Management: users and roles (sourced) ----------------------------------------
    def iter_users(self, login_id: str | None = None, page_size: int = 50) -> Iterator[TradingGridUser]:
        """Our company's users (``loginId`` is the only search the service offers)."""
        params = {"loginId": login_id} if login_id else None
        for item in iter_listing(
            self.transport, self.path("users", company_id=self.company_id), "users", page_size=page_size, params=params
        ):
            yield TradingGridUser.model_validate(item)

    def get_user(self, user_ref: str) -> TradingGridUser:
        """A user by ``userId`` or ``loginId``."""
        return TradingGridUser.model_validate(
            self.transport.json("GET", self.path("user", company_id=self.company_id, user_ref=user_ref))
        )

    def create_user(self, user: dict[str, Any]) -> TradingGridUser:
        """Create a user (the collection's body: ``loginId``, ``loginPassword``, names, address …).

        OpenText's collection shows only ``uniqueId`` in the answer — the id the new user is
        then read, updated and deleted by — so the user is what we sent (never its password or
        hints) overlaid with whatever the answer carries; a bare ``{"uniqueId": …}`` is enough.
        A POST: retried only when the service cannot have acted on it (429, connect failures)."""
        answer = self.transport.json("POST", self.path("users", company_id=self.company_id), json=user)
        sent = {k: v for k, v in user.items() if k not in ("loginPassword", "userPasswordHint")}
        email = (user.get("contactInformation") or {}).get("email")
        merged = {**sent, **({"email": email} if email else {}), **(answer if isinstance(answer, dict) else {})}
        merged.setdefault("userId", merged.get("uniqueId"))
        return TradingGridUser.model_validate(merged)

    def update_user(self, user_ref: str, changes: dict[str, Any]) -> TradingGridUser:
        return TradingGridUser.model_validate(
            self.transport.json("PUT", self.path("user", company_id=self.company_id, user_ref=user_ref), json=changes)
        )

    def delete_user(self, user_ref: str) -> None:
        self.transport.request("DELETE", self.path("user", company_id=self.company_id, user_ref=user_ref))

    def user_roles(self, login_id: str) -> list[TradingGridRole]:
        body = self.transport.json("GET", self.path("user_roles", company_id=self.company_id, login_id=login_id))
        return [TradingGridRole.model_validate(r) for r in body]

    def change_user_roles(self, login_id: str, role_names: Sequence[str], action: str = "Add") -> list[TradingGridRole]:
        """Add (or remove) roles; a PUT, so repeating it is harmless."""
        body = self.transport.json(
            "PUT",
            self.path("user_roles", company_id=self.company_id, login_id=login_id),
            params={"action": action},
            json=[{"roleName": name} for name in role_names],
        )
        return [TradingGridRole.model_validate(r) for r in body]

    def user_entitlements(self, login_id: str) -> list[dict[str, Any]]:
        body = self.transport.json("GET", self.path("user_entitlements", login_id=login_id))
        return list(body["entitlements"])

    # -- partner cases (modelled) -------------------------------------------------------------------
    def iter_cases(
        self,
        *,
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        statuses: Sequence[CaseStatus | str] = (),
        types: Sequence[str] = (),
        page_size: int = 50,
        on_invalid: OnInvalid | None = None,
    ) -> Iterator[PartnerCase]:
        """Cases changed in ``[updated_since, updated_until)``, in filing order, validated one by one.

        A case that fails validation goes to ``on_invalid`` (reason, raw case) and the listing goes
        on; without a callback it raises."""
        params: dict[str, Any] = {}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        if updated_until is not None:
            params["updated_until"] = updated_until.isoformat()
        if statuses:
            params["status"] = [str(getattr(s, "value", s)) for s in statuses]
        if types:
            params["type"] = [str(getattr(t, "value", t)) for t in types]
        pages = iter_listing(self.transport, self.path("cases"), "cases", page_size=page_size, params=params)
        lineage.read(self, "cases")
        yield from iter_validated(pages, PartnerCase, "Trading Grid case", on_invalid)

    def get_case(self, case_id: str, *, on_invalid: OnInvalid | None = None) -> PartnerCase | None:
        """One case; if it fails validation it goes to ``on_invalid`` and ``None`` is returned
        (without a callback it raises)."""
        raw = self.transport.json("GET", self.path("case", case_id=case_id))
        lineage.read(self, "cases", case_id)
        return validate_or_hand_over(PartnerCase, raw, "Trading Grid case", on_invalid)

    def set_case_status(self, case_id: str, status: CaseStatus | str, reason: str | None = None) -> PartnerCase:
        """Move a case on; setting the status it already has changes nothing (PUT)."""
        body = {"status": str(getattr(status, "value", status)), "reason": reason}
        case = PartnerCase.model_validate(
            self.transport.json("PUT", self.path("case_status", case_id=case_id), json=body)
        )
        lineage.wrote(self, "cases", case_id)
        return case

    def put_case_comment(
        self, case_id: str, comment_ref: str, body: str, attachments: list[dict[str, Any]] | None = None
    ) -> CaseComment:
        """Answer on a case under our own reference: repeating it adds no second comment."""
        payload = {"body": body, "attachments": attachments or []}
        comment = CaseComment.model_validate(
            self.transport.json(
                "PUT", self.path("case_comment", case_id=case_id, comment_ref=comment_ref), json=payload
            )
        )
        lineage.wrote(self, "cases", case_id)
        return comment

    def case_comments(self, case_id: str) -> list[CaseComment]:
        body = self.transport.json("GET", self.path("case_comments", case_id=case_id))
        return [CaseComment.model_validate(c) for c in body["comments"]]

    def link_case_asset(
        self, case_id: str, *, system: str, asset_id: str, relation: str, version: int | None = None
    ) -> PartnerCase:
        """Link an asset of another system to the case (one link per system, asset and relation)."""
        link_ref = f"{system}:{asset_id}:{relation}"
        payload = {"system": system, "asset_id": asset_id, "version": version, "relation": relation}
        case = PartnerCase.model_validate(
            self.transport.json("PUT", self.path("case_link", case_id=case_id, link_ref=link_ref), json=payload)
        )
        lineage.wrote(self, "cases", case_id)
        return case

    def put_case_attachment(
        self, case_id: str, attachment_ref: str, source: Path | IO[bytes], *, name: str, content_type: str
    ) -> PartnerCase:
        """Attach a file (streamed) to a case under our own reference — the asset package a partner
        asked for, uploaded like a launch kit's files (:meth:`put_attachment`): PUT, safe to repeat."""
        path = self.path("case_attachment", case_id=case_id, attachment_ref=attachment_ref)
        case = PartnerCase.model_validate(self._put_file(path, source, name=name, content_type=content_type))
        lineage.wrote(self, "cases", case_id)
        return case

    # -- co-marketing sign-off (modelled) ---------------------------------------------------------
    def put_signoff(
        self, signoff_ref: str, *, community: str, title: str, items: list[dict[str, Any]], message: str | None = None
    ) -> SignoffRequest:
        """Send a kit to a community's partners for sign-off under our own reference (PUT)."""
        payload = {"title": title, "message": message, "community": community, "items": items}
        signoff = SignoffRequest.model_validate(
            self.transport.json("PUT", self.path("signoff", signoff_ref=signoff_ref), json=payload)
        )
        lineage.wrote(self, "signoffs", signoff_ref)
        return signoff

    def get_signoff(self, signoff_ref: str) -> SignoffRequest:
        signoff = SignoffRequest.model_validate(
            self.transport.json("GET", self.path("signoff", signoff_ref=signoff_ref))
        )
        lineage.read(self, "signoffs", signoff_ref)
        return signoff

    def put_signoff_attachment(
        self, signoff_ref: str, attachment_ref: str, source: Path | IO[bytes], *, name: str, content_type: str
    ) -> SignoffRequest:
        """Attach a file the partners sign off (streamed) under our own reference, uploaded like a
        launch kit's or a case's files (:meth:`put_attachment`): PUT, safe to repeat."""
        path = self.path("signoff_attachment", signoff_ref=signoff_ref, attachment_ref=attachment_ref)
        signoff = SignoffRequest.model_validate(self._put_file(path, source, name=name, content_type=content_type))
        lineage.wrote(self, "signoffs", signoff_ref)
        return signoff

    def put_signoff_comment(self, signoff_ref: str, comment_ref: str, body: str) -> SignoffRequest:
        """Answer the partners on a sign-off request under our own reference: repeating it adds nothing."""
        path = self.path("signoff_comment", signoff_ref=signoff_ref, comment_ref=comment_ref)
        signoff = SignoffRequest.model_validate(self.transport.json("PUT", path, json={"body": body}))
        lineage.wrote(self, "signoffs", signoff_ref)
        return signoff

    def iter_signoffs(self, *, updated_since: datetime | None = None, page_size: int = 50) -> Iterator[SignoffRequest]:
        params = {"updated_since": updated_since.isoformat()} if updated_since else None
        lineage.read(self, "signoffs")
        for item in iter_listing(self.transport, self.path("signoffs"), "signoffs", page_size=page_size, params=params):
            yield SignoffRequest.model_validate(item)
