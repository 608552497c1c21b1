"""The review loop of a co-marketing sign-off (OTG-7): the files partners sign off, a "changes
requested" answer taking the asset back into review, and the revised version going out again on
the same sign-off request.

**Files.** Partners sign off files, not names: every file of each asset in a sign-off request is
streamed from Smint.io (a scratch file, never held in memory) and attached to the request under
``<asset>-v<version>-<file>`` — the upload launch kits and case answers use. A file whose bytes do
not match the SHA-256 Smint.io states for it is not sent. The files go inside the kit's one
ledger delivery, so each asset version reaches a request once.

**Changes requested.** A partner answering ``changes_requested`` (about one item, or the whole
kit) takes each asset concerned back into review in Smint.io — ``in_review`` with the partner's
comment, so nothing that releases approved assets uses it meanwhile — and tags it
``co-marketing:changes-requested:<community>``. While a tagged asset is in review (or a draft),
the community's kit is held (no new request goes out without it).

**The revision.** Once the brand team approves the asset again, the kit goes out on the *same*
request (the request's next revision): the changed assets' new files are attached, and our
answer on the request names what changed and whose comment it answers. The tag is then removed.
Each step is one ledger delivery, so a re-run writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from contentops.ledger import Action
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.models.trading_grid import SignoffDecision, SignoffRequest, SignoffResponse
from contentops.pipelines.asset_files import asset_files
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem

XREF_ENTITY = "co_marketing_signoff"
#: Where an asset partners asked to change is while the brand team works on it: the community's
#: kit waits (a rejected or retired asset simply leaves the kit).
UNDER_REVISION = frozenset({ApprovalStatus.IN_REVIEW, ApprovalStatus.DRAFT})


def changes_tag(community: str) -> str:
    """The Smint.io tag of an asset a community's partners asked to change."""
    return f"co-marketing:changes-requested:{community}"


def attachment_ref(asset: Asset, binary_id: str) -> str:
    return f"{asset.id}-v{asset.version}-{binary_id}"


def attach_files(smintio: Any, grid: Any, signoff_ref: str, asset: Asset) -> int:
    """Stream every file of the asset's current version from Smint.io onto the sign-off request."""
    for file in asset_files(smintio, asset, purpose="sign off"):
        grid.put_signoff_attachment(
            signoff_ref,
            attachment_ref(asset, file.binary_id),
            file.path,
            name=file.name,
            content_type=file.content_type,
        )
    return len(asset.binaries)


def open_thread(run: PipelineRun, waiting: list[Asset], community: str) -> str | None:
    """The sign-off request a revision belongs on: the one the changed asset was last sent in."""
    for asset in waiting:
        ref = run.ledger.lookup(XREF_ENTITY, "smintio", asset.id, str(TargetSystem.TRADING_GRID.of(community)))
        if ref:
            return ref
    return None


def change_requests(signoff: SignoffRequest) -> list[SignoffResponse]:
    """The valid "changes requested" answers to the request's current revision."""
    asks: list[SignoffResponse] = []
    for raw in signoff.responses:
        try:
            response = SignoffResponse.model_validate(raw)
        except ValidationError:
            continue  # quarantined when the answers are recorded
        if (
            response.revision == signoff.revision
            and response.decision is SignoffDecision.CHANGES_REQUESTED
            and response.partner_company_id in signoff.partners
        ):
            asks.append(response)
    return asks


def revision_note(revised: Iterable[Asset], asks: list[SignoffResponse]) -> str:
    """Our answer on the request when the revised version goes out on it."""
    names = ", ".join(f"{a.name or a.id} (version {a.version})" for a in revised) or "the kit"
    text = f"Revised: {names}. The new files are attached; please sign off again."
    quoted = [f"{r.partner_company_id}: {r.comment}" for r in asks if r.comment]
    if quoted:
        text += " You asked: " + "; ".join(quoted)
    return text[:10000]


def send_revision(
    smintio: Any,
    grid: Any,
    ref: str,
    allowed: list[Asset],
    fingerprint: Callable[[Asset], str],
    put_items: Callable[[], Any],
    kit_version: str,
) -> list[Asset]:
    """The revised kit on its existing request: the changed assets' files, our answer, and last
    the items (the request's next revision). Until the items are sent the request lists the old
    ones, so a retry finds the same changes and repeats the same PUTs (by our references), which
    change nothing twice."""
    before = grid.get_signoff(ref)
    seen = {item.asset_id: item.version for item in before.items}
    revised = [a for a in allowed if seen.get(a.id) != fingerprint(a)]
    for asset in revised:
        attach_files(smintio, grid, ref, asset)
    grid.put_signoff_comment(ref, f"revision-{kit_version}", revision_note(revised, change_requests(before)))
    put_items()
    return revised


def hold_for_changes(
    run: PipelineRun, smintio: Any, signoff: SignoffRequest, asset_id: str, response: SignoffResponse
) -> bool:
    """Take an asset back into review for a partner's requested changes, once per answer."""
    when = response.responded_at.isoformat()
    reason = (
        f"Co-marketing partner {response.login_id or response.partner_company_id} ({signoff.community}) "
        f"requested changes on {signoff.ref}" + (f": {response.comment}" if response.comment else "")
    )[:2000]

    def send(_plan: Any) -> str:
        smintio.update_metadata(asset_id, {}, tags_add=[changes_tag(signoff.community)])
        asset = smintio.get_asset(asset_id)
        if asset.approval_status is ApprovalStatus.APPROVED:
            smintio.set_approval(asset_id, ApprovalStatus.IN_REVIEW, reason)
        return asset_id

    version = f"{signoff.ref}@r{signoff.revision}:{response.partner_company_id}:{when}"
    target = TargetSystem.SMINTIO_SIGNOFF_CHANGES.of(signoff.community, response.partner_company_id)
    result = run.deliver_once(asset_id, version, target, send)
    if result.action is Action.SKIP:
        return False
    run.record(asset_id, TargetSystem.TRADING_GRID.of(signoff.community), "signoff_back_in_review", reason)
    return True


def release_hold(run: PipelineRun, smintio: Any, asset: Asset, community: str, ref: str, kit_version: str) -> bool:
    """The revised version went out on ``ref``: the asset is no longer waiting for changes."""

    def send(_plan: Any) -> str:
        smintio.update_metadata(
            asset.id,
            {f"co_marketing_signoff:{community}": f"revised version sent for sign-off on {ref}"},
            tags_remove=[changes_tag(community)],
        )
        return asset.id

    result = run.deliver_once(asset.id, f"{ref}:{kit_version}", TargetSystem.SMINTIO_SIGNOFF_RESENT.of(community), send)
    return result.action is not Action.SKIP
