"""Partner cases and co-marketing sign-offs in the Trading Grid sandbox — all **modelled**.

Active Community has no public API for these (shared/api-notes/opentext.md §2.5), so the shape
follows the modelled community posts of this sandbox (snake_case, writes by the caller's own
reference so that a replay changes nothing) and every path is in :data:`CASE_PATHS`:

- **cases**: what partners file — asset requests (logos, images, localized artwork), rights
  clarifications, and reports of missing files, broken links, wrong metadata or quality
  problems. A case has a status life cycle (:data:`TRANSITIONS`, a wrong step is a 409),
  comments (ours by our reference; the partner's through the operator side), links to assets
  in other systems, files we attach to it (streamed, by our reference, kept as digests like a
  launch kit's files: the asset package a partner asked for), and a ``revision`` the partner
  bumps when reopening or editing it. The list pages by ``offset``/``count`` in filing order,
  filtered by ``updated_since`` (inclusive) and ``updated_until`` (exclusive), ``status`` and
  ``type`` (both repeatable). With the fault ``malformed_rate`` a listed case loses its ``type``.
- **sign-off requests**: a template/logo kit sent to the partners of a community (the partner
  directory entries of the community's region) for sign-off; their answers are listed in
  ``responses`` as the partners gave them. The files signed off are attached to the request
  (streamed, by our reference, like a case's), and we answer on it by our reference
  (``comments``). Sending other items under the same reference is a new ``revision`` of the
  request (a revised version after changes were requested); each answer carries the revision it
  answers, and the ``status`` counts only the answers to the current one.

Operator side (as a partner would act, hostile input included — fields are stored as given):
``POST /_sandbox/trading_grid/cases`` files a case, ``POST /_sandbox/trading_grid/cases/{id}/comments``
adds a partner comment (a waiting or resolved case is reopened), ``PATCH
/_sandbox/trading_grid/cases/{id}`` edits it as the partner (new revision), and ``POST
/_sandbox/trading_grid/signoffs/{ref}/responses`` records a partner's sign-off answer (to the
request's current revision unless the answer names one; it may name the ``asset_id`` it is about).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxContext
from contentops_sandbox.trading_grid.uploads import read_upload

CASE_PATHS = {
    "cases": "/communities/v1/cases",
    "case": "/communities/v1/cases/{case_id}",
    "case_status": "/communities/v1/cases/{case_id}/status",
    "case_comments": "/communities/v1/cases/{case_id}/comments",
    "case_comment": "/communities/v1/cases/{case_id}/comments/{comment_ref}",
    "case_link": "/communities/v1/cases/{case_id}/links/{link_ref}",
    "case_attachment": "/communities/v1/cases/{case_id}/attachments/{attachment_ref}",
    "signoffs": "/communities/v1/signoffs",
    "signoff": "/communities/v1/signoffs/{signoff_ref}",
    "signoff_attachment": "/communities/v1/signoffs/{signoff_ref}/attachments/{attachment_ref}",
    "signoff_comment": "/communities/v1/signoffs/{signoff_ref}/comments/{comment_ref}",
}
CASE_TYPES = {
    "asset_request",
    "rights_clarification",
    "missing_file",
    "broken_link",
    "wrong_metadata",
    "quality_problem",
}
#: status -> statuses it may move to
TRANSITIONS: dict[str, set[str]] = {
    "open": {"in_progress", "waiting_on_partner", "resolved", "rejected"},
    "in_progress": {"waiting_on_partner", "resolved", "rejected"},
    "waiting_on_partner": {"open", "in_progress", "resolved", "rejected"},
    "resolved": {"open", "closed"},
    "closed": set(),
    "rejected": set(),
}
LINK_RELATIONS = {"requested", "delivered", "affected", "corrected"}


class StatusBody(BaseModel):
    status: str
    reason: str | None = Field(None, max_length=2000)


class CommentBody(BaseModel):
    body: str = Field(min_length=1, max_length=10000)
    attachments: list[dict[str, Any]] = Field(default_factory=list)


class LinkBody(BaseModel):
    system: str = Field(min_length=1)
    asset_id: str = Field(min_length=1)
    version: int | None = None
    relation: str


class SignoffItemBody(BaseModel):
    asset_id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    name: str | None = None


class SignoffCommentBody(BaseModel):
    body: str = Field(min_length=1, max_length=10000)


class SignoffBody(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    message: str | None = None
    community: str = Field(min_length=1)
    items: list[SignoffItemBody] = Field(min_length=1)


def add_case_routes(app: FastAPI, ctx: SandboxContext) -> None:
    def now() -> str:
        return ctx.clock.now().isoformat()

    def case_or_404(case_id: str) -> dict[str, Any]:
        case = ctx.store.get("case", case_id)
        if case is None:
            raise ctx.error(404, "CaseNotFound", f"case {case_id} not found")
        return case

    def save(case: dict[str, Any], action: str) -> dict[str, Any]:
        case = {**case, "updated_at": now()}
        ctx.store.put("case", case["id"], case, action=action)
        return case

    def set_status(case: dict[str, Any], status: str, reason: str | None, by: str) -> dict[str, Any]:
        history = [
            *(case.get("status_history") or []),
            {"from": case.get("status"), "to": status, "reason": reason, "by": by, "at": now()},
        ]
        return save({**case, "status": status, "status_history": history}, f"status:{status}")

    def after(value: Any, moment: datetime | None, *, inclusive: bool) -> bool:
        if moment is None:
            return True
        try:
            stamp = datetime.fromisoformat(str(value))
        except ValueError:
            return True  # a case we cannot date is listed, so the caller sees (and quarantines) it
        return stamp >= moment if inclusive else stamp > moment

    @app.get(CASE_PATHS["cases"])
    def cases(
        request: Request,
        updated_since: datetime | None = None,
        updated_until: datetime | None = None,
        status: Annotated[list[str] | None, Query()] = None,
        type: Annotated[list[str] | None, Query()] = None,
        offset: int = Query(0, ge=0),
        count: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = sorted(ctx.store.all("case"), key=lambda c: c.get("number", 0))
        items = [
            c
            for c in items
            if after(c.get("updated_at"), updated_since, inclusive=True)
            and (updated_until is None or not after(c.get("updated_at"), updated_until, inclusive=True))
            and (not status or c.get("status") in status)
            and (not type or c.get("type") in type)
        ]
        page = items[offset : offset + count]
        if page and ctx.faults.should_malform():
            page = [{k: v for k, v in page[0].items() if k != "type"}, *page[1:]]
        return {"cases": page, "totalCount": len(items)}

    @app.get(CASE_PATHS["case"])
    def get_case(request: Request, case_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return case_or_404(case_id)

    @app.put(CASE_PATHS["case_status"])
    def put_status(request: Request, case_id: str, body: StatusBody) -> dict[str, Any]:
        subject = ctx.require_bearer(request)
        case = case_or_404(case_id)
        if body.status not in TRANSITIONS:
            raise ctx.error(422, "InvalidStatus", f"status must be one of {sorted(TRANSITIONS)}")
        if body.status == case.get("status"):
            return case  # repeating a status change changes nothing
        if body.status not in TRANSITIONS.get(case.get("status", ""), set()):
            raise ctx.error(
                409, "InvalidTransition", f"case {case_id} cannot go from {case.get('status')} to {body.status}"
            )
        return set_status(case, body.status, body.reason, subject)

    @app.get(CASE_PATHS["case_comments"])
    def comments(request: Request, case_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        case_or_404(case_id)
        found = [c for c in ctx.store.all("case_comment") if c["case_id"] == case_id]
        return {"comments": sorted(found, key=lambda c: c["created_at"])}

    @app.put(CASE_PATHS["case_comment"])
    def put_comment(request: Request, case_id: str, comment_ref: str, body: CommentBody) -> JSONResponse:
        author = ctx.require_bearer(request)
        case = case_or_404(case_id)
        key = f"{case_id}/{comment_ref}"
        existing = ctx.store.get("case_comment", key)
        fields = body.model_dump()
        if existing is not None and {k: existing.get(k) for k in fields} == fields:
            return JSONResponse(existing, 200)
        comment = {
            **(existing or {"ref": comment_ref, "case_id": case_id, "author": author, "created_at": now()}),
            **fields,
            "updated_at": now(),
        }
        ctx.store.put("case_comment", key, comment, action="update" if existing else "comment")
        save(case, "commented")
        return JSONResponse(comment, 200 if existing else 201)

    @app.put(CASE_PATHS["case_link"])
    def put_link(request: Request, case_id: str, link_ref: str, body: LinkBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        case = case_or_404(case_id)
        if body.relation not in LINK_RELATIONS:
            raise ctx.error(422, "InvalidRelation", f"relation must be one of {sorted(LINK_RELATIONS)}")
        link = {"ref": link_ref, **body.model_dump()}
        links = [lk for lk in case.get("links") or [] if lk.get("ref") != link_ref]
        if link in (case.get("links") or []):
            return case
        return save({**case, "links": [*links, link]}, "link")

    @app.put(CASE_PATHS["case_attachment"])
    async def put_case_attachment(
        request: Request, case_id: str, attachment_ref: str, name: str = Query(min_length=1)
    ) -> JSONResponse:
        """Attach a file to a case under the caller's reference; the same file again changes nothing."""
        ctx.require_bearer(request)
        case_or_404(case_id)
        attachment = await read_upload(ctx, request, attachment_ref, name)
        with ctx.store.locked():  # files of one case may arrive in parallel: add to the case as it is now
            case = case_or_404(case_id)
            attachments = dict(case.get("attachments") or {})
            existing = attachments.get(attachment_ref)
            if existing is not None and {k: existing.get(k) for k in attachment} == attachment:
                return JSONResponse(case, 200)
            attachments[attachment_ref] = {**attachment, "uploaded_at": now()}
            case = save({**case, "attachments": attachments}, "attachment")
        return JSONResponse(case, 200 if existing else 201)

    # -- co-marketing sign-off ---------------------------------------------------------------
    def signoff_view(signoff: dict[str, Any]) -> dict[str, Any]:
        answers: dict[str, str] = {}
        revision = signoff.get("revision") or 1
        for response in signoff.get("responses") or []:
            if not isinstance(response, dict) or response.get("revision", 1) != revision:
                continue  # an answer to an earlier revision
            if isinstance(response.get("partner_company_id"), str):
                answers[response["partner_company_id"]] = str(response.get("decision"))
        partners = signoff.get("partners") or []
        if any(answers.get(p) in ("rejected", "changes_requested") for p in partners):
            status = "changes_requested"
        elif partners and all(answers.get(p) == "approved" for p in partners):
            status = "approved"
        else:
            status = "pending"
        return {**signoff, "status": status}

    def signoff_or_404(ref: str) -> dict[str, Any]:
        signoff = ctx.store.get("signoff", ref)
        if signoff is None:
            raise ctx.error(404, "SignoffNotFound", f"sign-off request {ref} not found")
        return signoff

    @app.put(CASE_PATHS["signoff"])
    def put_signoff(request: Request, signoff_ref: str, body: SignoffBody) -> JSONResponse:
        author = ctx.require_bearer(request)
        community = ctx.store.get("community", body.community)
        if community is None:
            raise ctx.error(404, "CommunityNotFound", f"community {body.community} not found")
        existing = ctx.store.get("signoff", signoff_ref)
        fields = body.model_dump()
        if existing is not None and {k: existing.get(k) for k in fields} == fields:
            return JSONResponse(signoff_view(existing), 200)
        partners = [p["partnerCompanyId"] for p in ctx.store.all("partner") if p.get("region") == community["region"]]
        revision = 1
        if existing is not None:  # other items under the same reference: the request's next revision
            revision = int(existing.get("revision") or 1) + (existing.get("items") != fields["items"])
        signoff = {
            **(existing or {"ref": signoff_ref, "author": author, "created_at": now(), "responses": []}),
            **fields,
            "partners": partners,
            "revision": revision,
            "updated_at": now(),
        }
        ctx.store.put("signoff", signoff_ref, signoff, action="update" if existing else "request")
        return JSONResponse(signoff_view(signoff), 200 if existing else 201)

    @app.get(CASE_PATHS["signoff"])
    def get_signoff(request: Request, signoff_ref: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return signoff_view(signoff_or_404(signoff_ref))

    @app.get(CASE_PATHS["signoffs"])
    def signoffs(
        request: Request,
        updated_since: datetime | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = sorted(ctx.store.all("signoff"), key=lambda s: s["created_at"])
        items = [s for s in items if after(s.get("updated_at"), updated_since, inclusive=True)]
        return {"signoffs": [signoff_view(s) for s in items[offset : offset + count]], "totalCount": len(items)}

    @app.put(CASE_PATHS["signoff_attachment"])
    async def put_signoff_attachment(
        request: Request, signoff_ref: str, attachment_ref: str, name: str = Query(min_length=1)
    ) -> JSONResponse:
        """Attach a file the partners sign off under the caller's reference; the same file again
        changes nothing (the same upload as a case's or a launch kit's files)."""
        ctx.require_bearer(request)
        signoff_or_404(signoff_ref)
        attachment = await read_upload(ctx, request, attachment_ref, name)
        with ctx.store.locked():
            signoff = signoff_or_404(signoff_ref)
            attachments = dict(signoff.get("attachments") or {})
            existing = attachments.get(attachment_ref)
            if existing is not None and {k: existing.get(k) for k in attachment} == attachment:
                return JSONResponse(signoff_view(signoff), 200)
            attachments[attachment_ref] = {**attachment, "uploaded_at": now()}
            signoff = {**signoff, "attachments": attachments, "updated_at": now()}
            ctx.store.put("signoff", signoff_ref, signoff, action="attachment")
        return JSONResponse(signoff_view(signoff), 200 if existing else 201)

    @app.put(CASE_PATHS["signoff_comment"])
    def put_signoff_comment(
        request: Request, signoff_ref: str, comment_ref: str, body: SignoffCommentBody
    ) -> JSONResponse:
        """Our answer on a sign-off request under our reference; the same answer again adds nothing."""
        author = ctx.require_bearer(request)
        with ctx.store.locked():
            signoff = signoff_or_404(signoff_ref)
            comments = list(signoff.get("comments") or [])
            existing = next((c for c in comments if c.get("ref") == comment_ref), None)
            if existing is not None and existing.get("body") == body.body:
                return JSONResponse(signoff_view(signoff), 200)
            comment = {
                "ref": comment_ref,
                "body": body.body,
                "author": author,
                "created_at": now(),
            }
            comments = [c for c in comments if c.get("ref") != comment_ref] + [comment]
            signoff = {**signoff, "comments": comments, "updated_at": now()}
            ctx.store.put("signoff", signoff_ref, signoff, action="comment")
        return JSONResponse(signoff_view(signoff), 200 if existing else 201)

    # -- operator side: what partners do -------------------------------------------------------
    @app.post("/_sandbox/trading_grid/cases", status_code=201)
    def file_case(body: dict[str, Any]) -> dict[str, Any]:
        """File a case as a partner would; fields are stored as given (malformed ones too)."""
        number = ctx.store.next_id("case")
        stamp = now()
        case = {
            "id": f"CASE-{number:06d}",
            "number": number,
            "status": "open",
            "revision": 1,
            "details": {},
            "links": [],
            "created_at": stamp,
            "updated_at": stamp,
            **body,
        }
        ctx.store.put("case", case["id"], case, action="filed")
        return case

    @app.patch("/_sandbox/trading_grid/cases/{case_id}")
    def edit_case(case_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """The partner edits a case: a new revision (status changes follow no rules here)."""
        case = case_or_404(case_id)
        return save({**case, **changes, "revision": int(case.get("revision") or 1) + 1}, "edited")

    @app.post("/_sandbox/trading_grid/cases/{case_id}/comments", status_code=201)
    def partner_comment(case_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A partner comment; a case waiting on the partner (or resolved) opens again."""
        case = case_or_404(case_id)
        ref = f"partner-{ctx.store.next_id('partner-comment')}"
        comment = {
            "ref": ref,
            "case_id": case_id,
            "author": body.get("author") or case.get("submitted_by") or "partner",
            "body": body.get("body", ""),
            "attachments": body.get("attachments") or [],
            "created_at": now(),
        }
        ctx.store.put("case_comment", f"{case_id}/{ref}", comment, action="comment")
        if case.get("status") in ("waiting_on_partner", "resolved"):
            case = {**case, "revision": int(case.get("revision") or 1) + 1}
            set_status(case, "open", "partner replied", comment["author"])
        else:
            save(case, "commented")
        return comment

    @app.post("/_sandbox/trading_grid/signoffs/{signoff_ref}/responses", status_code=201)
    def respond(signoff_ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """A partner's sign-off answer, stored as given (hostile ones too)."""
        signoff = signoff_or_404(signoff_ref)
        response = {"responded_at": now(), "revision": signoff.get("revision") or 1, **body}
        signoff = {**signoff, "responses": [*(signoff.get("responses") or []), response], "updated_at": now()}
        ctx.store.put("signoff", signoff_ref, signoff, action="response")
        return signoff_view(signoff)
