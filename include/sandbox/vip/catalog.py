"""The VIP sandbox's catalogue: the content VIP itself holds (modelled, like all of VIP's API).

VIP keeps master packages, localized versions, approved deliverables and approved
replacements that regional teams and agencies made on the VIP side. contentops makes them
searchable in Smint.io (VIP-2) and reflects approved replacements on the Smint.io master
(VIP-4). None of this is public, so the shape is ours (see docs/systems/vip.md):

- ``GET /api/v1/catalog?changed_since=&changed_before=&kind=&offset=&limit=`` lists entries
  changed in ``[changed_since, changed_before)`` in change order (``items``, ``total``);
- ``GET /api/v1/catalog/{entry_id}`` one entry; every entry carries a ``download_url`` on
  VIP's own host, which needs the same bearer token as the API;
- ``GET /api/v1/catalog/{entry_id}/content`` streams the file (``Content-Length`` set).

An entry: ``id``, ``kind`` (:data:`CATALOG_KINDS`), ``title``, ``description``, ``file_name``,
``content_type``, ``size``, ``sha256``, ``region``, ``language``, ``status``
(:data:`CATALOG_STATUSES`), ``version`` (grows on every change), ``package_ref``,
``master_entry_id`` (a localized version's VIP master), ``replaces_asset_id`` (the Smint.io
master an approved replacement stands in for), ``smintio_asset_id`` (set when the file came
from Smint.io in the first place), ``tags``, ``created_at``, ``updated_at``.

Operator side: ``PUT /_sandbox/vip/catalog/{entry_id}`` creates an entry or changes one (its
version grows, its file is regenerated when the content changes); fields are stored as given,
hostile ones included, for the quarantine tests.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from contentops_sandbox.core import SandboxContext
from contentops_sandbox.smintio import images

CATALOG = {
    "catalog": "/api/v1/catalog",
    "catalog_entry": "/api/v1/catalog/{entry_id}",
    "catalog_content": "/api/v1/catalog/{entry_id}/content",
}
CATALOG_KINDS = ("master_package", "localized_version", "deliverable", "replacement")
CATALOG_STATUSES = ("draft", "approved", "withdrawn")
#: fields whose change means a new file
_CONTENT_FIELDS = ("file_name", "content_type", "content_seed")


def content_of(entry: dict[str, Any]) -> bytes:
    """The entry's file: a real PNG derived from its id and content seed (stable per content)."""
    return images.png(f"vip-catalog:{entry.get('id')}:{entry.get('content_seed', 1)}")


def _with_file(entry: dict[str, Any]) -> dict[str, Any]:
    data = content_of(entry)
    return {**entry, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def seed_catalog(context: SandboxContext) -> None:
    """A small demo catalogue: two masters, their localized versions, a deliverable, a draft."""
    now = context.clock.now().isoformat()
    entries = [
        ("vip-cat-001", "master_package", "Spring launch master key visual", None, None, "approved", None),
        (
            "vip-cat-002",
            "localized_version",
            "Spring key visual (German)",
            "dach",
            "de",
            "approved",
            "vip-cat-001",
        ),
        (
            "vip-cat-003",
            "localized_version",
            "Spring key visual (French)",
            "emea",
            "fr",
            "approved",
            "vip-cat-001",
        ),
        ("vip-cat-004", "master_package", "Retail shelf talker master", None, None, "approved", None),
        (
            "vip-cat-005",
            "deliverable",
            "Shelf talker, US print",
            "north_america",
            "en",
            "approved",
            "vip-cat-004",
        ),
        ("vip-cat-006", "deliverable", "Summer teaser (work in progress)", "emea", "en", "draft", None),
    ]
    docs = []
    for entry_id, kind, title, region, language, status, master in entries:
        docs.append(
            (
                entry_id,
                _with_file(
                    {
                        "id": entry_id,
                        "kind": kind,
                        "title": title,
                        "description": f"{title}, held in VIP",
                        "file_name": f"{entry_id}.png",
                        "content_type": "image/png",
                        "region": region,
                        "language": language,
                        "status": status,
                        "version": 1,
                        "package_ref": "vip-library",
                        "master_entry_id": master,
                        "replaces_asset_id": None,
                        "smintio_asset_id": None,
                        "tags": [f"vip:{kind}"],
                        "content_seed": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ),
            )
        )
    context.store.put_many("catalog", docs)


def add_catalog_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Serve the catalogue on ``app`` (the VIP sandbox's)."""

    def entry_or_404(entry_id: str) -> dict[str, Any]:
        entry = ctx.store.get("catalog", entry_id)
        if entry is None:
            raise ctx.error(404, "catalog_entry_not_found", f"no catalogue entry {entry_id}")
        return entry

    def public(request: Request, entry: dict[str, Any]) -> dict[str, Any]:
        base = (ctx.config.public_url or str(request.base_url)).rstrip("/")
        body = {k: v for k, v in entry.items() if k != "content_seed"}
        if entry.get("id"):
            body["download_url"] = base + CATALOG["catalog_content"].format(entry_id=entry["id"])
        return body

    def changed_at(entry: dict[str, Any]) -> datetime | None:
        try:
            return datetime.fromisoformat(str(entry.get("updated_at")))
        except ValueError:
            return None

    @app.get(CATALOG["catalog"])
    def catalog(
        request: Request,
        changed_since: datetime | None = None,
        changed_before: datetime | None = None,
        kind: str | None = None,
        offset: int = Query(0, ge=0),
        limit: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = []
        for entry in ctx.store.all("catalog"):
            moment = changed_at(entry)
            if changed_since is not None and (moment is None or moment < changed_since):
                continue
            if changed_before is not None and (moment is None or moment >= changed_before):
                continue
            if kind is not None and entry.get("kind") != kind:
                continue
            items.append(entry)
        page = [public(request, e) for e in items[offset : offset + limit]]
        if ctx.faults.should_malform() and page:
            page = [{k: v for k, v in page[0].items() if k != "file_name"}, *page[1:]]
        return {"items": page, "total": len(items), "offset": offset, "limit": limit}

    @app.get(CATALOG["catalog_entry"])
    def catalog_entry(request: Request, entry_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return public(request, entry_or_404(entry_id))

    @app.get(CATALOG["catalog_content"])
    def catalog_content(request: Request, entry_id: str) -> Response:
        ctx.require_bearer(request)
        entry = entry_or_404(entry_id)
        if entry.get("status") == "withdrawn":
            raise ctx.error(410, "withdrawn", f"catalogue entry {entry_id} was withdrawn")
        data = content_of(entry)
        return Response(
            data,
            media_type=str(entry.get("content_type") or "application/octet-stream"),
            headers={"Content-Disposition": f'attachment; filename="{entry.get("file_name") or entry_id}"'},
        )

    @app.put("/_sandbox/vip/catalog/{entry_id}")
    def put_entry(entry_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or change an entry as a VIP user would (fields stored as given)."""
        now = ctx.clock.now().isoformat()
        existing = ctx.store.get("catalog", entry_id)
        if existing is None:
            entry = {
                "id": entry_id,
                "kind": "deliverable",
                "status": "approved",
                "version": 1,
                "tags": [],
                "region": None,
                "language": None,
                "package_ref": None,
                "master_entry_id": None,
                "replaces_asset_id": None,
                "smintio_asset_id": None,
                "content_seed": 1,
                "created_at": now,
                **body,
                "updated_at": now,
            }
        else:
            entry = {**existing, **body, "version": int(existing.get("version") or 0) + 1, "updated_at": now}
            if any(entry.get(k) != existing.get(k) for k in _CONTENT_FIELDS) or body.get("new_file"):
                entry["content_seed"] = int(existing.get("content_seed") or 1) + 1
        entry.pop("new_file", None)
        if "sha256" not in body and "size" not in body:
            entry = _with_file(entry)
        ctx.store.put("catalog", entry_id, entry, action="update" if existing else "create")
        return entry
