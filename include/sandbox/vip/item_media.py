"""Media across VIP's item catalog, in the VIP sandbox (modelled): one listing for what is
attached to any item, one media by VIP's id, its file, and the review of a return.

- ``GET /api/v1/item-media?kind=&attached_by_type=&attached_since=&changed_since=&changed_before=&offset=&limit=``
  lists media of the given kinds (comma-separated), attached by parties of one type, attached
  after a cursor, or changed in ``[changed_since, changed_before)``, oldest change first
  (``items``, ``total``): the returns regional teams attached (kind ``localized_variant``,
  :mod:`contentops_sandbox.vip.returns`) and the content VIP holds
  (:data:`~contentops_sandbox.vip.catalog.CATALOG_KINDS`, :mod:`contentops_sandbox.vip.catalog`);
- ``GET /api/v1/item-media/{media_id}`` one of them, ``…/content`` its file (same bearer token);
- ``PATCH /api/v1/item-media/{media_id}/review`` sets a return's ``review_status`` with a note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from contentops_sandbox.core import SandboxContext
from contentops_sandbox.vip import catalog
from contentops_sandbox.vip.returns import REVIEW_STATUSES, return_content

MEDIA = {
    "all_media": "/api/v1/item-media",
    "media_by_id": "/api/v1/item-media/{media_id}",
    "media_by_id_content": "/api/v1/item-media/{media_id}/content",
    "media_review": "/api/v1/item-media/{media_id}/review",
}
#: sandbox store kinds the listing reads (returns first: they are the newer concept per item)
_STORES = ("return", "catalog")


class ReviewBody(BaseModel):
    review_status: str
    note: str | None = None


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def add_item_media_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Serve the cross-catalogue media routes on ``app`` (the VIP sandbox's)."""
    catalog.add_catalog_routes(app, ctx)

    def public(request: Request, store: str, media: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in media.items() if k != "content_seed"}
        if store == "catalog" and media.get("id"):
            base = (ctx.config.public_url or str(request.base_url)).rstrip("/")
            body["download_url"] = base + MEDIA["media_by_id_content"].format(media_id=media["id"])
        return body

    def find(media_id: str) -> tuple[str, dict[str, Any]]:
        for store in _STORES:
            media = ctx.store.get(store, media_id)
            if media is not None:
                return store, media
        raise ctx.error(404, "media_not_found", f"no media {media_id}")

    @app.get(MEDIA["all_media"])
    def all_media(
        request: Request,
        kind: str | None = None,
        attached_by_type: str | None = None,
        attached_since: datetime | None = None,
        changed_since: datetime | None = None,
        changed_before: datetime | None = None,
        offset: int = Query(0, ge=0),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        kinds = {k for k in (kind or "").split(",") if k}
        found: list[tuple[str, dict[str, Any]]] = []
        for store in _STORES:
            for media in ctx.store.all(store):
                if kinds and media.get("kind") not in kinds:
                    continue
                if attached_by_type is not None and media.get("attached_by_type") != attached_by_type:
                    continue
                attached, changed = _moment(media.get("attached_at")), _moment(media.get("updated_at"))
                if attached_since is not None and (attached is None or attached <= attached_since):
                    continue
                if changed_since is not None and (changed is None or changed < changed_since):
                    continue
                if changed_before is not None and (changed is None or changed >= changed_before):
                    continue
                found.append((store, media))
        page = [public(request, store, m) for store, m in found[offset : offset + limit]]
        if ctx.faults.should_malform() and page:
            # a malformed first media of the page: a return without its source, an entry without its name
            dropped = "source_media_ref" if page[0].get("kind") == "localized_variant" else "file_name"
            page = [{k: v for k, v in page[0].items() if k != dropped}, *page[1:]]
        return {"items": page, "total": len(found), "offset": offset, "limit": limit}

    @app.get(MEDIA["media_by_id"])
    def media_by_id(request: Request, media_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        store, media = find(media_id)
        return public(request, store, media)

    @app.get(MEDIA["media_by_id_content"])
    def media_content(request: Request, media_id: str) -> Response:
        ctx.require_bearer(request)
        store, media = find(media_id)
        if store == "return":
            return return_content(ctx, media_id)
        if media.get("status") == "withdrawn":
            raise ctx.error(410, "withdrawn", f"media {media_id} was withdrawn")
        return Response(
            catalog.content_of(media),
            media_type=str(media.get("content_type") or "application/octet-stream"),
            headers={"Content-Disposition": f'attachment; filename="{media.get("file_name") or media_id}"'},
        )

    @app.patch(MEDIA["media_review"])
    def review(request: Request, media_id: str, body: ReviewBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        store, media = find(media_id)
        if store != "return":
            raise ctx.error(409, "not_for_review", f"media {media_id} was not attached for review")
        if body.review_status not in REVIEW_STATUSES:
            raise ctx.error(422, "invalid_status", f"review_status must be one of {sorted(REVIEW_STATUSES)}")
        now = ctx.clock.now().isoformat()
        media = {**media, "review_status": body.review_status, "review_note": body.note, "reviewed_at": now}
        ctx.store.put("return", media_id, media, action="status")
        return media
