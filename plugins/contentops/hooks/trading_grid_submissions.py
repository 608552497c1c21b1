"""Partner submissions on Trading Grid: the files partners send back, and our replies (modelled).

Mixed into :class:`contentops.hooks.trading_grid.TradingGridHook`; kept in its own module so
the localization loop's part of the hook changes apart from communities and cases. Modelled
(no public API; docs/systems/trading_grid.md): submissions listed since a time with the file's
metadata and a download URL on Trading Grid's own host, and replies by our own reference (a
replay answers nothing twice). The file itself is fetched with
:meth:`~contentops.hooks.base.PartnerHook.download_partner_file`, confined to the connection's
own origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from contentops import lineage
from contentops.hooks.base import OnInvalid, iter_validated
from contentops.hooks.trading_grid_paging import iter_listing
from contentops.models.trading_grid_submissions import PartnerSubmission, SubmissionReply

SUBMISSION_PATHS: dict[str, str] = {
    "submissions": "communities/v1/submissions",
    "submission": "communities/v1/submissions/{submission_id}",
    "submission_reply": "communities/v1/submissions/{submission_id}/replies/{reply_ref}",
}


class PartnerSubmissionsMixin:
    """Submission reading and replying for a hook with ``transport`` and ``path()``."""

    transport: Any
    path: Any

    def iter_submissions(
        self, since: datetime | None = None, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[PartnerSubmission]:
        """Submissions received after ``since``; one that fails validation goes to ``on_invalid``."""
        params = {"since": since.isoformat()} if since else None
        lineage.read(self, "submissions")
        pages = iter_listing(
            self.transport, self.path("submissions"), "submissions", page_size=page_size, params=params
        )
        yield from iter_validated(pages, PartnerSubmission, "Trading Grid submission", on_invalid)

    def get_submission(self, submission_id: str) -> PartnerSubmission:
        """One submission by its id (a listing that served it malformed is read again this way);
        raises ``ValidationError`` if it is malformed in itself, ``NotFoundError`` if it is gone."""
        body = self.transport.json("GET", self.path("submission", submission_id=submission_id))
        lineage.read(self, "submissions", submission_id)
        return PartnerSubmission.model_validate(body)

    def reply_to_submission(
        self,
        submission_id: str,
        reply_ref: str,
        *,
        status: str,
        message: str,
        asset_id: str | None = None,
        version: int | None = None,
    ) -> SubmissionReply:
        """Tell the partner what became of a submission (PUT by our reference: safe to repeat)."""
        body = {"status": status, "message": message, "assetId": asset_id, "version": version}
        reply = SubmissionReply.model_validate(
            self.transport.json(
                "PUT", self.path("submission_reply", submission_id=submission_id, reply_ref=reply_ref), json=body
            )
        )
        lineage.wrote(self, "submissions", submission_id)
        return reply
