"""Partner submissions in the Trading Grid sandbox: files partners send back, and our replies.

Modelled (no public spec; every path in :data:`SUBMISSION_PATHS`): trading partners submit
localization feedback with files — translations, localized variants, resized derivatives of
one of our masters — into a community. Each submission carries the file's metadata and a
download URL on Trading Grid's own host; we answer with replies (status + message, and for an
accepted submission the approved asset and version), each under our own reference, so a replay
answers nothing twice. The latest reply's status becomes the submission's status.

Operator side, for demos and the localization tests:

- ``POST /_sandbox/trading_grid/submissions`` adds a submission as a partner would (fields as
  given, hostile ones too);
- ``PUT /_sandbox/trading_grid/submissions/{id}/file`` stores the raw body as its file (served
  with the request's ``Content-Type``; fills ``file.downloadUrl`` and ``file.size`` when
  missing); ``?redirect_to=<url>`` makes the file route answer ``302`` to that URL instead.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxContext

SUBMISSION_PATHS = {
    "submissions": "/communities/v1/submissions",
    "submission": "/communities/v1/submissions/{submission_id}",
    "submission_file": "/communities/v1/submissions/{submission_id}/file",
    "submission_reply": "/communities/v1/submissions/{submission_id}/replies/{reply_ref}",
}
SUBMISSION_STATUSES = {"submitted", "in_review", "accepted", "rejected", "quarantined"}


class ReplyBody(BaseModel):
    status: str
    message: str = Field(min_length=1, max_length=4000)
    assetId: str | None = None
    version: int | None = None


def add_submission_routes(app: FastAPI, ctx: SandboxContext) -> None:
    """Mount the submission routes on the Trading Grid sandbox app."""

    def now() -> str:
        return ctx.clock.now().isoformat()

    def submission_or_404(submission_id: str) -> dict[str, Any]:
        submission = ctx.store.get("submission", submission_id)
        if submission is None:
            raise ctx.error(404, "SubmissionNotFound", f"submission {submission_id} not found")
        return submission

    @app.get(SUBMISSION_PATHS["submissions"])
    def submissions(
        request: Request,
        since: datetime | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(20, ge=1, le=100),
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = [
            s
            for s in ctx.store.all("submission")
            if since is None or datetime.fromisoformat(str(s.get("submittedAt"))) > since
        ]
        if ctx.faults.should_malform() and items[offset : offset + 1]:
            broken = {k: v for k, v in items[offset].items() if k != "file"}
            items = [*items[:offset], broken, *items[offset + 1 :]]
        return {"submissions": items[offset : offset + count], "totalCount": len(items)}

    @app.get(SUBMISSION_PATHS["submission"])
    def submission(request: Request, submission_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return submission_or_404(submission_id)

    @app.get(SUBMISSION_PATHS["submission_file"])
    def submission_file(request: Request, submission_id: str) -> Response:
        ctx.require_bearer(request)
        submission_or_404(submission_id)
        stored = ctx.store.get("submission_file", submission_id)
        if stored is None:
            raise ctx.error(404, "FileNotFound", f"submission {submission_id} has no file")
        if stored.get("redirect_to"):
            return RedirectResponse(stored["redirect_to"], status_code=302)
        return Response(
            base64.b64decode(stored["data"]), media_type=stored.get("content_type") or "application/octet-stream"
        )

    @app.put(SUBMISSION_PATHS["submission_reply"])
    def reply(request: Request, submission_id: str, reply_ref: str, body: ReplyBody) -> JSONResponse:
        author = ctx.require_bearer(request)
        submission = submission_or_404(submission_id)
        if body.status not in SUBMISSION_STATUSES:
            raise ctx.error(422, "InvalidStatus", f"status must be one of {sorted(SUBMISSION_STATUSES)}")
        replies = list(submission.get("replies") or [])
        existing = next((r for r in replies if r["ref"] == reply_ref), None)
        fields = body.model_dump()
        if existing is not None and {k: existing.get(k) for k in fields} == fields:
            return JSONResponse(existing, 200)
        entry = {"ref": reply_ref, **fields, "author": author, "at": now()}
        replies = [r for r in replies if r["ref"] != reply_ref] + [entry]
        ctx.store.put(
            "submission",
            submission_id,
            {**submission, "replies": replies, "status": body.status, "updatedAt": now()},
            action="update" if existing else "reply",
        )
        return JSONResponse(entry, 200 if existing else 201)

    @app.post("/_sandbox/trading_grid/submissions", status_code=201)
    def add_submission(body: dict[str, Any]) -> dict[str, Any]:
        """Add a submission as a partner would; fields are stored as given (hostile ones too)."""
        submission_id = f"sub-{ctx.store.next_id('submission')}"
        item = {"id": submission_id, "status": "submitted", "submittedAt": now(), "replies": [], **body}
        ctx.store.put("submission", submission_id, item, action="submitted")
        return item

    @app.put("/_sandbox/trading_grid/submissions/{submission_id}/file")
    async def put_submission_file(
        request: Request, submission_id: str, redirect_to: str | None = None
    ) -> dict[str, Any]:
        submission = submission_or_404(submission_id)
        data = await request.body()
        ctx.store.put(
            "submission_file",
            submission_id,
            {
                "data": base64.b64encode(data).decode(),
                "content_type": request.headers.get("content-type"),
                "redirect_to": redirect_to,
            },
        )
        file = dict(submission.get("file") or {})
        base = (ctx.config.public_url or "").rstrip("/")
        file.setdefault("downloadUrl", base + SUBMISSION_PATHS["submission_file"].format(submission_id=submission_id))
        file.setdefault("size", len(data))
        submission = {**submission, "file": file}
        ctx.store.put("submission", submission_id, submission, action="file")
        return submission
