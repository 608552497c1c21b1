"""A source DAM (Bynder / Brandfolder style) beside the Workflow sandbox: where ingest batches come from.

Content arriving from another DAM is announced by a ``dam_ingest`` process; the assets of the
batch are read from the source DAM's own listing. Bynder and Brandfolder both list assets page
by page with an API token as a Bearer header; everything below — the paths, the page fields,
an asset's fields — is **modelled** (docs/systems/opentext_workflow.md, "source DAM"), and
served by the Workflow sandbox so the demo stack needs no further port:

- ``GET /source-dam/v1/batches/{batch_id}/assets?page=&per=`` (``page`` from 1, ``per`` at most
  100) → ``{"data": [asset…], "meta": {"page", "per", "total_count", "total_pages", "next_page"}}``
  (``next_page`` null on the last page); 404 for an unknown batch, 401 without the API token.
- an asset: ``id``, ``version``, ``name``, ``content_type``, ``description``, ``url``, ``tags``,
  ``metadata``, ``license`` (``regions``, ``channels``, ``valid_from``, ``valid_until``,
  ``editorial_only``, ``holder``, ``reference``) and ``access_groups`` (who may see it).

Operator route: ``PUT /_sandbox/source-dam/batches/{batch_id}`` ``{"assets": [...]}`` sets a batch.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from pydantic import BaseModel

from contentops_sandbox.core import SandboxContext

SOURCE_DAM_PATHS = {"batch_assets": "/source-dam/v1/batches/{batch_id}/assets"}
DEMO_API_TOKEN = "source-dam-demo-token"  # noqa: S105 - the sandbox's published demo credential


class BatchBody(BaseModel):
    assets: list[dict[str, Any]]


def add_source_dam_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Mount the source DAM's listing and its operator route."""

    @app.put("/_sandbox/source-dam/batches/{batch_id}")
    def put_batch(batch_id: str, body: BatchBody) -> dict[str, Any]:
        ctx.store.put("source_dam_batch", batch_id, {"id": batch_id, "assets": body.assets})
        return {"id": batch_id, "count": len(body.assets)}

    @app.get(SOURCE_DAM_PATHS["batch_assets"])
    def batch_assets(
        request: Request, batch_id: str, page: int = Query(1, ge=1), per: int = Query(25, ge=1, le=100)
    ) -> dict[str, Any]:
        if request.headers.get("authorization") != f"Bearer {DEMO_API_TOKEN}":
            raise ctx.error(401, "unauthorized", "send the API token as a Bearer header")
        batch = ctx.store.get("source_dam_batch", batch_id)
        if batch is None:
            raise ctx.error(404, "not_found", f"batch {batch_id} does not exist")
        assets = batch["assets"]
        total_pages = max(1, -(-len(assets) // per))
        data = assets[(page - 1) * per : page * per]
        return {
            "data": data,
            "meta": {
                "page": page,
                "per": per,
                "total_count": len(assets),
                "total_pages": total_pages,
                "next_page": page + 1 if page < total_pages else None,
            },
        }
