"""Returns in the VIP sandbox: media a regional team attaches to an item for review.

Modelled (VIP's paths and payloads are not public): a regional team attaches a localized
variant, translation or resize of media contentops delivered to the same catalog item; it is
media of kind ``localized_variant`` with the attaching party (``attached_by``, a retailer-data
party of type ``regional_team``), ``language``/``region``, ``source_media_ref`` (the media it
was made from: contentops' references are Smint.io asset ids) and a ``review_status``
(``received`` until contentops decides). It is listed and reviewed through
:mod:`contentops_sandbox.vip.item_media`; its file is served on VIP's own host.

Operator side, for demos and the localization tests:

- ``POST /_sandbox/vip/returns`` attaches one as a regional team would; fields are stored as
  given (hostile ones too);
- ``PUT /_sandbox/vip/returns/{media_id}/content`` stores the raw request body as its file
  (served with the request's ``Content-Type``); a return added without a ``download_url`` gets
  the URL of the content route;
- ``?redirect_to=<url>`` instead makes the content route answer ``302`` to that URL — a
  regional team's link that leaves VIP's host, which a client must not follow.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from contentops_sandbox.core import SandboxContext

MEDIA_CONTENT = "/api/v1/item-media/{media_id}/content"
RETURN_KIND = "localized_variant"
REVIEW_STATUSES = {"received", "in_review", "accepted", "rejected", "quarantined"}


def return_content(ctx: SandboxContext, media_id: str) -> Response:
    """The file of a return (or the redirect its operator set up)."""
    stored = ctx.store.get("return_file", media_id)
    if stored is None:
        raise ctx.error(404, "content_not_found", f"media {media_id} has no file")
    if stored.get("redirect_to"):
        return RedirectResponse(stored["redirect_to"], status_code=302)
    body = base64.b64decode(stored["data"])
    return Response(body, media_type=stored.get("content_type") or "application/octet-stream")


def add_return_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Mount the operator routes of returns on the VIP sandbox app."""

    def content_url(media_id: str) -> str:
        base = (ctx.config.public_url or "").rstrip("/")
        return base + MEDIA_CONTENT.format(media_id=media_id)

    @app.post("/_sandbox/vip/returns", status_code=201)
    def add_return(body: dict[str, Any]) -> dict[str, Any]:
        """Attach a return as a regional team would; fields are stored as given (hostile ones too)."""
        media_id = f"med-{ctx.store.next_id('return')}"
        now = ctx.clock.now().isoformat()
        item = {
            "id": media_id,
            "kind": RETURN_KIND,
            "attached_by_type": "regional_team",
            "review_status": "received",
            "attached_at": now,
            **body,
            "updated_at": now,
        }
        ctx.store.put("return", media_id, item, action="received")
        return item

    @app.put("/_sandbox/vip/returns/{media_id}/content")
    async def put_return_content(request: Request, media_id: str, redirect_to: str | None = None) -> dict[str, Any]:
        """Store the file of a return (raw body), or make its content route redirect elsewhere."""
        item = ctx.store.get("return", media_id)
        if item is None:
            raise ctx.error(404, "media_not_found", f"no media {media_id}")
        data = await request.body()
        ctx.store.put(
            "return_file",
            media_id,
            {
                "data": base64.b64encode(data).decode(),
                "content_type": request.headers.get("content-type"),
                "redirect_to": redirect_to,
            },
        )
        filled = {
            **({"download_url": content_url(media_id)} if not item.get("download_url") else {}),
            **({"size": len(data)} if item.get("size") is None else {}),
        }
        if filled:
            item = {**item, **filled}
            ctx.store.put("return", media_id, item, action="file")
        return item
