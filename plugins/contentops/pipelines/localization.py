"""The localization return loop's steps: take in what regions and partners send back, review it,
and hand the approved variants on.

1. **Intake** (:func:`intake`). Returns from VIP's regional teams and Trading Grid partner
   submissions received in the run's window are validated before anything else
   (:mod:`contentops.returns`: file name, declared type, size, download URL on the partner's own
   origin, master exists and its license allows this derivative). A refused return is quarantined
   in the ledger with its reason and the partner is told why (VIP return status ``quarantined`` /
   ``rejected``, a Trading Grid reply); the run goes on.
2. **Take in** (:func:`take_in`). Each accepted return is downloaded, streamed and confined to the
   partner's origin (no other host, no redirect that leaves it, a size limit), its bytes sniffed
   against the declared type, uploaded to Smint.io as a variant linked to its master, and a
   **regional localization review** is started in OpenText Workflow Service once per variant.
3. **Sync** (:func:`sync_reviews`). Comments and status of every open review are kept in step
   both ways (OWS-5): reviewer comments land on the Smint.io variant, Smint.io-side comments and
   the variant's status reach the workflow — each comment once, never echoed back.
4. **Apply** (:func:`apply_reviews`). A finished review's decision lands on the variant; an
   approved variant becomes an APPROVED Exstream image with its region and language (EXS-6) and
   goes back to the requesting region (media on the VIP catalog item the return was attached to,
   available to the region's teams, and the return ``accepted``; a Trading Grid reply naming the
   approved version, OTG-4).

Every partner write goes through :meth:`PipelineRun.deliver_once`, so a re-run changes nothing.
Open reviews outlive a run: the ledger keeps them (cross-reference ``localization_review``), and
each run waits for them a while and applies those that ended.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from contentops import returns, rights
from contentops.hooks.errors import (
    DownloadRefusedError,
    DownloadTooLargeError,
    MalformedResponseError,
    NotFoundError,
    PartnerAPIError,
)
from contentops.models.domain import UsageRights
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines import mappings
from contentops.pipelines.review_sync import reviewer_comments, sync_review_with_asset
from contentops.pipelines.rights_first import asset_rights
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key, start_workflow_once
from contentops.returns import LocalizedReturn, Refusal, RefusalCode, ReturnPolicy
from contentops.targets import Target, TargetSystem

log = logging.getLogger(__name__)

REVIEW = "regional_localization_review"
BATCH_SIZE = 25
#: Statuses of a return or submission nobody has decided on yet.
OPEN_STATUSES = {"vip": {"received"}, "trading_grid": {"submitted"}}
#: Ledger cross-reference of a review: workflow instance -> "open" / "applied".
REVIEW_XREF = "localization_review"
ACCEPTED = "accepted_for_review"
#: ledger targets of the variant's writes to Smint.io
SMINTIO_VARIANT = TargetSystem.SMINTIO.of("variant")
SMINTIO_VARIANT_METADATA = TargetSystem.SMINTIO.of("variant_metadata")
SMINTIO_APPROVAL = TargetSystem.SMINTIO.of("approval")
#: the ledger name the review's comment and status sync is kept under (the DAG's id, as before
#: the sync was shared): whichever DAG syncs a review, nothing is mirrored twice
REVIEW_PIPELINE = "localization_return_loop"


class ReturnsNotTakenIn(RuntimeError):
    """Some returns or review decisions failed at a partner; the task fails so Airflow retries them
    (what already happened is in the ledger and is not repeated)."""


def policy_from(params: dict[str, Any]) -> ReturnPolicy:
    max_mb = params.get("max_file_mb")
    return ReturnPolicy(max_bytes=int(float(max_mb) * 1024 * 1024)) if max_mb else ReturnPolicy()


# ============================================================================== intake


def _candidates(run: PipelineRun, since: datetime) -> Iterator[tuple[LocalizedReturn, dict[str, Any], str]]:
    """Every undecided return of both sources received in ``[since, window end)``, with its raw payload.

    A return the listing serves malformed is fetched again on its own by its id before anything
    is decided: one listing's glitch must not reject a valid return at its partner. Only a return
    that is malformed in itself too is quarantined and its sender told (:func:`_malformed`)."""
    end = run.window.end
    vip = run.hook("vip")
    relisted: list[tuple[str, Any]] = []
    for item in vip.iter_returns(since, on_invalid=lambda reason, raw: relisted.append((reason, raw))):
        if item.status in OPEN_STATUSES["vip"] and item.received_at < end:
            yield _vip_candidate(item), item.model_dump(mode="json"), vip.conn_id
    for item in _fetched_again(run, "vip", relisted, vip.get_return):
        if item.status in OPEN_STATUSES["vip"] and item.received_at < end:
            yield _vip_candidate(item), item.model_dump(mode="json"), vip.conn_id
    grid = run.hook("trading_grid")
    relisted = []
    for sub in grid.iter_submissions(since, on_invalid=lambda reason, raw: relisted.append((reason, raw))):
        if sub.status in OPEN_STATUSES["trading_grid"] and sub.submitted_at < end:
            yield _grid_candidate(sub), sub.model_dump(mode="json", by_alias=True), grid.conn_id
    for sub in _fetched_again(run, "trading_grid", relisted, grid.get_submission):
        if sub.status in OPEN_STATUSES["trading_grid"] and sub.submitted_at < end:
            yield _grid_candidate(sub), sub.model_dump(mode="json", by_alias=True), grid.conn_id


def _fetched_again(
    run: PipelineRun, source: str, relisted: list[tuple[str, Any]], fetch: Callable[[str], Any]
) -> Iterator[Any]:
    """The returns a listing served malformed, each fetched again by its id; those still
    malformed (or without an id, or gone) go to :func:`_malformed` with the listing's reason."""
    malformed = _malformed(run, source)
    for reason, raw in relisted:
        return_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(return_id, str) or not return_id.strip():
            malformed(reason, raw)
            continue
        try:
            yield fetch(return_id)
        except (ValidationError, MalformedResponseError, NotFoundError):
            malformed(reason, raw)


def _vip_candidate(item: Any) -> LocalizedReturn:
    return LocalizedReturn(
        source="vip",
        return_id=item.id,
        master_asset_id=item.master_asset_id,
        file_name=item.file_name,
        content_type=item.content_type,
        size=item.size,
        download_url=item.download_url,
        language=item.language,
        region=item.region,
        partner=item.attached_by,
        kind=str(getattr(item, "kind", None) or "localized_variant"),
    )


def candidate_of(source: str, record: Any) -> LocalizedReturn:
    """A VIP return or a Trading Grid submission as the loop checks it."""
    return _vip_candidate(record) if source == "vip" else _grid_candidate(record)


def _grid_candidate(sub: Any) -> LocalizedReturn:
    return LocalizedReturn(
        source="trading_grid",
        return_id=sub.id,
        master_asset_id=sub.master_asset_id,
        file_name=sub.file.name,
        content_type=sub.file.content_type,
        size=sub.file.size,
        download_url=sub.file.download_url,
        language=sub.language,
        region=sub.region,
        partner=sub.partner_company_id,
        kind=sub.kind,
    )


def _malformed(run: PipelineRun, source: str) -> Any:
    """``on_invalid`` for a return that does not even parse: quarantined, and its sender told."""

    def on_invalid(reason: str, raw: Any) -> None:
        return_id = raw.get("id") if isinstance(raw, dict) else None
        status = raw.get("status") if isinstance(raw, dict) else None
        if status is not None and status not in OPEN_STATUSES[source]:
            return  # decided before (its sender was told then)
        ref = f"{source}:{return_id}" if return_id else None
        if ref is not None and any(q.ref == ref for q in run.ledger.quarantined(source=source)):
            return  # already quarantined by an earlier run
        if run.dry_run:
            run.record(f"{source}:{return_id}", Target(source, "return"), "would_quarantine", reason)
            return
        run.quarantine(source, "localized_return", reason, raw, ref=ref)
        if return_id:
            tell_partner(run, source, str(return_id), "quarantined", f"the return could not be read: {reason}")

    return on_invalid


def intake(run: PipelineRun, *, lookback_hours: int = 24, policy: ReturnPolicy | None = None) -> dict[str, Any]:
    """Validate every new return; quarantine and answer the refused ones. Returns counts and
    batches of accepted return refs (small, for XCom and mapping)."""
    policy = policy or ReturnPolicy()
    since = run.window.start - timedelta(hours=lookback_hours)
    smintio = run.hook("smintio")
    counts: Counter[str] = Counter()
    accepted: list[str] = []
    for item, raw, _conn in _candidates(run, since):
        counts[f"{item.source}_received"] += 1
        refusal, master = check_return(run, smintio, item, policy)
        if refusal is not None and refusal.code is RefusalCode.LICENSE_UNKNOWN and license_feed_owes(run):
            # the license may be one the feed served malformed (quarantined, healed by a later
            # sync): hold the return undecided — a later run decides it — rather than reject it
            run.record(
                item.ref,
                Target(item.source, "return"),
                "held",
                f"{refusal.message}; the license feed has records in quarantine",
            )
            counts["held_license_unknown"] += 1
            continue
        if refusal is not None:
            refuse(run, item, refusal, raw)
            counts[f"refused_{refusal.code.value}"] += 1
            continue
        accept_for_review(run, item, master)
        counts["accepted"] += 1
        accepted.append(item.ref)
    batches = [accepted[i : i + BATCH_SIZE] for i in range(0, len(accepted), BATCH_SIZE)]
    return {"counts": dict(counts), "batches": batches}


def check_return(
    run: PipelineRun, smintio: Any, item: LocalizedReturn, policy: ReturnPolicy
) -> tuple[Refusal | None, Asset | None]:
    """The checks a return passes before anything is fetched (its metadata, its master and the
    master's license); the refusal, or ``None`` with the master. The intake and a replay alike."""
    origins = run.hook(item.source).download_origins()
    refusal = returns.check_metadata(item, origins, policy)
    master: Asset | None = None
    if refusal is None:
        try:
            master = _master(smintio, item.master_asset_id)
        except (ValidationError, MalformedResponseError) as exc:
            # whatever the id made the lookup read, it is this return's problem, not the batch's
            refusal = Refusal(
                RefusalCode.INVALID_MASTER_ID,
                f"master asset id {item.master_asset_id!r} does not name one asset ({type(exc).__name__})",
            )
    if refusal is None:
        refusal = returns.check_master(
            item,
            master_exists=master is not None and master.approval_status is not ApprovalStatus.RETIRED,
            master_rights=_rights_of(run, master),
            as_of=run.window.end,
        )
    return refusal, master


def accept_for_review(run: PipelineRun, item: LocalizedReturn, master: Asset | None) -> None:
    """Record a return as accepted for review: the take-in step reads it from this entry."""
    run.record(
        item.ref,
        TargetSystem.SMINTIO.of(item.master_asset_id),
        ACCEPTED,
        f"{item.kind} for {item.language or '-'} / {item.region or '-'} from {item.partner or item.source}",
        license=master.license_purchase_transaction_uuid if master else "",
        item=asdict(item),
    )


def license_feed_owes(run: PipelineRun) -> bool:
    """Whether license records the Smint.io feed served malformed are still in quarantine."""
    from contentops.pipelines.licenses import QUARANTINE_KIND

    return any(q.kind == QUARANTINE_KIND for q in run.ledger.quarantined(source="smintio"))


def _master(smintio: Any, asset_id: str) -> Asset | None:
    try:
        return smintio.get_asset(asset_id)
    except NotFoundError:
        return None


def _rights_of(run: PipelineRun, master: Asset | None) -> UsageRights | None:
    """The master's latest rights from the ledger's license index (kept current by the sync step)."""
    return asset_rights(run, master)


def refuse(run: PipelineRun, item: LocalizedReturn, refusal: Refusal, raw: Any) -> None:
    """Quarantine a return with its reason and tell its sender why (once). A dry run only reports."""
    if run.dry_run:
        run.record(item.ref, Target(item.source, "return"), "would_quarantine", refusal.describe())
    else:
        run.quarantine(item.source, "localized_return", refusal.describe(), raw, ref=item.ref)
    tell_partner(run, item.source, item.return_id, refusal.partner_status, refusal.message)


def tell_partner(
    run: PipelineRun,
    source: str,
    return_id: str,
    status: str,
    message: str,
    *,
    asset_id: str | None = None,
    version: int | None = None,
) -> None:
    """Set a VIP return's status or reply to a Trading Grid submission, once per status."""
    ref = f"{source}:{return_id}"

    def send(_plan: Any) -> str:
        if source == "vip":
            try:
                return run.hook("vip").set_return_status(return_id, status, message).id
            except ValidationError:  # VIP echoes a malformed return back as it is: the status is set
                return return_id
        return (
            run.hook("trading_grid")
            .reply_to_submission(
                return_id, f"contentops-{status}", status=status, message=message, asset_id=asset_id, version=version
            )
            .ref
        )

    if run.dry_run:
        run.record(ref, Target(source, "return_status"), f"would_tell_partner_{status}", message)
        return
    run.deliver_once(ref, status, Target(source, "return_status"), send)
    run.record(ref, Target(source, "return_status"), f"partner_told_{status}", message)


# ============================================================================== take in


def _accepted_items(run: PipelineRun, refs: list[str]) -> dict[str, LocalizedReturn]:
    wanted = set(refs)
    found: dict[str, LocalizedReturn] = {}
    for entry in run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id):
        if entry.action == ACCEPTED and entry.subject in wanted:
            found[entry.subject] = LocalizedReturn(**(entry.details or {})["item"])
    return found


def take_in(run: PipelineRun, refs: list[str], *, policy: ReturnPolicy | None = None) -> dict[str, int]:
    """Download, check the bytes, upload as a variant and start its review — each accepted return."""
    if run.dry_run:
        return {}
    policy = policy or ReturnPolicy()
    counts: Counter[str] = Counter()
    failed: list[str] = []
    for item in _accepted_items(run, refs).values():
        try:
            with tempfile.TemporaryDirectory(prefix="contentops-return-") as folder:
                outcome = take_in_one(run, item, Path(folder), policy)
        except PartnerAPIError as exc:  # one partner failure must not hold up the other returns
            run.record(item.ref, item.source, "take_in_failed", str(exc))
            failed.append(item.ref)
            continue
        counts[outcome] += 1
    if failed:
        raise ReturnsNotTakenIn(f"{len(failed)} return(s) failed and are retried: {', '.join(failed)}")
    return dict(counts)


Refuse = Callable[[PipelineRun, LocalizedReturn, Refusal, Any], None]


def take_in_one(
    run: PipelineRun, item: LocalizedReturn, folder: Path, policy: ReturnPolicy, refuse: Refuse = refuse
) -> str:
    """One accepted return into Smint.io and its review; ``refuse`` takes a return its file fails
    (quarantined with its sender told; a replay keeps its row instead)."""
    partner = run.hook(item.source)
    local = folder / "return.bin"  # our own name: the partner's file name never touches the disk
    try:
        download = partner.download_partner_file(item.download_url, local, max_bytes=policy.max_bytes)
    except NotFoundError as exc:
        # the file is gone: no later try finds it, so it is quarantined with its reference (and its
        # sender told) instead of failing this and every later run
        refuse(run, item, Refusal(RefusalCode.FILE_NOT_FOUND, f"the file is gone ({exc.message})"), asdict(item))
        return "refused_file_not_found"
    except DownloadTooLargeError as exc:
        refuse(run, item, Refusal(RefusalCode.FILE_TOO_LARGE, exc.message), asdict(item))
        return "refused_file_too_large"
    except DownloadRefusedError as exc:
        refusal = Refusal(RefusalCode.FOREIGN_HOST, f"the download left the partner's own host ({exc.message})")
        refuse(run, item, refusal, asdict(item))
        return "refused_foreign_host"
    with local.open("rb") as handle:
        head = handle.read(returns.SNIFF_BYTES)
    refusal = returns.check_content(head, download.size, item.content_type, policy)
    if refusal is not None:
        refuse(run, item, refusal, {**asdict(item), "sha256": download.sha256, "size_received": download.size})
        return f"refused_{refusal.code.value}"
    content_type = returns.normalize_content_type(item.content_type)
    smintio = run.hook("smintio")

    def upload(plan: Any) -> str:
        variant = smintio.upload_variant(
            item.master_asset_id,
            local,
            name=item.file_name,
            language=item.language,
            region=item.region,
            content_type=content_type,
            idempotency_key=plan.key,
        )
        return str(variant.id)

    uploaded = run.deliver_once(item.ref, download.sha256[:16], SMINTIO_VARIANT, upload)
    variant_id = uploaded.remote_id
    if variant_id is None:  # a dry run
        return "dry_run"
    run.ledger.link("localized_variant", item.source, item.return_id, "smintio", variant_id)

    def describe(_plan: Any) -> str:
        smintio.update_metadata(
            variant_id,
            {
                "localization_return": item.ref,
                "localization_kind": item.kind,
                "partner": item.partner,
                "sha256": download.sha256,
            },
            tags_add=[
                "localized",
                *([f"language:{item.language}"] if item.language else []),
                *([f"region:{item.region}"] if item.region else []),
            ],
        )
        return variant_id

    run.deliver_once(variant_id, 1, SMINTIO_VARIANT_METADATA, describe)
    run.record(item.ref, TargetSystem.SMINTIO, "variant_uploaded", f"variant {variant_id} of {item.master_asset_id}")
    key = business_key(REVIEW, variant_id, 1)
    instance, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        REVIEW,
        key,
        name=f"Regional localization review: {item.file_name} ({item.language or '-'} / {item.region or '-'})",
        variables={
            "asset_id": variant_id,
            "master_asset_id": item.master_asset_id,
            "language": item.language,
            "region": item.region,
            "return_ref": item.ref,
            "source": item.source,
            "return_id": item.return_id,
            "partner": item.partner,
            "file_name": item.file_name,
            "content_type": content_type,
            "kind": item.kind,
        },
        run_id=run.run_id,
    )
    if run.ledger.lookup(REVIEW_XREF, "workflow", instance.id, "contentops") is None:
        run.ledger.link(REVIEW_XREF, "workflow", instance.id, "contentops", "open", meta={"variant": variant_id})
    run.record(
        variant_id,
        TargetSystem.WORKFLOW.of(REVIEW),
        "review_started" if started else "review_running",
        detail=instance.id,
    )
    tell_partner(run, item.source, item.return_id, "in_review", f"Received; in regional review as {variant_id}")
    return "taken_in"


# ============================================================================== sync


def open_reviews(run: PipelineRun) -> list[str]:
    """Instance ids of every review started and not yet applied (this run's and earlier ones)."""
    return run.ledger.lookup_reverse(REVIEW_XREF, "contentops", "open", "workflow")


def sync_reviews(run: PipelineRun) -> list[str]:
    """Sync comments and status of every open review both ways; returns the ids to wait for."""
    if run.dry_run:
        return []
    ids = open_reviews(run)
    workflow = run.hook("workflow")
    for instance_id in ids:
        sync_review(run, workflow.get_instance(instance_id))
    return ids


def sync_review(run: PipelineRun, instance: Any) -> Counter[str]:
    """OWS-5: reviewer comments -> Smint.io variant; Smint.io comments and status -> the workflow
    (:func:`contentops.pipelines.review_sync.sync_review_with_asset`, as for campaign approvals)."""
    variant_id = instance.variables.get("asset_id")
    if not variant_id:
        return Counter()
    counts = sync_review_with_asset(run, instance, variant_id, pipeline=REVIEW_PIPELINE, reviewer="regional reviewer")
    if counts:
        run.record(variant_id, TargetSystem.WORKFLOW.of(instance.id), "review_synced", detail=dict(counts))
    return counts


# ============================================================================== apply


def apply_reviews(run: PipelineRun, *, exstream_domain: str = "retail") -> dict[str, int]:
    """Apply the decision of every open review that has ended; the others wait for a later run."""
    counts: Counter[str] = Counter()
    if run.dry_run:
        return {}
    workflow = run.hook("workflow")
    failed: list[str] = []
    for instance_id in open_reviews(run):
        try:
            outcome = _apply_review(run, workflow.get_instance(instance_id), exstream_domain, counts)
        except PartnerAPIError as exc:  # one partner failure must not hold up the other reviews
            run.record(instance_id, TargetSystem.WORKFLOW, "apply_failed", str(exc))
            failed.append(instance_id)
            continue
        if outcome is not None:
            counts[f"review_{outcome}"] += 1
    if failed:
        raise ReturnsNotTakenIn(f"{len(failed)} review decision(s) failed and are retried: {', '.join(failed)}")
    return dict(counts)


def _apply_review(run: PipelineRun, instance: Any, exstream_domain: str, counts: Counter[str]) -> str | None:
    """Sync, then apply the decision of one review if it has ended; its outcome, or None if open."""
    sync_review(run, instance)  # comments that came in while we waited
    if not instance.ended:
        counts["still_in_review"] += 1
        return None
    outcome = instance.outcome or "terminated"
    if outcome == "approved":
        counts.update(_approve(run, instance, exstream_domain))
    else:
        counts.update(_reject(run, instance, outcome))
    process = run.ledger.process_for_instance(instance.id)
    if process is not None:
        run.ledger.update_process(process.business_key, status="applied", outcome=outcome)
    run.ledger.link(REVIEW_XREF, "workflow", instance.id, "contentops", "applied")
    return outcome


def _reviewer_note(run: PipelineRun, instance: Any) -> str:
    """The last thing a reviewer said (not a comment we mirrored), for the decision's comment."""
    said = reviewer_comments(run, instance, instance.variables.get("asset_id") or "")
    return said[-1] if said else ""


def _reject(run: PipelineRun, instance: Any, outcome: str) -> Counter[str]:
    variables = instance.variables
    variant_id = variables["asset_id"]
    note = _reviewer_note(run, instance) or f"regional review ended: {outcome}"
    smintio = run.hook("smintio")

    def decide(_plan: Any) -> str:
        smintio.set_approval(variant_id, ApprovalStatus.REJECTED, f"Regional review {instance.id}: {note}")
        return variant_id

    run.deliver_once(variant_id, f"review-{instance.id}", SMINTIO_APPROVAL, decide)
    tell_partner(run, variables["source"], variables["return_id"], "rejected", f"Not approved: {note}")
    run.record(variant_id, TargetSystem.SMINTIO, "variant_rejected", note, detail=instance.id)
    return Counter({"rejected": 1})


def _approve(run: PipelineRun, instance: Any, exstream_domain: str) -> Counter[str]:
    variables = instance.variables
    variant_id = variables["asset_id"]
    smintio = run.hook("smintio")
    note = _reviewer_note(run, instance) or "approved in regional review"

    def decide(_plan: Any) -> str:
        smintio.set_approval(variant_id, ApprovalStatus.APPROVED, f"Regional review {instance.id}: {note}")
        return variant_id

    run.deliver_once(variant_id, f"review-{instance.id}", SMINTIO_APPROVAL, decide)
    variant = smintio.get_asset(variant_id)
    master_rights = _rights_of(run, _master(smintio, variables["master_asset_id"]))
    counts: Counter[str] = Counter({"approved": 1})
    with tempfile.TemporaryDirectory(prefix="contentops-variant-") as folder:
        local = Path(folder) / "variant.bin"
        binary_id = variant.binaries[0].id if variant.binaries else f"{variant_id}-main"
        smintio.download_asset_binary(variant_id, binary_id, local)
        content_type = variables.get("content_type") or variant.content_type or "application/octet-stream"
        if content_type.startswith("image/"):
            _to_exstream(run, variables, variant, local, content_type, exstream_domain, master_rights)
            counts["exstream_published"] += 1
        _deliver_back(run, variables, variant, local, content_type, master_rights)
    counts["delivered_back"] += 1
    return counts


def _to_exstream(
    run: PipelineRun,
    variables: dict[str, Any],
    variant: Asset,
    local: Path,
    content_type: str,
    domain: str,
    master_rights: UsageRights | None,
) -> None:
    """EXS-6: an APPROVED image resource tagged with region and language for localized assembly."""
    exstream = run.hook("exstream")
    until = rights.usable_until(master_rights) if master_rights else None
    keys = mappings.exstream_resources(run)  # mappings/exstream_resources.yaml

    def publish(plan: Any) -> str:
        file_name = variables.get("file_name")
        resource = exstream.upload_image(
            domain,
            local,
            # the upload's identity (a retry finds what an earlier attempt created by it): the
            # variant's id, so two variants returned under the same file name stay apart
            name=f"{variant.id}-{file_name}" if file_name else variant.id,
            content_type=content_type,
            idempotency_key=plan.key,
            resume=plan.resumed,
        )
        exstream.put_rights_metadata(
            domain,
            resource.id,
            keys.apply(
                {
                    "source_asset": variant.id,
                    "master_asset": variables.get("master_asset_id"),
                    "region": variables.get("region"),
                    "language": variables.get("language"),
                    "localized": True,
                    "valid_until": until.isoformat() if until else None,
                }
            ),
        )
        if not resource.is_approved:  # a resumed upload may find it approved already
            exstream.submit_for_review(
                domain, resource.id, f"Localized variant {variant.id} approved in regional review"
            )
            exstream.set_state(domain, resource.id, "APPROVED", f"Approved localized variant {variant.id}")
        return resource.id

    done = run.deliver_once(variant.id, variant.version, TargetSystem.EXSTREAM.of(domain), publish)
    run.record(
        variant.id,
        TargetSystem.EXSTREAM.of(domain),
        "published_localized",
        f"{variables.get('language') or '-'} / {variables.get('region') or '-'}",
        detail=done.remote_id,
    )


def _deliver_back(
    run: PipelineRun,
    variables: dict[str, Any],
    variant: Asset,
    local: Path,
    content_type: str,
    master_rights: UsageRights | None,
) -> None:
    """Back to whoever asked: media on the VIP catalog item the return was attached to, available
    to the region's regional teams, and the return accepted; or a Trading Grid reply."""
    source, return_id = variables["source"], variables["return_id"]
    message = f"Approved as {variant.id} version {variant.version}"
    if source == "vip" and variables.get("region"):
        from contentops.models.vip import UsageControls

        region = variables["region"]
        vip = run.hook("vip")
        item_id = vip.get_return(return_id).item_id
        target = TargetSystem.VIP.of(item_id)
        until = rights.usable_until(master_rights) if master_rights else None

        def deliver(_plan: Any) -> str:
            teams = [p.id for p in vip.iter_parties(region=region, kind="regional_team") if p.active]
            vip.put_media(
                item_id,
                variant.id,
                asset_id=variant.id,
                version=variant.version,
                file_name=variables.get("file_name") or f"{variant.id}.bin",
                content_type=content_type,
                usage_controls=UsageControls(regions=[region], channels=["any"], valid_until=until),
                available_to=teams,
                campaign_tags=[
                    "localized",
                    *([f"language:{variables['language']}"] if variables.get("language") else []),
                ],
                license_summary=f"derivative of {variables.get('master_asset_id')}, cleared for {region}",
                attributes=mappings.vip_media(run).attributes_of(variant),
            )
            vip.upload_media_content(item_id, variant.id, local, content_type)
            return variant.id

        run.deliver_once(variant.id, variant.version, target, deliver)
        run.record(variant.id, target, "delivered_back", message)
        message += f"; delivered to VIP item {item_id} for {region}"
    tell_partner(run, source, return_id, "accepted", message, asset_id=variant.id, version=variant.version)
