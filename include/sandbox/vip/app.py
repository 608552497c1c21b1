"""The VIP sandbox: the B2B distribution platform (vtinfo) as contentops uses it.

Sourced (shared/api-notes/smintio-consonance-vip.md §3): VIP has a REST API and authenticates
with OAuth 2.0 authorization code through the customer's ADFS (client id and secret registered
by the VIP admin). Everything else is **modelled** — VIP's endpoint list is not public — and
every path is in :data:`PATHS`:

- the ADFS-style token endpoint (refresh-token grant with rotating refresh tokens, as after a
  completed authorization-code flow);
- recipients (distributors, regional teams, agencies, publishing partners; media partners and
  franchise networks added on the operator side, ``POST /_sandbox/vip/recipients``) by region;
- distribution packages, created or updated by the caller's external reference (PUT), with
  items created or updated by the caller's item reference: the file, usage controls
  (regions, channels, valid until), campaign tags and approval status; a new asset version
  replaces the item's content and is kept in the item's history;
- item content upload (streamed), withdrawal (rights expired) and re-restriction of usage
  controls, and on an agency's final deliverable the agency and its masters; deliveries per recipient;
- returns: localized variants and derivatives uploaded by regional teams, listed since a time,
  and their review status;
- the catalogue of content VIP itself holds (master packages, localized versions, approved
  deliverables and replacements), listed by change time, each with a download URL on VIP's
  host (:mod:`contentops_sandbox.vip.catalog`).

Error body: ``{"error": {"code": …, "message": …}}``. Operator side: ``POST /_sandbox/vip/returns``
adds a return as a regional team would (hostile ones included, for the localization tests).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app
from contentops_sandbox.vip.catalog import add_catalog_routes, seed_catalog
from contentops_sandbox.vip.return_files import add_return_file_routes

PATHS = {
    "token": "/adfs/oauth2/token",
    "recipients": "/api/v1/recipients",
    "package": "/api/v1/packages/{package_ref}",
    "item": "/api/v1/packages/{package_ref}/items/{item_ref}",
    "item_content": "/api/v1/packages/{package_ref}/items/{item_ref}/content",
    "item_withdraw": "/api/v1/packages/{package_ref}/items/{item_ref}/withdraw",
    "item_usage": "/api/v1/packages/{package_ref}/items/{item_ref}/usage-controls",
    "deliveries": "/api/v1/packages/{package_ref}/deliveries",
    "returns": "/api/v1/returns",
    "return": "/api/v1/returns/{return_id}",
    "catalog": "/api/v1/catalog",
    "catalog_entry": "/api/v1/catalog/{entry_id}",
    "catalog_content": "/api/v1/catalog/{entry_id}/content",
}
DEMO_CLIENT_ID = "contentops-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandboxes' published demo credential
DEMO_REFRESH_TOKEN = "vip-demo-refresh-token"  # noqa: S105
REGIONS = ("emea", "dach", "north_america", "apac", "latam", "uk_and_ireland")
RECIPIENT_KINDS = ("distributor", "regional_team", "agency", "publishing_partner")
#: further kinds of external partners (not seeded; added on the operator side) final
#: deliverables go to, with publishing partners (VIP-7)
PARTNER_KINDS = ("media_partner", "franchise_network")
RETURN_STATUSES = {"received", "in_review", "accepted", "rejected", "quarantined"}


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class UsageControls(BaseModel):
    regions: list[str] = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    valid_until: datetime | None = None


class PackageBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    campaign: str | None = None
    tags: list[str] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)


class ItemBody(BaseModel):
    asset_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3)
    usage_controls: UsageControls
    campaign_tags: list[str] = Field(default_factory=list)
    approval_status: str = Field(pattern="^(approved|restricted)$")
    license_summary: str | None = None
    # an agency's final deliverable: the agency and the master assets it was derived from
    agency: str | None = None
    derived_from: list[str] | None = None


class RecipientBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str
    region: str
    active: bool = True


class WithdrawBody(BaseModel):
    reason: str = Field(min_length=1)


class ReturnStatusBody(BaseModel):
    status: str
    reason: str | None = None


def _seed(context: SandboxContext) -> None:
    recipients = []
    for n in range(24):
        region = REGIONS[n % len(REGIONS)]
        kind = RECIPIENT_KINDS[n % len(RECIPIENT_KINDS)]
        rid = f"rcp-{n + 1:03d}"
        recipients.append(
            (
                rid,
                {
                    "id": rid,
                    "name": f"{kind.replace('_', ' ').title()} {region.upper()} {n + 1}",
                    "kind": kind,
                    "region": region,
                    "active": n % 11 != 10,
                },
            )
        )
    context.store.put_many("recipient", recipients)
    context.tokens.register_refresh_token(DEMO_REFRESH_TOKEN, "vip-demo-user", "vip.distribution")
    seed_catalog(context)


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app("vip", config, error_body=error_body, seed=_seed, title="VIP sandbox")

    def now() -> str:
        return ctx.clock.now().isoformat()

    def package_or_404(ref: str) -> dict[str, Any]:
        package = ctx.store.get("package", ref)
        if package is None:
            raise ctx.error(404, "package_not_found", f"no package {ref}")
        return package

    def item_or_404(package_ref: str, item_ref: str) -> dict[str, Any]:
        package_or_404(package_ref)
        item = ctx.store.get("item", f"{package_ref}/{item_ref}")
        if item is None:
            raise ctx.error(404, "item_not_found", f"no item {item_ref} in package {package_ref}")
        return item

    def check_regions(regions: list[str]) -> None:
        unknown = [r for r in regions if r not in REGIONS]
        if unknown:
            raise ctx.error(422, "unknown_region", f"unknown regions {unknown}; known: {list(REGIONS)}")

    @app.post(PATHS["token"])
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        if form.get("client_id") != DEMO_CLIENT_ID or form.get("client_secret") != DEMO_CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client", "error_description": "MSIS9607: bad client"}, 401)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "use refresh_token"}, 400)
        issued = ctx.tokens.refresh(str(form.get("refresh_token") or ""))
        if issued is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "MSIS9615: refresh token"}, 400)
        return JSONResponse(issued.as_response())

    @app.get(PATHS["recipients"])
    def recipients(
        request: Request,
        region: str | None = None,
        kind: str | None = None,
        offset: int = Query(0, ge=0),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = [
            r
            for r in ctx.store.all("recipient")
            if (region is None or r["region"] == region) and (kind is None or r["kind"] == kind)
        ]
        return {"items": items[offset : offset + limit], "total": len(items), "offset": offset, "limit": limit}

    @app.put(PATHS["package"])
    def put_package(request: Request, package_ref: str, body: PackageBody) -> JSONResponse:
        ctx.require_bearer(request)
        known = {r["id"] for r in ctx.store.all("recipient")}
        missing = [r for r in body.recipients if r not in known]
        if missing:
            raise ctx.error(422, "unknown_recipient", f"unknown recipients {missing}")
        existing = ctx.store.get("package", package_ref)
        fields = body.model_dump()
        if existing is not None and {k: existing.get(k) for k in fields} == fields:
            return JSONResponse(existing, 200)  # nothing changes: no new version
        package = {
            **(existing or {"ref": package_ref, "created_at": now(), "items": []}),
            **fields,
            "ref": package_ref,
            "updated_at": now(),
        }
        ctx.store.put("package", package_ref, package, action="update" if existing else "create")
        return JSONResponse(package, 200 if existing else 201)

    @app.get(PATHS["package"])
    def get_package(request: Request, package_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return package_or_404(package_ref)

    @app.put(PATHS["item"])
    def put_item(request: Request, package_ref: str, item_ref: str, body: ItemBody) -> JSONResponse:
        ctx.require_bearer(request)
        package = package_or_404(package_ref)
        check_regions(body.usage_controls.regions)
        key = f"{package_ref}/{item_ref}"
        existing = ctx.store.get("item", key)
        fields = body.model_dump(mode="json")
        if existing and existing["version"] > body.version:
            raise ctx.error(409, "stale_version", f"item {item_ref} already holds version {existing['version']}")
        item = {
            **(
                existing
                or {"ref": item_ref, "package": package_ref, "created_at": now(), "history": [], "content": None}
            ),
            **fields,
            "status": "active",
            "updated_at": now(),
        }
        if existing and existing["version"] != body.version:
            item["history"] = [*existing["history"], {"version": existing["version"], "replaced_at": now()}]
            item["content"] = None  # the new version's file must be uploaded
        if existing and {k: existing.get(k) for k in fields} == fields and existing.get("status") == "active":
            return JSONResponse(existing, 200)
        ctx.store.put("item", key, item, action="update" if existing else "create")
        with ctx.store.locked():  # items of one package arrive in parallel: add to the latest list
            package = package_or_404(package_ref)
            if item_ref not in package["items"]:
                ctx.store.put("package", package_ref, {**package, "items": [*package["items"], item_ref]})
        return JSONResponse(item, 200 if existing else 201)

    @app.get(PATHS["item"])
    def get_item(request: Request, package_ref: str, item_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return item_or_404(package_ref, item_ref)

    @app.put(PATHS["item_content"])
    async def put_content(request: Request, package_ref: str, item_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        item = item_or_404(package_ref, item_ref)
        if request.headers.get("content-type", "").split(";")[0] != item["content_type"]:
            raise ctx.error(415, "content_type_mismatch", f"item expects {item['content_type']}")
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        if size == 0:
            raise ctx.error(422, "empty_content", "no bytes received")
        item = {**item, "content": {"sha256": digest.hexdigest(), "size": size, "uploaded_at": now()}}
        ctx.store.put("item", f"{package_ref}/{item_ref}", item, action="content")
        return item

    @app.post(PATHS["item_withdraw"])
    def withdraw(request: Request, package_ref: str, item_ref: str, body: WithdrawBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        item = item_or_404(package_ref, item_ref)
        if item["status"] == "withdrawn":
            return item
        item = {**item, "status": "withdrawn", "withdrawn_reason": body.reason, "withdrawn_at": now()}
        ctx.store.put("item", f"{package_ref}/{item_ref}", item, action="withdraw")
        return item

    @app.patch(PATHS["item_usage"])
    def restrict(request: Request, package_ref: str, item_ref: str, body: UsageControls) -> dict[str, Any]:
        ctx.require_bearer(request)
        item = item_or_404(package_ref, item_ref)
        check_regions(body.regions)
        controls = body.model_dump(mode="json")
        if item["usage_controls"] == controls:
            return item
        item = {**item, "usage_controls": controls, "approval_status": "restricted", "updated_at": now()}
        ctx.store.put("item", f"{package_ref}/{item_ref}", item, action="restrict")
        return item

    @app.get(PATHS["deliveries"])
    def deliveries(request: Request, package_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        package = package_or_404(package_ref)
        items = [ctx.store.get("item", f"{package_ref}/{ref}") or {} for ref in package["items"]]
        ready = [i["ref"] for i in items if i.get("status") == "active" and i.get("content")]
        return {
            "items": [
                {"recipient": r, "status": "delivered" if ready else "pending", "items": ready}
                for r in package["recipients"]
            ]
        }

    @app.get(PATHS["returns"])
    def returns(
        request: Request,
        since: datetime | None = None,
        offset: int = Query(0, ge=0),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = [
            r for r in ctx.store.all("return") if since is None or datetime.fromisoformat(r["received_at"]) > since
        ]
        if ctx.faults.should_malform() and items[offset : offset + 1]:
            broken = {k: v for k, v in items[offset].items() if k != "master_asset_id"}
            items = [*items[:offset], broken, *items[offset + 1 :]]
        return {"items": items[offset : offset + limit], "total": len(items), "offset": offset, "limit": limit}

    @app.patch(PATHS["return"])
    def set_return_status(request: Request, return_id: str, body: ReturnStatusBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        item = ctx.store.get("return", return_id)
        if item is None:
            raise ctx.error(404, "return_not_found", f"no return {return_id}")
        if body.status not in RETURN_STATUSES:
            raise ctx.error(422, "invalid_status", f"status must be one of {sorted(RETURN_STATUSES)}")
        item = {**item, "status": body.status, "status_reason": body.reason, "status_at": now()}
        ctx.store.put("return", return_id, item, action="status")
        return item

    @app.post("/_sandbox/vip/returns", status_code=201)
    def add_return(body: dict[str, Any]) -> dict[str, Any]:
        """Add a return as a regional team would; fields are stored as given (hostile ones too)."""
        return_id = f"ret-{ctx.store.next_id('return')}"
        item = {"id": return_id, "status": "received", "received_at": now(), **body}
        ctx.store.put("return", return_id, item, action="received")
        return item

    @app.post("/_sandbox/vip/recipients", status_code=201)
    def add_recipient(body: RecipientBody) -> dict[str, Any]:
        """Add a recipient as a VIP admin would (e.g. a media partner or a franchise network)."""
        if body.kind not in (*RECIPIENT_KINDS, *PARTNER_KINDS):
            raise ctx.error(422, "unknown_kind", f"kind must be one of {[*RECIPIENT_KINDS, *PARTNER_KINDS]}")
        check_regions([body.region])
        rid = f"rcp-{ctx.store.count('recipient') + 1:03d}"
        recipient = {"id": rid, **body.model_dump()}
        ctx.store.put("recipient", rid, recipient, action="create")
        return recipient

    add_return_file_routes(app, ctx)  # the files of returns (return_files.py)

    add_catalog_routes(app, ctx)  # VIP-held content (catalog.py)
    return app
