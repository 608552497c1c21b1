"""The OpenText Exstream sandbox: the Design and Asset Service (DAS) resources contentops manages.

Sourced (opentext/ocp-communication collection and SDK, shared/api-notes/opentext.md §3): the
OCP token, ``/design/api/v1`` resources listed with ``filter.types`` / ``filter.states`` and
``offset`` / ``count`` in the ``{"status", "details", "data", "page": {…}}`` envelope, upload
``POST /resources/{domain}/content?name=&type=`` (multipart field ``file``), state changes
``PUT /resources/{domain}/{id}/state`` with ``auditedComment`` and the transitions DRAFT→REVIEW,
REVIEW→APPROVED, APPROVED→DRAFT, REVIEW→REJECTED; ``GET /design/api/v1/version``.

Modelled (every path in :data:`PATHS`): resource metadata (rights expiry, regions, segments,
source asset) read and replaced at ``/resources/{domain}/{id}/metadata``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import FastAPI, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app
from contentops_sandbox.opentext_common import add_ocp_token_routes, ocp_error_body

BASE = "/design/api/v1"
PATHS = {
    "version": f"{BASE}/version",
    "resources": f"{BASE}/resources/{{domain}}",
    "upload": f"{BASE}/resources/{{domain}}/content",
    "resource": f"{BASE}/resources/{{domain}}/{{resource_id}}",
    "state": f"{BASE}/resources/{{domain}}/{{resource_id}}/state",
    "metadata": f"{BASE}/resources/{{domain}}/{{resource_id}}/metadata",
}
DOMAINS = ("retail", "insurance")
TRANSITIONS = {("DRAFT", "REVIEW"), ("REVIEW", "APPROVED"), ("APPROVED", "DRAFT"), ("REVIEW", "REJECTED")}


class StateBody(BaseModel):
    state: str
    auditedComment: str | None = None
    locked: bool = False


def _seed(context: SandboxContext) -> None:
    context.store.put_many("domain", [(d, {"id": d, "production": True, "workflow": True}) for d in DOMAINS])


def _envelope(data: list[dict[str, Any]], offset: int, count: int, total: int) -> dict[str, Any]:
    return {
        "status": 200,
        "details": "OK",
        "data": data,
        "page": {
            "pageSize": count,
            "pageOffset": offset,
            "totalElements": total,
            "totalPages": -(-total // count) if count else 0,
            "currentPageNumber": offset // count if count else 0,
        },
    }


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app(
        "exstream", config, error_body=ocp_error_body, seed=_seed, title="OpenText Exstream sandbox"
    )
    add_ocp_token_routes(app, ctx)

    def resource_or_404(domain: str, resource_id: str) -> dict[str, Any]:
        resource = ctx.store.get("resource", resource_id)
        if resource is None or resource["domain"] != domain:
            raise ctx.error(404, "ResourceNotFound", f"resource {resource_id} not found in {domain}")
        return resource

    @app.get(PATHS["version"])
    def version() -> dict[str, Any]:
        return {"apiIdentifier": "design", "major": 25, "minor": 4, "patch": 0, "versionString": "25.4.0"}

    @app.get(PATHS["resources"])
    def list_resources(
        request: Request, domain: str, offset: int = Query(0, ge=0), count: int = Query(20, ge=1, le=200)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        types = request.query_params.getlist("filter.types")
        states = request.query_params.getlist("filter.states")
        items = [
            r
            for r in ctx.store.all("resource")
            if r["domain"] == domain and (not types or r["type"] in types) and (not states or r["state"] in states)
        ]
        return _envelope(items[offset : offset + count], offset, count, len(items))

    @app.post(PATHS["upload"], status_code=201)
    async def upload(
        request: Request, domain: str, file: UploadFile, name: str = Query(min_length=1), type: str = Query("image")
    ) -> dict[str, Any]:
        subject = ctx.require_bearer(request)
        if domain not in DOMAINS:
            raise ctx.error(404, "DomainNotFound", f"domain {domain} not found")
        digest, size = hashlib.sha256(), 0
        while chunk := await file.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        resource_id = f"res-{ctx.store.next_id('resource')}"
        resource = {
            "id": resource_id,
            "version": 1,
            "name": name,
            "type": type,
            "state": "DRAFT",
            "stateComment": None,
            "domain": domain,
            "createdBy": subject,
            "createdDate": ctx.clock.now().isoformat(),
            "metadata": {"subtype": None},
            "locked": False,
            "content": {"sha256": digest.hexdigest(), "size": size},
        }
        ctx.store.put("resource", resource_id, resource, action="upload")
        return _envelope([resource], 0, 1, 1)

    @app.put(PATHS["state"])
    def change_state(request: Request, domain: str, resource_id: str, body: StateBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if body.state == resource["state"]:
            return _envelope([resource], 0, 1, 1)
        if (resource["state"], body.state) not in TRANSITIONS:
            raise ctx.error(
                400, "IllegalStateTransition", f"cannot move {resource_id} from {resource['state']} to {body.state}"
            )
        resource = {
            **resource,
            "state": body.state,
            "stateComment": body.auditedComment,
            "locked": body.locked,
            "version": resource["version"] + (1 if resource["state"] == "APPROVED" else 0),
        }
        ctx.store.put("resource", resource_id, resource, action=f"state:{body.state}")
        return _envelope([resource], 0, 1, 1)

    @app.get(PATHS["metadata"])
    def get_metadata(request: Request, domain: str, resource_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return resource_or_404(domain, resource_id)["metadata"]

    @app.put(PATHS["metadata"])
    def put_metadata(request: Request, domain: str, resource_id: str, body: dict[str, Any]) -> JSONResponse:
        ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if resource["metadata"] == body:
            return JSONResponse(body)
        ctx.store.put("resource", resource_id, {**resource, "metadata": body}, action="metadata")
        return JSONResponse(body)

    return app
