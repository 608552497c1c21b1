"""What every OpenText Cloud Platform sandbox shares: the tenant token endpoint and gateway faults.

Sourced (OpenText's public Postman collections and SDK, see shared/api-notes/opentext.md §0):
``POST /tenants/{tenant_id}/oauth2/token`` with client credentials as a JSON body (collections)
or a form body (SDK), answering ``access_token``, ``token_type``, ``expires_in``; gateway errors
shaped ``{"fault": {"faultstring": …, "detail": {"errorcode": …}}}``; service 400s carry
``{"exception": …, "message": …}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contentops_sandbox.core import SandboxContext

DEMO_TENANT = "demo"
DEMO_CLIENT_ID = "contentops-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandboxes' published demo credential


def ocp_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """Gateway faults for 401/403/429/5xx, the service's own shape for the rest."""
    if status in (401, 403):
        return {"fault": {"faultstring": message, "detail": {"errorcode": f"keymanagement.service.{code}"}}}
    if status == 429 or status >= 500:
        return {"fault": {"faultstring": message, "detail": {"errorcode": f"policies.{code}"}}}
    return {"exception": code, "message": message}


def add_ocp_token_routes(app: FastAPI, context: SandboxContext) -> None:
    """``POST /tenants/{tenant}/oauth2/token``: client credentials (JSON or form)."""

    @app.post("/tenants/{tenant}/oauth2/token")
    async def token(tenant: str, request: Request) -> JSONResponse:
        if request.headers.get("content-type", "").startswith("application/json"):
            fields: dict[str, Any] = await request.json()
        else:
            fields = dict(await request.form())
        if tenant != DEMO_TENANT:
            return JSONResponse({"error": "invalid_request", "error_description": f"unknown tenant {tenant}"}, 400)
        if fields.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "use client_credentials"}, 400)
        if fields.get("client_id") != DEMO_CLIENT_ID or fields.get("client_secret") != DEMO_CLIENT_SECRET:
            return JSONResponse({"error": "invalid_client", "error_description": "bad client credentials"}, 401)
        return JSONResponse(
            context.tokens.issue(
                str(fields["client_id"]), str(fields.get("scope") or ""), with_refresh=False
            ).as_response()
        )
