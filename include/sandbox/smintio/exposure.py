"""How assets are exposed to Smint.io's users (modelled: the Portals backend is not public).

- **Collections** are what creatives browse from their design tools: a named set of assets
  registered under the integration's reference. ``PUT /backend/v1/collections-by-reference/{reference}``
  creates (201) or renames (200) one; ``PUT …/collections/{id}/assets/{asset_id}`` adds an asset
  (200 when it is in already: nothing changes), ``DELETE`` the same path takes it out (204, also
  when it was not in); ``GET …/collections/{id}`` shows it with its ``asset_ids`` in the order added.
- **Access permissions** of an asset: ``PUT /backend/v1/assets/{asset_id}/access``
  ``{"visibility": "restricted" | "internal" | "public", "groups": [...]}`` — who sees it in the
  portal (``restricted`` = only the named user groups). The same body again changes nothing.
- **An asset's own license**, for content not bought through Smint.io (a DAM being onboarded):
  ``PUT /backend/v1/assets/{asset_id}/license`` with the license's ``reference`` and its usage
  rules (``holder``, ``regions``, ``channels``, ``valid_from``, ``valid_until``, ``editorial_only``).
  The asset then names that reference as its ``license_purchase_transaction_uuid``, as a purchased
  asset names its purchase transaction, and carries the rules as ``license``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxContext
from contentops_sandbox.smintio.references import REFERENCE_PATTERN

EXPOSURE_PATHS = {
    "collection_by_reference": "/backend/v1/collections-by-reference/{reference}",
    "collection": "/backend/v1/collections/{collection_id}",
    "collection_asset": "/backend/v1/collections/{collection_id}/assets/{asset_id}",
    "asset_access": "/backend/v1/assets/{asset_id}/access",
    "asset_license": "/backend/v1/assets/{asset_id}/license",
}


class CollectionBody(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str | None = Field(None, max_length=4000)


class AccessBody(BaseModel):
    visibility: Literal["restricted", "internal", "public"]
    groups: list[str] = Field(default_factory=list)


class LicenseBody(BaseModel):
    reference: str = Field(min_length=1, max_length=200)
    holder: str | None = None
    regions: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    editorial_only: bool = False


def add_exposure_routes(app: FastAPI, ctx: SandboxContext, save_asset: Callable[[dict, str], dict]) -> None:
    """Mount collections, access permissions and asset licenses on the Smint.io sandbox app."""

    def asset_or_404(asset_id: str) -> dict[str, Any]:
        asset = ctx.store.get("asset", asset_id)
        if asset is None:
            raise ctx.error(404, "not_found", f"asset {asset_id} does not exist")
        return asset

    def collection_or_404(collection_id: str) -> dict[str, Any]:
        collection = ctx.store.get("collection", collection_id)
        if collection is None:
            raise ctx.error(404, "not_found", f"collection {collection_id} does not exist")
        return collection

    @app.put(EXPOSURE_PATHS["collection_by_reference"])
    def upsert_collection(request: Request, reference: str, body: CollectionBody) -> JSONResponse:
        ctx.require_bearer(request)
        if not REFERENCE_PATTERN.match(reference):
            raise ctx.error(422, "invalid_reference", "a reference is 1-200 letters, digits and . _ : @ -")
        existing = [c for c in ctx.store.all("collection") if c["external_reference"] == reference]
        if existing:
            collection = existing[0]
            if collection["name"] == body.name and collection.get("description") == body.description:
                return JSONResponse(collection, 200)
            changed = {**collection, "name": body.name, "description": body.description}
            ctx.store.put("collection", collection["id"], changed, action="rename")
            return JSONResponse(changed, 200)
        collection_id = f"col-{ctx.store.next_id('collection')}"
        collection = {
            "id": collection_id,
            "external_reference": reference,
            "name": body.name,
            "description": body.description,
            "asset_ids": [],
            "created_at": ctx.clock.now().isoformat(),
        }
        ctx.store.put("collection", collection_id, collection, action="create")
        return JSONResponse(collection, 201)

    @app.get(EXPOSURE_PATHS["collection"])
    def get_collection(request: Request, collection_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return collection_or_404(collection_id)

    @app.put(EXPOSURE_PATHS["collection_asset"])
    def add_to_collection(request: Request, collection_id: str, asset_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        collection = collection_or_404(collection_id)
        asset_or_404(asset_id)
        if asset_id in collection["asset_ids"]:
            return collection
        changed = {**collection, "asset_ids": [*collection["asset_ids"], asset_id]}
        ctx.store.put("collection", collection_id, changed, action="add_asset")
        return changed

    @app.delete(EXPOSURE_PATHS["collection_asset"])
    def remove_from_collection(request: Request, collection_id: str, asset_id: str) -> Response:
        ctx.require_bearer(request)
        collection = collection_or_404(collection_id)
        if asset_id in collection["asset_ids"]:
            changed = {**collection, "asset_ids": [a for a in collection["asset_ids"] if a != asset_id]}
            ctx.store.put("collection", collection_id, changed, action="remove_asset")
        return Response(status_code=204)

    @app.put(EXPOSURE_PATHS["asset_access"])
    def set_access(request: Request, asset_id: str, body: AccessBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        if body.visibility == "restricted" and not body.groups:
            raise ctx.error(422, "groups_required", "a restricted asset names the user groups that see it")
        access = {"visibility": body.visibility, "groups": sorted(set(body.groups))}
        if asset.get("access") == access:
            return asset
        return save_asset({**asset, "access": access}, "access")

    @app.put(EXPOSURE_PATHS["asset_license"])
    def set_license(request: Request, asset_id: str, body: LicenseBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        license_ = body.model_dump(mode="json")
        if asset.get("license") == license_ and asset.get("license_purchase_transaction_uuid") == body.reference:
            return asset
        changed = {**asset, "license": license_, "license_purchase_transaction_uuid": body.reference}
        return save_asset(changed, "license")
