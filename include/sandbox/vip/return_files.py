"""The files of VIP returns: what a regional team uploaded with a localized variant.

Modelled (VIP's endpoint list is not public): a return's file is served on VIP's own host at
``GET /api/v1/returns/{return_id}/content`` (bearer token), the way a return's
``download_url`` points at it. Operator side, for demos and the localization tests:

- ``PUT /_sandbox/vip/returns/{return_id}/content`` stores the raw request body as the file
  (served with the request's ``Content-Type``); a return added without a ``download_url`` gets
  the URL of this route;
- ``?redirect_to=<url>`` instead makes the content route answer ``302`` to that URL — a
  regional team's link that leaves VIP's host, which a client must not follow.
"""

from __future__ import annotations

import base64
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from contentops_sandbox.core import SandboxContext

RETURN_CONTENT = "/api/v1/returns/{return_id}/content"


def add_return_file_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Mount the return file routes on the VIP sandbox app."""

    def content_url(return_id: str) -> str:
        base = (ctx.config.public_url or "").rstrip("/")
        return base + RETURN_CONTENT.format(return_id=return_id)

    @app.get(RETURN_CONTENT)
    def return_content(request: Request, return_id: str) -> Response:
        ctx.require_bearer(request)
        if ctx.store.get("return", return_id) is None:
            raise ctx.error(404, "return_not_found", f"no return {return_id}")
        stored = ctx.store.get("return_file", return_id)
        if stored is None:
            raise ctx.error(404, "content_not_found", f"return {return_id} has no file")
        if stored.get("redirect_to"):
            return RedirectResponse(stored["redirect_to"], status_code=302)
        body = base64.b64decode(stored["data"])
        return Response(body, media_type=stored.get("content_type") or "application/octet-stream")

    @app.put("/_sandbox/vip/returns/{return_id}/content")
    async def put_return_content(request: Request, return_id: str, redirect_to: str | None = None) -> dict[str, Any]:
        """Store the file of a return (raw body), or make its content route redirect elsewhere."""
        item = ctx.store.get("return", return_id)
        if item is None:
            raise ctx.error(404, "return_not_found", f"no return {return_id}")
        data = await request.body()
        ctx.store.put(
            "return_file",
            return_id,
            {
                "data": base64.b64encode(data).decode(),
                "content_type": request.headers.get("content-type"),
                "redirect_to": redirect_to,
            },
        )
        filled = {
            **({"download_url": content_url(return_id)} if not item.get("download_url") else {}),
            **({"size": len(data)} if item.get("size") is None else {}),
        }
        if filled:
            item = {**item, **filled}
            ctx.store.put("return", return_id, item, action="file")
        return item
