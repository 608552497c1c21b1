"""Portals backend (modelled): assets registered by an external reference, and their files.

Content that lives in another system (VIP's catalogue, a DAM being onboarded) becomes a
Smint.io asset under that system's reference, so registering it again updates the same
asset instead of adding a second one:

- ``PUT /backend/v1/assets-by-reference/{reference}`` creates the asset (201) or changes its
  name, description, metadata, tags, categories, region, language, campaign or master link
  (200; the asset's version grows only when something really changed). ``approval_status`` is
  taken on creation only (``draft`` / ``in_review`` / ``approved``; default ``in_review``);
  later changes go through the approval endpoint, which keeps the approval history.
- ``PUT /backend/v1/assets/{asset_id}/content`` streams the asset's main file (raw body,
  ``Content-Type`` = the file's type, ``?file_name=``); the same bytes again change nothing.

Uploaded files are kept under the sandbox's state directory (:mod:`contentops_sandbox.smintio.files`),
never in memory as a whole; the asset's ``binaries[0]`` then names the file with its size and
SHA-256, and the asset's binary download route serves exactly those bytes back.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxContext
from contentops_sandbox.smintio.files import ContentFiles

REFERENCE_PATHS = {
    "asset_by_reference": "/backend/v1/assets-by-reference/{reference}",
    "asset_content": "/backend/v1/assets/{asset_id}/content",
}
REFERENCE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$")
INITIAL_STATUSES = {"draft", "in_review", "approved"}
#: fields an upsert may change
_FIELDS = ("name", "description", "content_type", "metadata", "tags", "categories", "region", "language", "campaign")


class ReferenceBody(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(min_length=3)
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    region: str | None = None
    language: str | None = None
    campaign: str | None = None
    master_asset_id: str | None = None
    approval_status: str | None = None


def add_reference_routes(app: FastAPI, ctx: SandboxContext, save_asset: Callable[[dict, str], dict]) -> None:
    """Serve the by-reference and content routes; ``save_asset`` bumps version and time like every write."""
    files = ContentFiles(ctx.config.state_dir)

    def asset_or_404(asset_id: str) -> dict[str, Any]:
        asset = ctx.store.get("asset", asset_id)
        if asset is None:
            raise ctx.error(404, "not_found", f"asset {asset_id} does not exist")
        return asset

    @app.put(REFERENCE_PATHS["asset_by_reference"])
    def upsert_by_reference(request: Request, reference: str, body: ReferenceBody) -> JSONResponse:
        ctx.require_bearer(request)
        if not REFERENCE_PATTERN.match(reference):
            raise ctx.error(422, "invalid_reference", "a reference is 1-200 letters, digits and . _ : @ -")
        if body.master_asset_id and ctx.store.get("asset", body.master_asset_id) is None:
            raise ctx.error(422, "unknown_master", f"master asset {body.master_asset_id} does not exist")
        link = ctx.store.get("reference", reference)
        fields = {name: getattr(body, name) for name in _FIELDS}
        fields["master_asset_id"] = body.master_asset_id
        if link is None:
            status = body.approval_status or "in_review"
            if status not in INITIAL_STATUSES:
                raise ctx.error(422, "invalid_status", f"a new asset starts as one of {sorted(INITIAL_STATUSES)}")
            asset_id = f"asset-ref-{ctx.store.next_id('reference')}"
            now = ctx.clock.now().isoformat()
            asset = {
                "id": asset_id,
                "version": 1,
                **fields,
                "approval_status": status,
                "compliance_status": None,
                "license_purchase_transaction_uuid": None,
                "external_reference": reference,
                "binaries": [],
                "created_at": now,
                "updated_at": now,
            }
            ctx.store.put("asset", asset_id, asset, action="create_by_reference")
            ctx.store.put("reference", reference, {"asset_id": asset_id})
            return JSONResponse(asset, 201)
        asset = asset_or_404(link["asset_id"])
        if all(asset.get(name) == value for name, value in fields.items()):
            return JSONResponse(asset, 200)  # nothing changes: no new version
        return JSONResponse(save_asset({**asset, **fields}, "update_by_reference"), 200)

    @app.put(REFERENCE_PATHS["asset_content"])
    async def put_content(request: Request, asset_id: str, file_name: str | None = None) -> dict[str, Any]:
        ctx.require_bearer(request)
        asset = asset_or_404(asset_id)
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if not content_type or content_type == "application/x-www-form-urlencoded":
            raise ctx.error(415, "content_type_required", "send the file as the raw body with its Content-Type")
        sha, size = await files.store(request.stream())
        if size == 0:
            raise ctx.error(422, "empty_upload", "no bytes received")
        current = (asset.get("binaries") or [{}])[0]
        if current.get("sha256") == sha and current.get("content_type") == content_type:
            return asset  # the same file again: nothing changes
        binary = {
            "id": f"{asset_id}-main",
            "name": file_name or current.get("name") or asset.get("name"),
            "content_type": content_type,
            "size_bytes": size,
            "sha256": sha,
        }
        return save_asset({**asset, "binaries": [binary], "content_type": content_type}, "content")
