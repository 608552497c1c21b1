"""Trading Grid Community Management: the users of our company, their roles and entitlements.

Sourced (opentext/BN-Trading-Grid Community Management collection, shared/api-notes/opentext.md
§2.2): the paths — ``/companies/{companyId}/users`` (list, ``?loginId=`` search, create),
``/companies/{companyId}/users/{userId|loginId}`` (read, ``PUT`` update, ``DELETE``),
``/companies/{companyId}/users/{loginId}/roles`` (read, ``PUT ?action=Add|Remove`` with
``[{"roleName": …}]``) and ``/users/{loginId}/entitlements`` — and the create body's fields.
Roles are looked up by ``loginId`` only (the collection says so); there is no search by e-mail
or name. Modelled: the response envelopes (the collection carries no sample responses) and the
error codes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxContext

USER_PATHS = {
    "users": "/TGCommunityServices/v1/companies/{company_id}/users",
    "user": "/TGCommunityServices/v1/companies/{company_id}/users/{user_ref}",
    "user_roles": "/TGCommunityServices/v1/companies/{company_id}/users/{login_id}/roles",
    "user_entitlements": "/TGCommunityServices/v1/users/{login_id}/entitlements",
}
#: Fields never stored or served back (credentials and password hints).
_SECRET_FIELDS = {"loginPassword", "userPasswordHint"}


class RoleBody(BaseModel):
    roleName: str = Field(min_length=1, max_length=120)


def seed_users(context: SandboxContext, company_id: str) -> None:
    """Three users of the demo brand with the roles a partner-community team has."""
    users = [
        ("GCP6U3F660I61", "brand.ops@contentops.example", "Brand", "Operations", ["Community Projects Admin"]),
        ("GCP6U3F660I62", "partner.manager@contentops.example", "Partner", "Manager", ["TGMS Reports"]),
        ("GCP6U3F660I63", "integration@contentops.example", "Integration", "User", ["Lens All custom"]),
    ]
    context.store.put_many(
        "user",
        [
            (
                user_id,
                {
                    "userId": user_id,
                    "loginId": login,
                    "firstName": first,
                    "lastName": last,
                    "email": login,
                    "companyId": company_id,
                    "type": "Web",
                    "status": "Active",
                    "roles": [{"roleName": role} for role in roles],
                },
            )
            for user_id, login, first, last, roles in users
        ],
    )


def add_user_routes(app: FastAPI, ctx: SandboxContext, company_or_404: Any) -> None:
    """Users, roles and entitlements (``company_or_404(company_id)`` raises the product's 404)."""

    def public(user: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in user.items() if k not in _SECRET_FIELDS and k != "roles"}

    def find(company_id: str, ref: str) -> dict[str, Any] | None:
        by_id = ctx.store.get("user", ref)
        if by_id is not None and by_id.get("companyId") == company_id:
            return by_id
        return next(
            (u for u in ctx.store.all("user") if u["loginId"] == ref and u.get("companyId") == company_id), None
        )

    def user_or_404(company_id: str, ref: str) -> dict[str, Any]:
        company_or_404(company_id)
        user = find(company_id, ref)
        if user is None:
            raise ctx.error(404, "UserNotFound", f"user {ref} not found in company {company_id}")
        return user

    @app.get(USER_PATHS["users"])
    def users(
        request: Request,
        company_id: str,
        loginId: str | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(50, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        company_or_404(company_id)
        items = [
            public(u)
            for u in ctx.store.all("user")
            if u.get("companyId") == company_id and (loginId is None or u["loginId"] == loginId)
        ]
        return {"users": items[offset : offset + count], "totalCount": len(items)}

    @app.post(USER_PATHS["users"])
    def create_user(request: Request, company_id: str, body: dict[str, Any]) -> JSONResponse:
        ctx.require_bearer(request)
        company_or_404(company_id)
        missing = [k for k in ("loginId", "firstName", "lastName", "loginPassword") if not body.get(k)]
        if missing:
            raise ctx.error(400, "InvalidRequest", f"missing required fields {missing}")
        if any(u["loginId"] == body["loginId"] for u in ctx.store.all("user")):
            raise ctx.error(409, "UserAlreadyExists", f"loginId {body['loginId']} is taken")
        user_id = f"GCP{ctx.store.next_id('user'):010d}"
        user = {
            **{k: v for k, v in body.items() if k not in _SECRET_FIELDS},
            "userId": user_id,
            "uniqueId": user_id,
            "email": (body.get("contactInformation") or {}).get("email"),
            "companyId": company_id,
            "status": "Active",
            "roles": [],
        }
        ctx.store.put("user", user_id, user, action="create")
        return JSONResponse(public(user), 201)

    @app.get(USER_PATHS["user"])
    def get_user(request: Request, company_id: str, user_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return public(user_or_404(company_id, user_ref))

    @app.put(USER_PATHS["user"])
    def update_user(request: Request, company_id: str, user_ref: str, body: dict[str, Any]) -> dict[str, Any]:
        ctx.require_bearer(request)
        user = user_or_404(company_id, user_ref)
        protected = {"userId", "uniqueId", "companyId", "roles", *_SECRET_FIELDS}
        changes = {k: v for k, v in body.items() if k not in protected}
        if "loginId" in changes and any(
            u["loginId"] == changes["loginId"] and u["userId"] != user["userId"] for u in ctx.store.all("user")
        ):
            raise ctx.error(409, "UserAlreadyExists", f"loginId {changes['loginId']} is taken")
        updated = {**user, **changes}
        if updated != user:
            ctx.store.put("user", user["userId"], updated, action="update")
        return public(updated)

    @app.delete(USER_PATHS["user"])
    def delete_user(request: Request, company_id: str, user_ref: str) -> Response:
        ctx.require_bearer(request)
        user = user_or_404(company_id, user_ref)
        ctx.store.delete("user", user["userId"])
        return Response(status_code=204)

    @app.get(USER_PATHS["user_roles"])
    def roles(request: Request, company_id: str, login_id: str) -> list[dict[str, Any]]:
        ctx.require_bearer(request)
        user = user_or_404(company_id, login_id)
        if user["loginId"] != login_id:  # roles are looked up by loginId only
            raise ctx.error(404, "UserNotFound", f"no user with loginId {login_id}")
        return list(user.get("roles") or [])

    @app.put(USER_PATHS["user_roles"])
    def change_roles(
        request: Request, company_id: str, login_id: str, body: list[RoleBody], action: str = "Add"
    ) -> list[dict[str, Any]]:
        ctx.require_bearer(request)
        user = user_or_404(company_id, login_id)
        if user["loginId"] != login_id:
            raise ctx.error(404, "UserNotFound", f"no user with loginId {login_id}")
        if action not in ("Add", "Remove"):
            raise ctx.error(400, "InvalidAction", "action must be Add or Remove")
        current = [r["roleName"] for r in user.get("roles") or []]
        names = [r.roleName for r in body]
        wanted = (
            current + [n for n in names if n not in current]
            if action == "Add"
            else [n for n in current if n not in names]
        )
        if wanted != current:
            user = {**user, "roles": [{"roleName": n} for n in wanted]}
            ctx.store.put("user", user["userId"], user, action=f"roles:{action}")
        return list(user["roles"])

    @app.get(USER_PATHS["user_entitlements"])
    def user_entitlements(request: Request, login_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        user = next((u for u in ctx.store.all("user") if u["loginId"] == login_id), None)
        if user is None:
            raise ctx.error(404, "UserNotFound", f"no user with loginId {login_id}")
        return {
            "loginId": login_id,
            "entitlements": [{"name": c["entitlement"], "community": c["id"]} for c in ctx.store.all("community")],
        }
