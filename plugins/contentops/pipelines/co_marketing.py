"""Co-marketing sign-off (OTG-7): Smint.io manages the logos and templates, Trading Grid collects
the partners' sign-off, and every answer is recorded back on the Smint.io asset.

**The kit** is every approved Smint.io asset carrying the kit tag (``brand`` for the demo's
logos). Each partner community gets the part of the kit that :func:`contentops.rights.evaluate`
allows in the community's region as of the run's end (refusals are recorded with their reason),
as one sign-off request under the reference ``<kit>-<community>-<fingerprint>``. The fingerprint
covers what partners see — each asset's id, name, type and files — not its metadata or tags, so
the answers this pipeline writes onto the assets never make a "new" kit; a changed file does,
and that kit goes out for sign-off again. The files themselves are attached to the request,
streamed from Smint.io (:mod:`contentops.pipelines.co_marketing_review`).

**The answers** of the partners asked are read back from each community's current request: the
latest answer per partner is written into the asset's metadata
(``co_marketing_signoff:<community>:<partner>``), once per answer; when every partner asked has
approved, the asset gets the tag ``co-marketing:signed-off:<community>``. An answer that fails
validation, or comes from a partner who was not asked, is quarantined once with its reason.

**Changes requested** take the asset back into review in Smint.io and hold the community's kit;
the approved revision goes out on the same request, as its next revision, and only the answers
to the current revision count (:mod:`contentops.pipelines.co_marketing_review`).
All partner writes go through :meth:`PipelineRun.deliver_once`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from contentops.hooks.base import describe_validation_error
from contentops.ledger import Action
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.models.trading_grid import SignoffDecision, SignoffRequest, SignoffResponse
from contentops.pipelines import co_marketing_review as review
from contentops.pipelines.partner_cases import decide
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem

TARGET_PREFIX = TargetSystem.TRADING_GRID_SIGNOFF.prefix
XREF_ENTITY = review.XREF_ENTITY


def asset_fingerprint(asset: Asset) -> str:
    """What partners sign off: the asset's identity, name, type and files (not metadata or tags)."""
    seen = {
        "id": asset.id,
        "name": asset.name,
        "content_type": asset.content_type,
        "files": sorted(json.dumps(b.model_dump(mode="json"), sort_keys=True) for b in asset.binaries),
    }
    return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()[:12]


def kit_fingerprint(assets: list[Asset]) -> str:
    parts = sorted(f"{a.id}:{asset_fingerprint(a)}" for a in assets)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def kit_id(kit_name: str) -> str:
    """The ledger subject of a kit's sign-off requests."""
    return f"kit:{kit_name}"


def send_kits(run: PipelineRun, *, kit_tag: str, kit_name: str, communities: list[str] | None = None) -> dict[str, int]:
    """Send each community the part of the kit its region may use, with its files, once per kit
    version; a kit revised after changes were requested goes out on the same request."""
    counts: Counter[str] = Counter()
    smintio, grid = run.hook("smintio"), run.hook("trading_grid")
    tagged = list(smintio.iter_assets(filters={"tag": kit_tag}, on_invalid=run.quarantine_callback("smintio", "asset")))
    kit = [a for a in tagged if a.approval_status is ApprovalStatus.APPROVED]
    counts["kit_assets"] = len(kit)
    for community in grid.communities():
        if communities and community.id not in communities:
            continue
        target = TargetSystem.TRADING_GRID_SIGNOFF.of(community.id)
        waiting = [a for a in tagged if review.changes_tag(community.id) in a.tags]
        if any(a.approval_status in review.UNDER_REVISION for a in waiting):
            counts["awaiting_revision"] += 1  # the kit goes out again once the changes are approved
            continue
        waiting = [a for a in waiting if a.approval_status is ApprovalStatus.APPROVED]  # rejected: not in the kit
        allowed: list[Asset] = []
        for asset in kit:
            decision, _ = decide(run, asset, community.region, None)
            if decision.allowed:
                allowed.append(asset)
            else:
                run.record(asset.id, target, f"rights_{decision.verdict.value}", decision.summary())
                counts["refused"] += 1
        if not allowed:
            counts["communities_without_kit"] += 1
            continue
        version = kit_fingerprint(allowed)
        thread = review.open_thread(run, waiting, community.id) if waiting else None
        ref = thread or f"{kit_name}-{community.id}-{version}"
        items = [{"asset_id": a.id, "version": asset_fingerprint(a), "name": a.name} for a in allowed]

        def put_items(ref: str = ref, community_id: str = community.id, items: list[Any] = items) -> str:
            return grid.put_signoff(
                ref,
                community=community_id,
                title=f"Co-marketing kit {kit_name} for sign-off",
                message="Please review the logos and templates and approve them, or tell us what to change.",
                items=items,
            ).ref

        def send(
            _plan: Any,
            ref: str = ref,
            allowed: list[Asset] = allowed,
            version: str = version,
            put_items: Callable[[], str] = put_items,
            revising: bool = thread is not None,
        ) -> str:
            if revising:
                review.send_revision(smintio, grid, ref, allowed, asset_fingerprint, put_items, version)
                return ref
            put_items()
            for asset in allowed:  # the files themselves, on the request they are signed off in
                review.attach_files(smintio, grid, ref, asset)
            return ref

        result = run.deliver_once(kit_id(kit_name), version, target, send)
        if result.action is Action.SKIP:
            counts["kits_unchanged"] += 1
        else:
            for asset in allowed:
                if not run.dry_run:
                    run.ledger.link(
                        XREF_ENTITY, "smintio", asset.id, str(TargetSystem.TRADING_GRID.of(community.id)), ref
                    )
                run.record(asset.id, target, "sent_for_signoff", detail=ref)
            counts["revisions_sent" if thread else "kits_sent"] += 1
        if thread is not None:
            for asset in waiting:
                counts["holds_released"] += review.release_hold(run, smintio, asset, community.id, ref, version)
    return dict(counts)


def record_signoffs(run: PipelineRun, *, kit_name: str) -> dict[str, int]:
    """Write the partners' answers to each community's current sign-off request onto the assets."""
    counts: Counter[str] = Counter()
    smintio, grid = run.hook("smintio"), run.hook("trading_grid")
    for delivery in run.ledger.deliveries(
        pipeline=run.dag_id, asset_id=kit_id(kit_name), target_prefix=TARGET_PREFIX, status="delivered"
    ):
        if not delivery.remote_id:
            continue
        signoff = grid.get_signoff(delivery.remote_id)
        latest = _latest_answers(run, signoff, counts)
        for partner, response in latest.items():
            about = [i.asset_id for i in signoff.items if response.asset_id in (None, i.asset_id)]
            for asset_id in about:  # an answer naming one item is about that item only
                _record_answer(run, smintio, signoff, asset_id, partner, response, counts)
                if response.decision is SignoffDecision.CHANGES_REQUESTED:
                    counts["back_in_review"] += review.hold_for_changes(run, smintio, signoff, asset_id, response)
        if signoff.partners and all(
            latest.get(p) is not None and latest[p].decision is SignoffDecision.APPROVED for p in signoff.partners
        ):
            for item in signoff.items:
                _record_signed_off(run, smintio, signoff, item.asset_id, counts)
        else:
            counts["awaiting_signoff"] += 1
    return dict(counts)


def _latest_answers(run: PipelineRun, signoff: SignoffRequest, counts: Counter[str]) -> dict[str, SignoffResponse]:
    latest: dict[str, SignoffResponse] = {}
    for index, raw in enumerate(signoff.responses):
        ref = f"{signoff.ref}#{index}"
        try:
            response = SignoffResponse.model_validate(raw)
        except ValidationError as exc:
            counts["quarantined"] += _quarantine_once(
                run, ref, f"invalid sign-off answer: {describe_validation_error(exc)}", raw
            )
            continue
        if response.partner_company_id not in signoff.partners:
            counts["quarantined"] += _quarantine_once(
                run, ref, f"partner {response.partner_company_id} was not asked to sign off {signoff.ref}", raw
            )
            continue
        if response.revision != signoff.revision:
            continue  # an answer to an earlier revision of the request
        latest[response.partner_company_id] = response  # answers are listed oldest first
    return latest


def _record_answer(
    run: PipelineRun,
    smintio: Any,
    signoff: SignoffRequest,
    asset_id: str,
    partner: str,
    response: SignoffResponse,
    counts: Counter[str],
) -> None:
    when = response.responded_at.isoformat()
    note = f"{response.decision.value} by {response.login_id or partner} on {when[:10]} ({signoff.ref})"
    if response.comment:
        note += f": {response.comment}"[:500]

    def send(_plan: Any) -> str:
        smintio.update_metadata(asset_id, {f"co_marketing_signoff:{signoff.community}:{partner}": note})
        return asset_id

    version = f"{signoff.ref}:{response.decision.value}:{when}"
    result = run.deliver_once(asset_id, version, TargetSystem.SMINTIO_SIGNOFF.of(signoff.community, partner), send)
    if result.action is not Action.SKIP:
        run.record(
            asset_id, TargetSystem.TRADING_GRID.of(signoff.community), f"signoff_{response.decision.value}", note
        )
        counts[f"answers_{response.decision.value}"] += 1


def _record_signed_off(
    run: PipelineRun, smintio: Any, signoff: SignoffRequest, asset_id: str, counts: Counter[str]
) -> None:
    def send(_plan: Any) -> str:
        smintio.update_metadata(
            asset_id,
            {f"co_marketing_signoff:{signoff.community}": f"signed off by all {len(signoff.partners)} partners"},
            tags_add=[f"co-marketing:signed-off:{signoff.community}"],
        )
        return asset_id

    version = signoff.ref if signoff.revision == 1 else f"{signoff.ref}@r{signoff.revision}"
    result = run.deliver_once(asset_id, version, TargetSystem.SMINTIO_SIGNOFF_COMPLETE.of(signoff.community), send)
    if result.action is not Action.SKIP:
        run.record(asset_id, TargetSystem.TRADING_GRID.of(signoff.community), "signed_off", detail=signoff.ref)
        counts["signed_off"] += 1


def _quarantine_once(run: PipelineRun, ref: str, reason: str, raw: Any) -> int:
    if any(q.ref == ref for q in run.ledger.quarantined(source="trading_grid")):
        return 0
    run.quarantine("trading_grid", "signoff_response", reason, raw, ref=ref)
    return 1
