"""The VIP sandbox: VIP (vtinfo) as contentops uses it, by the modules VIP publishes.

Sourced (docs/systems/vip.md): VIP's REST API has the modules item catalog, order management,
pricing, payments and retailer data, and authenticates with OAuth 2.0 authorization code
through the customer's ADFS. Everything below is **modelled** — no public source shows VIP's
paths or payloads — and every path is in :data:`PATHS`. Of the modules, contentops uses two:

- the ADFS-style token endpoint (refresh-token grant with rotating refresh tokens, as after a
  completed authorization-code flow);
- **retailer data** (``GET /api/v1/retailers``): the parties of distribution and their region —
  distributors, retailers, the supplier's regional teams and agencies, publishing partners;
  media partners and franchise networks are added on the operator side
  (``POST /_sandbox/vip/parties``);
- **item catalog**: the items (``GET /api/v1/items``; the connection test lists one), and the
  media attached to an item under the attacher's reference (PUT): the file (streamed), usage
  controls (regions, channels, valid until), the parties it is available to, campaign tags,
  approval status, free ``attributes`` describing it, and on an agency's final deliverable the
  agency and its masters; a new
  asset version replaces the media's content and is kept in its history; withdrawal and
  re-restriction of usage controls; an ``available_from`` embargo, before which the media's
  content is not served to retailers (``GET …/content``);
- media across the catalogue (:mod:`contentops_sandbox.vip.item_media`): returns regional teams
  attach (:mod:`contentops_sandbox.vip.returns`) and the content VIP holds
  (:mod:`contentops_sandbox.vip.catalog`), listed by attach or change time.

Error body: ``{"error": {"code": …, "message": …}}``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app
from contentops_sandbox.vip.catalog import seed_catalog
from contentops_sandbox.vip.item_media import add_item_media_routes
from contentops_sandbox.vip.returns import add_return_routes

PATHS = {
    "token": "/adfs/oauth2/token",
    "parties": "/api/v1/retailers",
    "items": "/api/v1/items",
    "item": "/api/v1/items/{item_id}",
    "media": "/api/v1/items/{item_id}/media/{media_ref}",
    "media_content": "/api/v1/items/{item_id}/media/{media_ref}/content",
    "media_withdraw": "/api/v1/items/{item_id}/media/{media_ref}/withdraw",
    "media_usage": "/api/v1/items/{item_id}/media/{media_ref}/usage-controls",
}
DEMO_CLIENT_ID = "contentops-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandboxes' published demo credential
DEMO_REFRESH_TOKEN = "vip-demo-refresh-token"  # noqa: S105
REGIONS = ("emea", "dach", "north_america", "apac", "latam", "uk_and_ireland")
PARTY_KINDS = ("distributor", "retailer", "regional_team", "agency", "publishing_partner")
#: further kinds of external partners (not seeded; added on the operator side) final
#: deliverables go to, with publishing partners (VIP-7)
PARTNER_KINDS = ("media_partner", "franchise_network")
#: the demo item catalog: id, description, brand
ITEMS = (
    ("ITM-1001", "Sparkling water, lemon, 12 x 330 ml", "Northspring"),
    ("ITM-1002", "Sparkling water, original, 24 x 330 ml", "Northspring"),
    ("ITM-2001", "Cold brew coffee, 4 x 250 ml", "Harbor Roast"),
    ("ITM-3001", "Spiced apple cider, 6 x 500 ml", "Orchard Lane"),
    ("ITM-3002", "Winter ginger beer, 12 x 330 ml", "Orchard Lane"),
)


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class UsageControls(BaseModel):
    regions: list[str] = Field(min_length=1)
    channels: list[str] = Field(min_length=1)
    valid_until: datetime | None = None


class MediaBody(BaseModel):
    asset_id: str = Field(min_length=1)
    version: int = Field(ge=1)
    file_name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3)
    usage_controls: UsageControls
    available_to: list[str] = Field(default_factory=list)
    campaign_tags: list[str] = Field(default_factory=list)
    approval_status: str = Field(pattern="^(approved|restricted)$")
    license_summary: str | None = None
    # an agency's final deliverable: the agency and the master assets it was derived from
    agency: str | None = None
    derived_from: list[str] | None = None
    # free attributes describing the media to buyers (name -> text, number, flag or list)
    attributes: dict[str, Any] | None = None
    # modelled: an embargo — VIP holds the media but serves it to retailers only from then on
    available_from: datetime | None = None


class PartyBody(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str
    region: str
    active: bool = True


class WithdrawBody(BaseModel):
    reason: str = Field(min_length=1)


def _seed(context: SandboxContext) -> None:
    parties = []
    for n in range(24):
        region = REGIONS[n % len(REGIONS)]
        kind = PARTY_KINDS[n % len(PARTY_KINDS)]
        pid = f"rtl-{n + 1:03d}"
        name = f"{kind.replace('_', ' ').title()} {region.upper()} {n + 1}"
        parties.append((pid, {"id": pid, "name": name, "kind": kind, "region": region, "active": n % 11 != 10}))
    context.store.put_many("party", parties)
    context.store.put_many("item", [(i, {"id": i, "description": d, "brand": b, "active": True}) for i, d, b in ITEMS])
    context.tokens.register_refresh_token(DEMO_REFRESH_TOKEN, "vip-demo-user", "vip.items vip.retailers")
    seed_catalog(context)


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app("vip", config, error_body=error_body, seed=_seed, title="VIP sandbox")

    def now() -> str:
        return ctx.clock.now().isoformat()

    def page(items: list[dict[str, Any]], offset: int, limit: int) -> dict[str, Any]:
        return {"items": items[offset : offset + limit], "total": len(items), "offset": offset, "limit": limit}

    def item_or_404(item_id: str) -> dict[str, Any]:
        item = ctx.store.get("item", item_id)
        if item is None:
            raise ctx.error(404, "item_not_found", f"no item {item_id} in the item catalog")
        return item

    def media_or_404(item_id: str, media_ref: str) -> dict[str, Any]:
        item_or_404(item_id)
        media = ctx.store.get("media", f"{item_id}/{media_ref}")
        if media is None:
            raise ctx.error(404, "media_not_found", f"no media {media_ref} on item {item_id}")
        return media

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

    @app.get(PATHS["parties"])
    def parties(
        request: Request,
        region: str | None = None,
        type: str | None = None,
        offset: int = Query(0, ge=0),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        found = [
            p
            for p in ctx.store.all("party")
            if (region is None or p["region"] == region) and (type is None or p["kind"] == type)
        ]
        return page(found, offset, limit)

    @app.get(PATHS["items"])
    def items(request: Request, offset: int = Query(0, ge=0), limit: int = Query(20, ge=1, le=100)) -> dict[str, Any]:
        ctx.require_bearer(request)
        return page(ctx.store.all("item"), offset, limit)

    @app.get(PATHS["item"])
    def item(request: Request, item_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return item_or_404(item_id)

    @app.put(PATHS["media"])
    def put_media(request: Request, item_id: str, media_ref: str, body: MediaBody) -> JSONResponse:
        ctx.require_bearer(request)
        item_or_404(item_id)
        check_regions(body.usage_controls.regions)
        known = {p["id"] for p in ctx.store.all("party")}
        missing = [p for p in body.available_to if p not in known]
        if missing:
            raise ctx.error(422, "unknown_party", f"unknown parties {missing}")
        key = f"{item_id}/{media_ref}"
        existing = ctx.store.get("media", key)
        fields = body.model_dump(mode="json")
        if fields["available_from"] is None and not (existing or {}).get("available_from"):
            del fields["available_from"]  # no embargo, none to end: the media as before
        if existing and existing["version"] > body.version:
            raise ctx.error(409, "stale_version", f"media {media_ref} already holds version {existing['version']}")
        if existing and {k: existing.get(k) for k in fields} == fields and existing.get("status") == "active":
            return JSONResponse(existing, 200)
        media = {
            **(
                existing
                or {
                    "ref": media_ref,
                    "item_id": item_id,
                    "kind": "asset",
                    "created_at": now(),
                    "history": [],
                    "content": None,
                }
            ),
            **fields,
            "status": "active",
            "updated_at": now(),
        }
        if existing and existing["version"] != body.version:
            media["history"] = [*existing["history"], {"version": existing["version"], "replaced_at": now()}]
            media["content"] = None  # the new version's file must be uploaded
        ctx.store.put("media", key, media, action="update" if existing else "create")
        return JSONResponse(media, 200 if existing else 201)

    @app.get(PATHS["media"])
    def get_media(request: Request, item_id: str, media_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return media_or_404(item_id, media_ref)

    @app.get(PATHS["media_content"])
    def get_content(request: Request, item_id: str, media_ref: str, party: str | None = None) -> dict[str, Any]:
        """What a retailer downloads (modelled): refused before the media's ``available_from``
        (an embargo), once withdrawn, and to a party it is not available to. The sandbox keeps
        only the digest of item media, so it answers the content's descriptor, not the bytes."""
        ctx.require_bearer(request)
        media = media_or_404(item_id, media_ref)
        if media.get("status") == "withdrawn":
            raise ctx.error(410, "withdrawn", f"media {media_ref} was withdrawn")
        available_from = media.get("available_from")
        if available_from and ctx.clock.now() < datetime.fromisoformat(available_from.replace("Z", "+00:00")):
            raise ctx.error(403, "not_yet_available", f"media {media_ref} is under embargo until {available_from}")
        if party is not None and party not in media.get("available_to", []):
            raise ctx.error(403, "not_available_to_party", f"media {media_ref} is not available to {party}")
        if media.get("content") is None:
            raise ctx.error(404, "no_content", f"media {media_ref} has no file yet")
        return {"ref": media_ref, "file_name": media["file_name"], **media["content"]}

    @app.put(PATHS["media_content"])
    async def put_content(request: Request, item_id: str, media_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        media = media_or_404(item_id, media_ref)
        if request.headers.get("content-type", "").split(";")[0] != media["content_type"]:
            raise ctx.error(415, "content_type_mismatch", f"media expects {media['content_type']}")
        digest, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
        if size == 0:
            raise ctx.error(422, "empty_content", "no bytes received")
        media = {**media, "content": {"sha256": digest.hexdigest(), "size": size, "uploaded_at": now()}}
        ctx.store.put("media", f"{item_id}/{media_ref}", media, action="content")
        return media

    @app.post(PATHS["media_withdraw"])
    def withdraw(request: Request, item_id: str, media_ref: str, body: WithdrawBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        media = media_or_404(item_id, media_ref)
        if media["status"] == "withdrawn":
            return media
        media = {**media, "status": "withdrawn", "withdrawn_reason": body.reason, "withdrawn_at": now()}
        ctx.store.put("media", f"{item_id}/{media_ref}", media, action="withdraw")
        return media

    @app.patch(PATHS["media_usage"])
    def restrict(request: Request, item_id: str, media_ref: str, body: UsageControls) -> dict[str, Any]:
        ctx.require_bearer(request)
        media = media_or_404(item_id, media_ref)
        check_regions(body.regions)
        controls = body.model_dump(mode="json")
        if media["usage_controls"] == controls:
            return media
        media = {**media, "usage_controls": controls, "approval_status": "restricted", "updated_at": now()}
        ctx.store.put("media", f"{item_id}/{media_ref}", media, action="restrict")
        return media

    @app.post("/_sandbox/vip/parties", status_code=201)
    def add_party(body: PartyBody) -> dict[str, Any]:
        """Add a party as a VIP admin would (e.g. a media partner or a franchise network)."""
        if body.kind not in (*PARTY_KINDS, *PARTNER_KINDS):
            raise ctx.error(422, "unknown_kind", f"kind must be one of {[*PARTY_KINDS, *PARTNER_KINDS]}")
        check_regions([body.region])
        pid = f"rtl-{ctx.store.count('party') + 1:03d}"
        party = {"id": pid, **body.model_dump()}
        ctx.store.put("party", pid, party, action="create")
        return party

    add_return_routes(app, ctx)  # returns regional teams attach (returns.py)
    add_item_media_routes(app, ctx)  # media across the catalogue (item_media.py)
    return app
