"""The OpenText Trading Grid / Active Community sandbox.

Sourced (opentext/BN-Trading-Grid collections, shared/api-notes/opentext.md §2): the API Grid
token ``POST /v1/oauth2/tokens?grant_type=client_credentials`` with HTTP Basic (consumer key and
secret) and ~10 h tokens; Community Management under ``/TGCommunityServices/v1``: the company,
its partner directory (filters ``partnerCompanyName``, ``partnerCompanyId``, ``tradingAddress``)
and entitlements; users, roles and user entitlements (``community.py``); service errors in the
shape OpenText publishes for an API Grid service (see :func:`error_body`). Judged by
``tests/conformance/test_trading_grid.py``.

Modelled (no public spec; every path in :data:`PATHS`): partner communities and the posts
published into them (announcements, launch kits, usage guidance), created or updated by the
caller's external reference so a replay does not post twice; a post may name the authorized
partners it is addressed to, and launch kits carry file attachments (streamed, by the caller's
reference); a launch kit released ahead of its date is ``embargoed_until`` then, and its files
are not handed to partners before (``GET …/attachments/{ref}`` answers 403 ``Embargoed``); each
entitlement lists the partners it authorizes (the active partners of its community's region).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app
from contentops_sandbox.trading_grid.cases import CASE_PATHS, add_case_routes
from contentops_sandbox.trading_grid.community import USER_PATHS, add_user_routes, seed_users
from contentops_sandbox.trading_grid.submissions import SUBMISSION_PATHS, add_submission_routes
from contentops_sandbox.trading_grid.uploads import read_upload

PATHS = {
    "token": "/v1/oauth2/tokens",
    "company": "/TGCommunityServices/v1/companies/{company_id}",
    "partners": "/TGCommunityServices/v1/companies/{company_id}/partnerDirectory",
    "entitlements": "/TGCommunityServices/v1/companies/{company_id}/entitlements",
    "communities": "/communities/v1/communities",
    "post": "/communities/v1/communities/{community_id}/posts/{post_ref}",
    "posts": "/communities/v1/communities/{community_id}/posts",
    **USER_PATHS,  # sourced: users, roles, user entitlements (community.py)
    **CASE_PATHS,  # modelled: partner cases and co-marketing sign-offs (cases.py)
    **SUBMISSION_PATHS,  # modelled: partner submissions (localized files) and our replies (submissions.py)
    "attachment": "/communities/v1/communities/{community_id}/posts/{post_ref}/attachments/{attachment_ref}",
}
DEMO_COMPANY = "GC00804444LX"
DEMO_CONSUMER_KEY = "contentops-demo"
DEMO_CONSUMER_SECRET = "demo-secret"  # noqa: S105 - the sandboxes' published demo credential
TOKEN_SECONDS = 10 * 3600
POST_KINDS = {"announcement", "launch_kit", "usage_guidance"}
REGIONS = ("emea", "dach", "north_america", "apac", "latam")


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The product's error body.

    A refused token is the gateway's fault (``{"fault": {"faultstring", "detail": {"errorcode"}}}``,
    the OpenText API gateway's shape; that API Grid answers the same is inferred). Service errors
    take the one shape OpenText publishes for an API Grid service, Cartographer's
    ``{"status", "message", "error-code"}`` (its collection's 400/401/403/404/500 examples); that
    Community Management answers the same is inferred — no public example shows its errors."""
    if status in (401, 403):
        return {"fault": {"faultstring": message, "detail": {"errorcode": f"keymanagement.service.{code}"}}}
    return {"status": str(status), "message": message, "error-code": code}


class PostBody(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1)
    kind: str
    asset_ids: list[str] = Field(default_factory=list)
    partners: list[str] | None = None
    # modelled: a launch kit released ahead of its date; partners may not take its files before
    embargoed_until: datetime | None = None


def _seed(context: SandboxContext) -> None:
    context.store.put(
        "company", DEMO_COMPANY, {"companyId": DEMO_COMPANY, "companyName": "Contentops Demo Brand", "status": "Active"}
    )
    partners = []
    for n in range(15):
        region = REGIONS[n % len(REGIONS)]
        partners.append(
            (
                f"GC{n:08d}PT",
                {
                    "partnerCompanyId": f"GC{n:08d}PT",
                    "partnerCompanyName": f"Retail Partner {region.upper()} {n + 1}",
                    "tradingAddress": f"ZZ:RETAILPARTNER{n + 1}",
                    "region": region,
                    "relationshipStatus": "Active",
                },
            )
        )
    context.store.put_many("partner", partners)
    context.store.put_many(
        "community",
        [
            (
                f"community-{region}",
                {
                    "id": f"community-{region}",
                    "name": f"{region.upper()} partner community",
                    "region": region,
                    "entitlement": f"brand-assets:{region}",
                },
            )
            for region in REGIONS
        ],
    )
    seed_users(context, DEMO_COMPANY)


def create_app(config: SandboxConfig) -> FastAPI:
    if "token_ttl_seconds" not in config.model_fields_set:  # API Grid tokens live ~10 hours
        config = config.model_copy(update={"token_ttl_seconds": TOKEN_SECONDS})
    app, ctx = create_sandbox_app(
        "trading_grid", config, error_body=error_body, seed=_seed, title="OpenText Trading Grid sandbox"
    )

    def company_or_404(company_id: str) -> dict[str, Any]:
        company = ctx.store.get("company", company_id)
        if company is None:
            raise ctx.error(404, "CompanyNotFound", f"company {company_id} not found")
        return company

    @app.post(PATHS["token"])
    def token(request: Request, grant_type: str = "") -> JSONResponse:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            key, _, secret = base64.b64decode(encoded).decode().partition(":") if scheme == "Basic" else ("", "", "")
        except ValueError:
            key, secret = "", ""
        if grant_type != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        if key != DEMO_CONSUMER_KEY or secret != DEMO_CONSUMER_SECRET:
            return JSONResponse(error_body(401, "invalid_client", "Invalid consumer key or secret"), 401)
        return JSONResponse(ctx.tokens.issue(key, with_refresh=False).as_response())

    @app.get(PATHS["company"])
    def company(request: Request, company_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return company_or_404(company_id)

    @app.get(PATHS["partners"])
    def partners(
        request: Request,
        company_id: str,
        partnerCompanyName: str | None = None,
        partnerCompanyId: str | None = None,
        tradingAddress: str | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        """The directory with the three filters OpenText's collection shows (name: part of it,
        case-insensitive; id and trading address: exact); paging and envelope are modelled."""
        ctx.require_bearer(request)
        company_or_404(company_id)
        items = [
            p
            for p in ctx.store.all("partner")
            if (partnerCompanyName is None or partnerCompanyName.lower() in p["partnerCompanyName"].lower())
            and (partnerCompanyId is None or p["partnerCompanyId"] == partnerCompanyId)
            and (tradingAddress is None or p.get("tradingAddress") == tradingAddress)
        ]
        return {"partners": items[offset : offset + count], "totalCount": len(items)}

    @app.get(PATHS["entitlements"])
    def entitlements(request: Request, company_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        company_or_404(company_id)
        partners = ctx.store.all("partner")
        return {
            "entitlements": [
                {
                    "name": c["entitlement"],
                    "community": c["id"],
                    "partners": [
                        p["partnerCompanyId"]
                        for p in partners
                        if p.get("region") == c.get("region") and p.get("relationshipStatus") == "Active"
                    ],
                }
                for c in ctx.store.all("community")
            ]
        }

    @app.get(PATHS["communities"])
    def communities(request: Request) -> dict[str, Any]:
        ctx.require_bearer(request)
        return {"communities": ctx.store.all("community")}

    @app.put(PATHS["post"])
    def put_post(request: Request, community_id: str, post_ref: str, body: PostBody) -> JSONResponse:
        author = ctx.require_bearer(request)
        if ctx.store.get("community", community_id) is None:
            raise ctx.error(404, "CommunityNotFound", f"community {community_id} not found")
        if body.kind not in POST_KINDS:
            raise ctx.error(422, "InvalidPostKind", f"kind must be one of {sorted(POST_KINDS)}")
        unknown = [p for p in body.partners or [] if ctx.store.get("partner", p) is None]
        if unknown:
            raise ctx.error(422, "UnknownPartner", f"unknown partners {unknown}")
        key = f"{community_id}/{post_ref}"
        fields = body.model_dump(mode="json")
        with ctx.store.locked():  # an update keeps the files attached meanwhile
            existing = ctx.store.get("post", key)
            if fields["embargoed_until"] is None and not (existing or {}).get("embargoed_until"):
                del fields["embargoed_until"]  # no embargo, none to end: the post as before
            if existing is not None and {k: existing.get(k) for k in fields} == fields:
                return JSONResponse(existing, 200)
            post = {
                **(
                    existing
                    or {
                        "ref": post_ref,
                        "community": community_id,
                        "author": author,
                        "published_at": ctx.clock.now().isoformat(),
                    }
                ),
                **fields,
                "updated_at": ctx.clock.now().isoformat(),
            }
            ctx.store.put("post", key, post, action="update" if existing else "publish")
        return JSONResponse(post, 200 if existing else 201)

    @app.put(PATHS["attachment"])
    async def put_attachment(
        request: Request, community_id: str, post_ref: str, attachment_ref: str, name: str = Query(min_length=1)
    ) -> JSONResponse:
        """Attach a file to a post (a launch kit's banner, datasheet …) under the caller's reference."""
        ctx.require_bearer(request)
        key = f"{community_id}/{post_ref}"
        post = ctx.store.get("post", key)
        if post is None:
            raise ctx.error(404, "PostNotFound", f"post {post_ref} not found in {community_id}")
        attachment = await read_upload(ctx, request, attachment_ref, name)
        with ctx.store.locked():  # files of one kit arrive in parallel: add to the post as it is now
            post = ctx.store.get("post", key) or post
            attachments = dict(post.get("attachments") or {})
            existing = attachments.get(attachment_ref)
            if existing is not None and {k: existing.get(k) for k in attachment} == attachment:
                return JSONResponse(post, 200)
            attachments[attachment_ref] = {**attachment, "uploaded_at": ctx.clock.now().isoformat()}
            post = {**post, "attachments": attachments, "updated_at": ctx.clock.now().isoformat()}
            ctx.store.put("post", key, post, action="attachment")
        return JSONResponse(post, 200 if existing else 201)

    @app.get(PATHS["attachment"])
    def get_attachment(request: Request, community_id: str, post_ref: str, attachment_ref: str) -> dict[str, Any]:
        """A partner takes a file of a post (modelled): refused while the post is under embargo.
        The sandbox keeps only the digest of attachments, so it answers their descriptor."""
        ctx.require_bearer(request)
        post = ctx.store.get("post", f"{community_id}/{post_ref}")
        attachment = ((post or {}).get("attachments") or {}).get(attachment_ref)
        if post is None or attachment is None:
            missing = f"no attachment {attachment_ref} on {post_ref} in {community_id}"
            raise ctx.error(404, "AttachmentNotFound", missing)
        until = post.get("embargoed_until")
        if until and ctx.clock.now() < datetime.fromisoformat(until.replace("Z", "+00:00")):
            raise ctx.error(403, "Embargoed", f"post {post_ref} is under embargo until {until}")
        return dict(attachment)

    @app.get(PATHS["posts"])
    def posts(request: Request, community_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return {"posts": [p for p in ctx.store.all("post") if p["community"] == community_id]}

    add_user_routes(app, ctx, company_or_404)
    add_case_routes(app, ctx)
    add_submission_routes(app, ctx)  # partner-submitted files and replies (submissions.py)
    return app
