"""What every OpenText Cloud Platform sandbox shares: the tenant token endpoints and gateway faults.

Sourced (OpenText's public Postman collections and SDK, see shared/api-notes/opentext.md §0):
``POST /tenants/{tenant_id}/oauth2/token`` with client credentials as a JSON body (collections)
or a form body (SDK); the password grant as a form body (``username``, ``password``,
``grant_type=password``, ``scope``) with the client in HTTP Basic (collection) or as a form
``client_id`` (SDK); the OTDS token paths ``/otdsws/otdstenant/{tenant_id}/oauth2/token``
(on-premises) and ``/otdstenant/{tenant_id}/oauth2/token`` (cloud); the answer's
``access_token``, ``token_type``, ``expires_in`` and, for a user, ``refresh_token``; gateway
errors shaped ``{"fault": {"faultstring": …, "detail": {"errorcode": …}}}``; service 400s carry
``{"exception": …, "message": …}``.

Modelled: the OAuth2 error bodies (``{"error", "error_description"}``, RFC 6749's names), the
``id_token`` a password grant with ``response_type=id_token`` returns (an opaque string here),
and the demo user below.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from contentops_sandbox.core import SandboxContext

DEMO_TENANT = "demo"
DEMO_CLIENT_ID = "contentops-demo"
DEMO_CLIENT_SECRET = "demo-secret"  # noqa: S105 - the sandboxes' published demo credential
#: A tenant user for the password grant (a reviewer who claims and completes tasks).
DEMO_USER = "reviewer@contentops.example"
DEMO_USER_PASSWORD = "demo-password"  # noqa: S105 - the sandboxes' published demo credential
#: Where OpenText issues tokens: the cloud tenant path (collections) and OTDS's own paths (SDK).
TOKEN_PATHS = (
    "/tenants/{tenant}/oauth2/token",
    "/otdstenant/{tenant}/oauth2/token",
    "/otdsws/otdstenant/{tenant}/oauth2/token",
)


def ocp_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """Gateway faults for 401/403/429/5xx, the service's own shape for the rest."""
    if status in (401, 403):
        return {"fault": {"faultstring": message, "detail": {"errorcode": f"keymanagement.service.{code}"}}}
    if status == 429 or status >= 500:
        return {"fault": {"faultstring": message, "detail": {"errorcode": f"policies.{code}"}}}
    return {"exception": code, "message": message}


def _basic_client(request: Request) -> tuple[str, str] | None:
    """Client id and secret from ``Authorization: Basic`` (how the password-grant collection sends them)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, _, secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status)


def add_ocp_token_routes(app: FastAPI, context: SandboxContext) -> None:
    """The token endpoint under each of :data:`TOKEN_PATHS`: client credentials (JSON or form,
    client in the body or in HTTP Basic) and the password grant (form)."""

    async def token(tenant: str, request: Request) -> JSONResponse:
        if request.headers.get("content-type", "").startswith("application/json"):
            fields: dict[str, Any] = await request.json()
        else:
            fields = dict(await request.form())
        if tenant != DEMO_TENANT:
            return _oauth_error(400, "invalid_request", f"unknown tenant {tenant}")
        basic = _basic_client(request)
        client_id = basic[0] if basic else fields.get("client_id")
        client_secret = basic[1] if basic else fields.get("client_secret")
        grant = fields.get("grant_type")
        if grant == "client_credentials":
            if client_id != DEMO_CLIENT_ID or client_secret != DEMO_CLIENT_SECRET:
                return _oauth_error(401, "invalid_client", "bad client credentials")
            issued = context.tokens.issue(str(client_id), str(fields.get("scope") or ""), with_refresh=False)
            return JSONResponse(issued.as_response())
        if grant == "password":
            # a confidential client proves itself with its secret; the SDK's public client sends its id only
            if client_id != DEMO_CLIENT_ID or (client_secret is not None and client_secret != DEMO_CLIENT_SECRET):
                return _oauth_error(401, "invalid_client", "bad client credentials")
            if fields.get("username") != DEMO_USER or fields.get("password") != DEMO_USER_PASSWORD:
                return _oauth_error(401, "invalid_grant", "bad user credentials")
            issued = context.tokens.issue(DEMO_USER, str(fields.get("scope") or ""), with_refresh=True)
            extra = {"id_token": secrets.token_urlsafe(32)} if fields.get("response_type") == "id_token" else {}
            return JSONResponse(issued.as_response(**extra))
        return _oauth_error(400, "unsupported_grant_type", "use client_credentials or password")

    for path in TOKEN_PATHS:
        app.add_api_route(path, token, methods=["POST"], include_in_schema=path == TOKEN_PATHS[0])
