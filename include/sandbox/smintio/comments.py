"""Comments on assets in the Smint.io sandbox (modelled: the Portals backend is not public).

What brand managers and reviewers say about an asset, in order: ``GET`` lists them, ``POST``
adds one (``{"text": …, "author": …, "external_ref": …}``; the author defaults to the token's
subject). A comment carrying an ``external_ref`` that is already on the asset is not added a
second time — the reference is how an integration mirrors a comment from another system once.
Adding a comment does not change the asset's version (comments are not asset metadata).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxContext

COMMENT_PATHS = {"comments": "/backend/v1/assets/{asset_id}/comments"}


class CommentBody(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    author: str | None = Field(None, max_length=200)
    external_ref: str | None = Field(None, max_length=200)


def add_comment_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Mount the asset comment routes on the Smint.io sandbox app."""

    def asset_or_404(asset_id: str) -> dict[str, Any]:
        asset = ctx.store.get("asset", asset_id)
        if asset is None:
            raise ctx.error(404, "not_found", f"asset {asset_id} does not exist")
        return asset

    @app.get(COMMENT_PATHS["comments"])
    def comments(request: Request, asset_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        asset_or_404(asset_id)
        items = [c for c in ctx.store.all("comment") if c["asset_id"] == asset_id]
        return {"items": items, "total": len(items)}

    @app.post(COMMENT_PATHS["comments"])
    def add_comment(request: Request, asset_id: str, body: CommentBody) -> JSONResponse:
        subject = ctx.require_bearer(request)
        asset_or_404(asset_id)
        if body.external_ref:
            for existing in ctx.store.all("comment"):
                if existing["asset_id"] == asset_id and existing.get("external_ref") == body.external_ref:
                    return JSONResponse(existing, 200)
        comment_id = f"cmt-{ctx.store.next_id('comment')}"
        comment = {
            "id": comment_id,
            "asset_id": asset_id,
            "text": body.text,
            "author": body.author or subject,
            "external_ref": body.external_ref,
            "created_at": ctx.clock.now().isoformat(),
        }
        ctx.store.put("comment", comment_id, comment, action="comment")
        return JSONResponse(comment, 201)
