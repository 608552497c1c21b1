"""The Smint.io sandbox: OAuth, CLAPI-C (licenses, binaries) and the Portals backend (assets).

What Smint.io serves on three hosts is served here under path prefixes. Sourced behaviour
(public Smint.io integration code): refresh-token OAuth with rotating refresh tokens, the
``continuation_uuid`` feed of changes with ``count`` / ``continuation_uuid`` /
``license_purchase_transactions``, ``can_be_synced``, signed binary URLs valid for an hour.
Modelled (not public): every HTTP path below (:data:`PATHS`), the error bodies beyond
OAuth's, the whole Portals backend write side, an asset's file by asset and binary id, and
campaigns (release date, regions, segments, agency client), and assets registered by an
external reference with their uploaded files (:mod:`contentops_sandbox.smintio.references`).
Uploaded files (variants, content by reference) are stored on disk in the state directory
(:mod:`contentops_sandbox.smintio.files`) and the asset binary route serves those very bytes;
only seeded assets that never got an upload serve generated images.

Options (``SandboxConfig.options``): ``generated_transactions`` (serve N synthetic licenses
computed from the cursor, stored nowhere), ``large_binary_bytes`` (the first binary of the
first license is that big, streamed), ``seeded_transactions`` (default 504), ``push_channel_id``
(the tenant's Pusher channel id, default 7: live license changes, :mod:`contentops_sandbox.smintio.push`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Query, Request, WebSocket
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app
from contentops_sandbox.smintio import images, seed
from contentops_sandbox.smintio.comments import add_comment_routes
from contentops_sandbox.smintio.exposure import add_exposure_routes
from contentops_sandbox.smintio.files import ContentFiles
from contentops_sandbox.smintio.push import DEMO_CHANNEL_ID, PUSHER_CHANNEL_PREFIX, WEBSOCKET_PATH, PushHub
from contentops_sandbox.smintio.references import add_reference_routes

#: Every product path of this sandbox (modelled but for ``token``, ``oidc`` and ``pusher_auth``).
PATHS = {
    "token": "/connect/token",
    "oidc": "/.well-known/openid-configuration",
    "pusher_auth": "/consumer/v1/notifications/pusher/auth",  # sourced (the cores' Pusher authorizer)
    "generic_metadata": "/consumer/v1/sync/generic-metadata",
    "lpts": "/consumer/v1/sync/license-purchase-transactions",
    "binaries": "/consumer/v1/sync/cart-purchase-transactions/{cpt}/license-purchase-transactions/{lpt}/binaries",
    "download": "/consumer/v1/downloads/{binary_uuid}",
    "assets": "/backend/v1/assets",
    "asset": "/backend/v1/assets/{asset_id}",
    "approval": "/backend/v1/assets/{asset_id}/approval",
    "metadata": "/backend/v1/assets/{asset_id}/metadata",
    "variants": "/backend/v1/assets/{asset_id}/variants",
    "retire": "/backend/v1/assets/{asset_id}/retire",
    "asset_binary": "/backend/v1/assets/{asset_id}/binaries/{binary_id}/content",
    "campaigns": "/backend/v1/campaigns",
    "campaign": "/backend/v1/campaigns/{campaign_id}",
}
DEMO_CLIENT_ID = "contentops-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandbox's published demo credential
DEMO_REFRESH_TOKEN = "demo-refresh-token"  # noqa: S105
SIGNED_URL_SECONDS = 3600
MAX_LIMIT = 100
#: Approval changes the (modelled) Portals backend accepts.
TRANSITIONS = {
    "draft": {"in_review", "approved", "rejected", "retired"},
    "in_review": {"approved", "rejected", "draft", "retired"},
    "approved": {"in_review", "retired", "rejected"},
    "rejected": {"in_review", "draft", "retired"},
    "retired": set(),
}
GEOGRAPHIES = ("worldwide", "europe", "dach", "north_america", "apac", "gb", "us", "de", "fr")
DISTRIBUTIONS = ("any", "online", "print", "social_media", "web", "email", "broadcast")


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": code, "error_description": message}


def _cursor(seq: int) -> str:
    return f"00000000-0000-4000-8000-{seq:012x}"


def _seq(cursor: str) -> int | None:
    prefix = "00000000-0000-4000-8000-"
    if not cursor.startswith(prefix):
        return None
    try:
        return int(cursor[len(prefix) :], 16)
    except ValueError:
        return None


def _public(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if not key.startswith("_")}


def _seed(context: SandboxContext) -> None:
    now = context.clock.now().replace(microsecond=0)
    count = int(context.config.options.get("seeded_transactions", 504))
    lpts = [seed.make_lpt(i, now) for i in range(count)]
    large = context.config.options.get("large_binary_bytes")
    if large and lpts:
        lpts[0]["_binary_count"] = 1
    context.store.put_many("lpt", [(lpt["uuid"], lpt) for lpt in lpts])
    binary_docs = []
    for index, lpt in enumerate(lpts):
        for n, binary in enumerate(seed.binaries_of(lpt)):
            size = int(large) if large and index == 0 and n == 0 else None
            binary_docs.append((binary["uuid"], {**binary, "_lpt": lpt["uuid"], "_size": size}))
    context.store.put_many("binary", binary_docs)
    syncable = [lpt["uuid"] for lpt in lpts if lpt["can_be_synced"] and lpt["uuid"]]
    context.store.put_many("asset", [(a["id"], a) for a in seed.make_assets(now, syncable)])
    context.store.put_many("campaign", [(c["id"], c) for c in seed.make_campaigns(now)])
    context.tokens.register_refresh_token(DEMO_REFRESH_TOKEN, "demo-user", "smintio.full openid profile offline_access")
    context.store.put("secret", "url-signing", {"key": secrets.token_hex(32)})


class ApprovalBody(BaseModel):
    status: str
    comment: str = Field(min_length=1, max_length=2000)


class MetadataBody(BaseModel):
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags_add: list[str] = Field(default_factory=list)
    tags_remove: list[str] = Field(default_factory=list)


class RetireBody(BaseModel):
    reason: str = Field(min_length=1)


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app("smintio", config, error_body=error_body, seed=_seed, title="Smint.io sandbox")
    if ctx.store.count("campaign") == 0:  # state seeded before campaigns were modelled
        ctx.store.put_many("campaign", [(c["id"], c) for c in seed.make_campaigns(ctx.clock.now())])
    generated = int(config.options.get("generated_transactions") or 0)
    generated_epoch = ctx.clock.now().replace(microsecond=0)
    cut_urls: set[str] = set()
    files = ContentFiles(config.state_dir)
    push = PushHub(
        lambda: (ctx.store.get("secret", "url-signing") or {"key": ""})["key"].encode(),
        int(config.options.get("push_channel_id") or DEMO_CHANNEL_ID),
    )
    app.state.push = push

    def sign(binary_uuid: str, expires: int) -> str:
        key = (ctx.store.get("secret", "url-signing") or {"key": ""})["key"].encode()
        return hmac.new(key, f"{binary_uuid}:{expires}".encode(), hashlib.sha256).hexdigest()

    def asset_or_404(asset_id: str) -> dict[str, Any]:
        asset = ctx.store.get("asset", asset_id)
        if asset is None:
            raise ctx.error(404, "not_found", f"asset {asset_id} does not exist")
        return asset

    def save_asset(asset: dict[str, Any], action: str) -> dict[str, Any]:
        asset = {**asset, "version": int(asset.get("version", 1)) + 1, "updated_at": ctx.clock.now().isoformat()}
        ctx.store.put("asset", asset["id"], asset, action=action)
        return asset

    # -- OAuth ------------------------------------------------------------------------------
    @app.get(PATHS["oidc"])
    def oidc(request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {
            "issuer": base,
            "token_endpoint": f"{base}{PATHS['token']}",
            "authorization_endpoint": f"{base}/connect/authorize",
            "revocation_endpoint": f"{base}/connect/revocation",
            "scopes_supported": ["smintio.full", "openid", "profile", "offline_access"],
        }

    @app.post(PATHS["token"])
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        if form.get("client_id") != DEMO_CLIENT_ID or form.get("client_secret") != DEMO_CLIENT_SECRET:
            return JSONResponse(error_body(400, "invalid_client", "unknown client or wrong secret"), 400)
        if form.get("grant_type") != "refresh_token":
            return JSONResponse(error_body(400, "unsupported_grant_type", "use grant_type=refresh_token"), 400)
        issued = ctx.tokens.refresh(str(form.get("refresh_token") or ""))
        if issued is None:
            return JSONResponse(error_body(400, "invalid_grant", "the refresh token is unknown or spent"), 400)
        return JSONResponse(issued.as_response(identity_token=secrets.token_urlsafe(16)))

    # -- CLAPI-C ----------------------------------------------------------------------------
    @app.post(PATHS["pusher_auth"])
    async def pusher_auth(request: Request) -> dict[str, Any]:
        """Authorize a Pusher private-channel subscription (Pusher's form: ``socket_id``,
        ``channel_name``) for a bearer of a valid access token: ``{"auth": "<key>:<signature>"}``.
        Another tenant's channel is refused (modelled)."""
        ctx.require_bearer(request)
        form = await request.form()
        socket_id, channel = str(form.get("socket_id") or ""), str(form.get("channel_name") or "")
        if not socket_id or not channel.startswith(PUSHER_CHANNEL_PREFIX):
            raise ctx.error(400, "invalid_request", f"socket_id and a {PUSHER_CHANNEL_PREFIX}<channel> name are needed")
        if channel != push.channel:
            raise ctx.error(403, "forbidden", f"channel {channel} is not this tenant's")
        return {"auth": push.channel_auth(socket_id, channel)}

    @app.websocket(WEBSOCKET_PATH)
    async def pusher_socket(websocket: WebSocket, key: str) -> None:
        """Pusher's websocket (``/app/{key}``): live license changes (push.py)."""
        await push.serve(websocket, key)

    @app.get(PATHS["generic_metadata"])
    def generic_metadata(request: Request) -> dict[str, Any]:
        ctx.require_bearer(request)

        def elements(keys: tuple[str, ...]) -> list[dict[str, Any]]:
            return [
                {
                    "culture": culture,
                    "metadata_element": {
                        "key": key,
                        "name": f"{key.replace('_', ' ').title()}{' DE' if culture == 'de' else ''}",
                    },
                }
                for key in keys
                for culture in ("en", "de")
            ]

        return {
            "providers": elements(seed.PROVIDERS),
            "content_types": elements(("image", "video")),
            "binary_types": elements(("main", "variant_1", "variant_2")),
            "content_categories": elements(("creative", "editorial")),
            "license_types": elements(("royalty_free", "rights_managed")),
            "release_states": elements(("released", "not_released", "not_applicable")),
            "license_exclusivities": elements(("none",)),
            "license_usages": elements(("any", "advertising", "editorial")),
            "license_sizes": elements(("any", "large", "medium")),
            "license_placements": elements(("any", "cover", "inside")),
            "license_distributions": elements(DISTRIBUTIONS),
            "license_geographies": elements(GEOGRAPHIES),
            "license_industries": elements(("any", "finance", "healthcare")),
            "license_languages": elements(("any", "language_english", "language_german", "language_french")),
            "license_usage_limits": elements(("unlimited",)),
        }

    @app.get(PATHS["lpts"])
    def license_purchase_transactions(
        request: Request, continuation_uuid: str | None = None, limit: int = Query(10, ge=1)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        limit = min(limit, MAX_LIMIT)
        after = 0
        if continuation_uuid:
            decoded = _seq(continuation_uuid)
            if decoded is None:
                raise ctx.error(400, "invalid_continuation_uuid", "unknown continuation_uuid")
            after = decoded
        if generated:
            items = [
                seed.make_lpt(i, generated_epoch, prefix="gen") for i in range(after, min(after + limit, generated))
            ]
            next_seq = after + len(items)
        else:
            docs = ctx.store.documents("lpt", after_seq=after, limit=limit)
            items = [_public(doc.body) for doc in docs]
            next_seq = docs[-1].seq if docs else after
        served = []
        for item in items:
            item = _public(item)
            if ctx.faults.should_malform():
                item = (
                    {**item, "license_terms": "not-a-list"}
                    if len(served) % 2
                    else {k: v for k, v in item.items() if k != "uuid"}
                )
            served.append(item)
        return {"count": len(served), "continuation_uuid": _cursor(next_seq), "license_purchase_transactions": served}

    @app.get(PATHS["binaries"])
    def binaries(request: Request, cpt: str, lpt: str) -> list[dict[str, Any]]:
        ctx.require_bearer(request)
        body = ctx.store.get("lpt", lpt)
        if body is None or body.get("cart_purchase_transaction_uuid") != cpt:
            raise ctx.error(404, "not_found", f"no license purchase transaction {lpt} in cart {cpt}")
        if not body.get("can_be_synced"):
            raise ctx.error(403, "not_syncable", "this license purchase transaction cannot be synced")
        expires = int((ctx.clock.now() + timedelta(seconds=SIGNED_URL_SECONDS)).timestamp())
        base = str(request.base_url).rstrip("/")
        result = []
        for binary in seed.binaries_of(body):
            url = (
                f"{base}{PATHS['download'].format(binary_uuid=binary['uuid'])}?expires={expires}"
                f"&signature={sign(binary['uuid'], expires)}"
            )
            result.append({**binary, "download_url": url})
        return result

    @app.get(PATHS["download"])
    def download(request: Request, binary_uuid: str, expires: int, signature: str) -> Response:
        if not hmac.compare_digest(sign(binary_uuid, expires), signature):
            raise ctx.error(403, "invalid_signature", "the download URL signature does not match")
        if ctx.clock.now().timestamp() > expires:
            raise ctx.error(403, "url_expired", "the signed download URL has expired; fetch a fresh one")
        binary = ctx.store.get("binary", binary_uuid)
        if binary is None:
            raise ctx.error(404, "not_found", f"binary {binary_uuid} does not exist")
        size = binary.get("_size")
        cut_after = ctx.faults.settings.drop_download_after_bytes
        url_key = f"{binary_uuid}:{expires}"
        cut = cut_after is not None and url_key not in cut_urls
        if cut:
            cut_urls.add(url_key)
        chunks = images.large_binary(int(size)) if size else iter([images.png(binary_uuid)])
        total = int(size) if size else len(images.png(binary_uuid))

        def body() -> Any:
            sent = 0
            for chunk in chunks:
                if cut and sent + len(chunk) > int(cut_after or 0):
                    yield chunk[: max(0, int(cut_after or 0) - sent)]
                    return
                sent += len(chunk)
                yield chunk

        headers = {
            "Content-Length": str(total),
            "Content-Disposition": f'attachment; filename="{binary.get("recommended_file_name")}"',
        }
        return StreamingResponse(body(), media_type="image/png", headers=headers)

    # -- Portals backend (modelled) ---------------------------------------------------------
    @app.get(PATHS["assets"])
    def list_assets(
        request: Request,
        changed_since: datetime | None = None,
        campaign: str | None = None,
        tag: str | None = None,
        approval_status: str | None = None,
        license_purchase_transaction_uuid: str | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(50, ge=1, le=200),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        selected = []
        for asset in ctx.store.all("asset"):
            if changed_since and datetime.fromisoformat(asset["updated_at"].replace("Z", "+00:00")) <= changed_since:
                continue
            if campaign and asset.get("campaign") != campaign:
                continue
            if tag and tag not in asset.get("tags", []):
                continue
            if approval_status and asset.get("approval_status") != approval_status:
                continue
            if (
                license_purchase_transaction_uuid
                and asset.get("license_purchase_transaction_uuid") != license_purchase_transaction_uuid
            ):
                continue
            selected.append(asset)
        page = selected[offset : offset + count]
        if ctx.faults.should_malform() and page:
            page = [{k: v for k, v in page[0].items() if k != "approval_status"}, *page[1:]]
        return {"items": page, "total": len(selected), "offset": offset, "count": len(page)}

    @app.get(PATHS["asset"])
    def get_asset(request: Request, asset_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return asset_or_404(asset_id)

    @app.get(PATHS["asset_binary"])
    def asset_binary(request: Request, asset_id: str, binary_id: str) -> Response:
        """The file of an asset (its current version), streamed: the uploaded bytes where there
        were any, a generated image only for a seeded asset that never got an upload."""
        ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        binary = next((b for b in asset.get("binaries") or [] if b.get("id") == binary_id), None)
        if binary is None:
            raise ctx.error(404, "not_found", f"asset {asset_id} has no binary {binary_id}")
        media_type = binary.get("content_type") or "application/octet-stream"
        uploaded = files.path(binary.get("sha256"))
        if uploaded is not None:
            headers = {
                "Content-Length": str(uploaded.stat().st_size),
                "Content-Disposition": f'attachment; filename="{binary.get("name") or binary_id}"',
            }
            return StreamingResponse(files.read(uploaded), media_type=media_type, headers=headers)
        # never uploaded here (seeded, or set by the operator side): a generated image; a binary
        # that names its own version keeps its file when only the asset's metadata changes
        content = images.png(f"{binary_id}:v{binary.get('version') or asset.get('version', 1)}")
        headers = {"Content-Length": str(len(content)), "Content-Disposition": f'attachment; filename="{binary_id}"'}
        return StreamingResponse(iter([content]), media_type=media_type, headers=headers)

    @app.get(PATHS["campaigns"])
    def list_campaigns(
        request: Request,
        release_from: datetime | None = None,
        release_to: datetime | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(50, ge=1, le=200),
    ) -> dict[str, Any]:
        """Campaigns, optionally those releasing in ``[release_from, release_to)``."""
        ctx.require_bearer(request)
        selected = []
        for campaign in ctx.store.all("campaign"):
            released = datetime.fromisoformat(campaign["release_date"].replace("Z", "+00:00"))
            if (release_from and released < release_from) or (release_to and released >= release_to):
                continue
            selected.append(campaign)
        page = selected[offset : offset + count]
        return {"items": page, "total": len(selected), "offset": offset, "count": len(page)}

    @app.get(PATHS["campaign"])
    def get_campaign(request: Request, campaign_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        campaign = ctx.store.get("campaign", campaign_id)
        if campaign is None:
            raise ctx.error(404, "not_found", f"campaign {campaign_id} does not exist")
        return campaign

    @app.put(PATHS["approval"])
    def set_approval(request: Request, asset_id: str, body: ApprovalBody) -> dict[str, Any]:
        subject = ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        current = asset.get("approval_status", "draft")
        if body.status not in TRANSITIONS:
            raise ctx.error(422, "invalid_status", f"unknown approval status {body.status!r}")
        if body.status == current:
            return asset
        if body.status not in TRANSITIONS.get(current, set()):
            raise ctx.error(409, "invalid_transition", f"cannot go from {current} to {body.status}")
        history = [
            *asset.get("approval_history", []),
            {
                "from": current,
                "to": body.status,
                "comment": body.comment,
                "by": subject,
                "at": ctx.clock.now().isoformat(),
            },
        ]
        return save_asset({**asset, "approval_status": body.status, "approval_history": history}, "approval")

    @app.patch(PATHS["metadata"])
    def update_metadata(request: Request, asset_id: str, body: MetadataBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        tags = [t for t in asset.get("tags", []) if t not in body.tags_remove]
        tags += [t for t in body.tags_add if t not in tags]
        metadata = {**asset.get("metadata", {}), **body.metadata}
        if metadata == asset.get("metadata", {}) and tags == asset.get("tags", []):
            return asset  # nothing changes: no new version
        return save_asset({**asset, "metadata": metadata, "tags": tags}, "metadata")

    @app.post(PATHS["variants"])
    async def upload_variant(
        request: Request,
        asset_id: str,
        name: str = Query(min_length=1, max_length=255),
        content_type: str = Query(min_length=3),
        language: str | None = None,
        region: str | None = None,
    ) -> JSONResponse:
        ctx.require_bearer(request)
        master = asset_or_404(asset_id)
        key = request.headers.get("idempotency-key")
        if key:
            existing = ctx.store.get("idempotency", key)
            if existing is not None:
                return JSONResponse(ctx.store.get("asset", existing["asset_id"]), 200)
        sha, size = await files.store(request.stream())  # kept on disk: the download serves it back
        if size == 0:
            raise ctx.error(422, "empty_upload", "the variant has no content")
        variant_id = f"{asset_id}-var-{ctx.store.next_id('variant')}"
        now = ctx.clock.now().isoformat()
        variant = {
            **{k: v for k, v in master.items() if k not in ("approval_history",)},
            "id": variant_id,
            "version": 1,
            "name": name,
            "content_type": content_type,
            "approval_status": "in_review",
            "master_asset_id": asset_id,
            "language": language,
            "region": region,
            "binaries": [
                {
                    "id": f"{variant_id}-main",
                    "name": name,
                    "content_type": content_type,
                    "size_bytes": size,
                    "sha256": sha,
                }
            ],
            "created_at": now,
            "updated_at": now,
        }
        ctx.store.put("asset", variant_id, variant, action="variant")
        if key:
            ctx.store.put("idempotency", key, {"asset_id": variant_id})
        return JSONResponse(variant, 201)

    @app.post(PATHS["retire"])
    def retire(request: Request, asset_id: str, body: RetireBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        if asset.get("approval_status") == "retired":
            return asset
        history = [
            *asset.get("approval_history", []),
            {
                "from": asset.get("approval_status"),
                "to": "retired",
                "comment": body.reason,
                "at": ctx.clock.now().isoformat(),
            },
        ]
        return save_asset({**asset, "approval_status": "retired", "approval_history": history}, "retire")

    # -- operator side ----------------------------------------------------------------------
    @app.post("/_sandbox/smintio/lpt/{lpt_uuid}")
    def mutate_lpt(lpt_uuid: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Change a license (e.g. ``{"valid_until": "…"}`` on every term); it re-enters the feed."""
        lpt = ctx.store.get("lpt", lpt_uuid)
        if lpt is None:
            raise ctx.error(404, "not_found", f"no license purchase transaction {lpt_uuid}")
        term_fields = {k: v for k, v in changes.items() if k in seed._term(0)}
        top_fields = {k: v for k, v in changes.items() if k not in term_fields}
        terms = top_fields.pop("license_terms", None)
        if terms is None:
            terms = [{**term, **term_fields} for term in lpt.get("license_terms") or []]
        updated = {
            **lpt,
            **top_fields,
            "license_terms": terms,
            "version": int(lpt.get("version", 1)) + 1,
            "last_updated_at": ctx.clock.now().isoformat(),
        }
        ctx.store.put("lpt", lpt_uuid, updated, action="mutate")
        push.license_changed(updated)  # subscribers hear of it, as Smint.io's clients do
        return _public(updated)

    @app.get("/_sandbox/smintio/push")
    def push_sockets() -> dict[str, Any]:
        """The open push sockets and their channels (tests wait for a subscription here)."""
        return push.snapshot()

    @app.post("/_sandbox/smintio/push/disconnect")
    def push_disconnect(code: int = Query(4200, ge=1000, le=4999)) -> dict[str, int]:
        """Close every push socket with ``code`` (Pusher's 4200: reconnect immediately)."""
        return {"closed": push.disconnect_all(code)}

    add_reference_routes(app, ctx, save_asset)  # assets by external reference, files (references.py)
    add_comment_routes(app, ctx)  # comments on assets (comments.py)
    add_exposure_routes(app, ctx, save_asset)  # collections, access, asset licenses (exposure.py)
    return app
