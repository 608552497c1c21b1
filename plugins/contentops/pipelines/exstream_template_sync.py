"""The Exstream template sync's steps: changed images reach the templates only through review (EXS-8),
and production feedback reaches Smint.io (EXS-3).

EXS-8. Exstream holds the asset version the ledger says was delivered to ``exstream:<domain>``.
When Smint.io has a newer version of that asset (a changed logo, product image or disclosure
graphic) whose file differs from what Exstream holds, the resource's content is replaced — a new
version, in DRAFT — and the image and every communication that uses it (DAS links) go to REVIEW,
so no production run uses them until someone approved the change. One **template review**
workflow per resource and asset version is started in OpenText Workflow Service. A later run
applies the review's outcome: approved → the resources are APPROVED again; otherwise REJECTED,
and the asset is flagged in Smint.io. Nothing here waits for the reviewers.

EXS-3. Production flags resources for replacement or retirement. A replacement request puts the
asset back in review in Smint.io and tags it; a retirement retires the asset in Smint.io and
takes the resource out of APPROVED in Exstream (the ledger's delivery is withdrawn).

EXS-6. The brand team's localized variants reach Exstream next to their master, for the
communications' localized versions: :mod:`contentops.pipelines.exstream_localized` (the DAG's
``publish_localized_variants`` step); a newer variant version is replaced and reviewed here.

Every partner write goes through :meth:`PipelineRun.deliver_once` (workflows through
:func:`start_workflow_once`), so re-runs and retries change nothing twice.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from contentops.hooks.errors import ConflictError, NotFoundError, RequestRejectedError
from contentops.ledger import Action, DeliveryRecord
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import apply_ended_processes, business_key, start_workflow_once
from contentops.targets import Target, TargetSystem

TEMPLATE_REVIEW = "template_review"
BATCH_SIZE = 25
COMMUNICATION = "exstrapplication"
#: Tags the sync puts on Smint.io assets.
TAG_REPLACEMENT = "exstream:replacement-requested"
TAG_RETIRE = "exstream:retire-requested"
TAG_REVIEW_REJECTED = "exstream:template-review-rejected"


def domains(run: PipelineRun) -> list[str]:
    """The DAS domains to work on: the ``domains`` Param, else every domain Exstream lists."""
    chosen = [d for d in run.params.get("domains") or [] if d]
    return chosen or [d.id for d in run.hook("exstream").list_domains()]


def _since(run: PipelineRun, cursor: str) -> datetime:
    """The window's start, or an earlier stored end of the last successful run (a missed run is
    caught up; a backfill reads its own window)."""
    stored = run.ledger.get_cursor(cursor)
    if stored:
        earlier = datetime.fromisoformat(stored)
        if earlier < run.window.start:
            return earlier
    return run.window.start


def _advance(run: PipelineRun, cursor: str) -> None:
    if run.dry_run:
        return
    stored = run.ledger.get_cursor(cursor)
    if not stored or datetime.fromisoformat(stored) < run.window.end:
        run.ledger.set_cursor(cursor, run.window.end.isoformat())


def _exstream_deliveries(run: PipelineRun, domain: str | None = None) -> list[DeliveryRecord]:
    if domain is None:
        return run.ledger.deliveries(target_prefix=TargetSystem.EXSTREAM.prefix)
    target = TargetSystem.EXSTREAM.of(domain)
    return [d for d in run.ledger.deliveries(target_prefix=target.prefix) if target.matches(d.target)]


def _asset_of_resource(run: PipelineRun, domain: str, resource_id: str) -> DeliveryRecord | None:
    """The delivery that put a resource into Exstream (the newest, if the slot was re-created)."""
    matches = [d for d in _exstream_deliveries(run, domain) if d.remote_id == resource_id]
    return matches[-1] if matches else None


# -- review outcomes (EXS-8, second half) ----------------------------------------------------------
def apply_review_outcomes(run: PipelineRun) -> dict[str, int]:
    """Reviews started by earlier runs that have ended: the resources are approved or rejected."""
    return apply_ended_processes(run, TEMPLATE_REVIEW, _apply_review)


def _apply_review(run: PipelineRun, record: Any, instance: Any) -> Counter[str]:
    counts: Counter[str] = Counter()
    variables = {**instance.variables, **(record.variables or {})}
    outcome = instance.outcome or ("approved" if instance.completed else "terminated")
    asset_id = str(variables.get("asset_id") or "")
    domain = str(variables.get("domain") or "")
    version = variables.get("asset_version")
    state = "APPROVED" if outcome == "approved" else "REJECTED"
    exstream = run.hook("exstream")
    for resource_id in variables.get("resources") or []:

        def decide(_plan: Any, resource_id: str = resource_id) -> str:
            exstream.set_state(domain, resource_id, state, f"Template review {instance.id}: {outcome}")
            return resource_id

        in_exstream = TargetSystem.EXSTREAM.of(domain).at(resource_id)
        try:
            run.deliver_once(
                asset_id,
                f"{version}-{outcome}",
                TargetSystem.EXSTREAM_REVIEW_OUTCOME.of(domain).at(resource_id),
                decide,
            )
        except (RequestRejectedError, NotFoundError) as exc:
            # moved on by someone in Exstream meanwhile: their decision stands, ours is reported
            run.record(asset_id, in_exstream, "review_outcome_not_applied", str(exc))
            counts["not_applied"] += 1
            continue
        run.record(asset_id, in_exstream, f"review_{state.lower()}", detail=instance.id)
        counts[f"resources_{state.lower()}"] += 1
    if state == "REJECTED" and asset_id:

        def flag(_plan: Any) -> str:
            run.hook("smintio").update_metadata(
                asset_id,
                {"exstream_template_review": {"instance": instance.id, "outcome": outcome, "version": version}},
                tags_add=[TAG_REVIEW_REJECTED],
            )
            return asset_id

        run.deliver_once(
            asset_id, f"{version}-{outcome}", TargetSystem.SMINTIO_TEMPLATE_REVIEW.of(TargetSystem.EXSTREAM), flag
        )
        run.record(asset_id, TargetSystem.SMINTIO, "review_rejected_flagged", outcome, detail=instance.id)
    run.ledger.update_process(record.business_key, status="applied", outcome=outcome)
    counts[f"reviews_{outcome}"] += 1
    return counts


# -- production feedback (EXS-3) ----------------------------------------------------------------
def collect_feedback(run: PipelineRun) -> dict[str, int]:
    """Feedback production gave in the window flows back to Smint.io, once per feedback item."""
    counts: Counter[str] = Counter()
    exstream = run.hook("exstream")
    smintio = run.hook("smintio")
    on_invalid = run.quarantine_callback("exstream", "production_feedback")
    for domain in domains(run):
        cursor = f"{run.dag_id}:feedback:{exstream.conn_id}:{domain}"
        for item in exstream.iter_feedback(
            domain, since=_since(run, cursor), until=run.window.end, on_invalid=on_invalid
        ):
            delivery = _asset_of_resource(run, domain, item.resource_id)
            if delivery is None:
                run.quarantine(
                    "exstream",
                    "production_feedback",
                    f"resource {item.resource_id} in {domain} was not delivered from Smint.io",
                    item.model_dump(mode="json", by_alias=True),
                    ref=item.id,
                )
                counts["quarantined"] += 1
                continue
            asset_id = delivery.asset_id
            note = {
                "exstream_feedback": {
                    "id": item.id,
                    "action": item.action,
                    "reason": item.reason,
                    "resource": f"{domain}/{item.resource_id}",
                    "by": item.created_by,
                    "at": item.created_date.isoformat(),
                }
            }

            def send(_plan: Any, item: Any = item, asset_id: str = asset_id, note: dict[str, Any] = note) -> str:
                comment = f"Exstream production feedback {item.id}: {item.reason}"
                if item.action == "retire":
                    smintio.update_metadata(asset_id, note, tags_add=[TAG_RETIRE])
                    smintio.retire_asset(asset_id, comment)
                else:
                    asset = smintio.update_metadata(asset_id, note, tags_add=[TAG_REPLACEMENT])
                    if asset.approval_status is ApprovalStatus.APPROVED:
                        smintio.set_approval(asset_id, ApprovalStatus.IN_REVIEW, comment)
                return item.id

            done = run.deliver_once(
                asset_id, f"feedback-{item.id}", TargetSystem.SMINTIO_FEEDBACK.of(TargetSystem.EXSTREAM), send
            )
            if item.action == "retire":
                _block_retired(run, domain, item, delivery)
            if done.action is Action.SKIP:
                counts["already_applied"] += 1
                continue
            run.record(
                asset_id, TargetSystem.EXSTREAM.of(domain), f"feedback_{item.action}", item.reason, detail=item.id
            )
            counts[f"feedback_{item.action}"] += 1
        _advance(run, cursor)
    return dict(counts)


def _block_retired(run: PipelineRun, domain: str, item: Any, delivery: DeliveryRecord) -> None:
    """A retired asset leaves APPROVED in Exstream too (once); its delivery is withdrawn in the ledger."""
    if run.dry_run:
        return
    exstream = run.hook("exstream")

    def block(_plan: Any) -> str:
        try:
            if exstream.get_resource(domain, item.resource_id).is_approved:
                exstream.block(domain, item.resource_id, f"Retired on production feedback: {item.reason}")
        except NotFoundError:
            pass  # removed in Exstream already
        return str(item.resource_id)

    run.deliver_once(
        delivery.asset_id, f"feedback-{item.id}", TargetSystem.EXSTREAM_BLOCK.of(domain).at(item.resource_id), block
    )
    if delivery.status == "delivered":
        run.ledger.withdraw(
            delivery.pipeline, delivery.asset_id, delivery.target, f"retired: {item.reason}", run_id=run.run_id
        )


# -- changed images (EXS-8, first half) -------------------------------------------------------------
def is_outdated(delivery: DeliveryRecord, asset: Asset) -> bool:
    """Does the slot hold a delivered, older version of the asset than Smint.io has?"""
    try:
        return delivery.status == "delivered" and int(delivery.version or 0) < asset.version
    except ValueError:
        return False


def find_changed(run: PipelineRun) -> dict[str, Any]:
    """Assets delivered to Exstream whose Smint.io version is newer than the one Exstream holds.

    Reads only the assets Smint.io changed since the last run; returns counts and batches of
    asset ids (small, for XCom and task mapping).
    """
    by_asset: dict[str, list[DeliveryRecord]] = {}
    for delivery in _exstream_deliveries(run):
        if delivery.status == "delivered":
            by_asset.setdefault(delivery.asset_id, []).append(delivery)
    counts: Counter[str] = Counter(delivered_assets=len(by_asset))
    changed: list[str] = []
    if by_asset:
        smintio = run.hook("smintio")
        cursor = f"{run.dag_id}:assets:{smintio.conn_id}"
        for asset in smintio.iter_assets(
            changed_since=_since(run, cursor), on_invalid=run.quarantine_callback("smintio", "asset")
        ):
            deliveries = [d for d in by_asset.get(asset.id, []) if is_outdated(d, asset)]
            if not deliveries or asset.approval_status is ApprovalStatus.RETIRED:
                continue
            for delivery in deliveries:
                run.record(
                    asset.id,
                    delivery.target,
                    "newer_version",
                    f"Exstream holds v{delivery.version}, Smint.io has v{asset.version}",
                    detail=delivery.remote_id or "",
                )
            counts["changed_assets"] += 1
            changed.append(asset.id)
        _advance(run, cursor)
    batches = [changed[i : i + BATCH_SIZE] for i in range(0, len(changed), BATCH_SIZE)]
    return {"counts": dict(counts), "batches": batches}


def replace_and_review(run: PipelineRun, asset_ids: list[str]) -> dict[str, int]:
    """Replace each changed image in Exstream and put it, and every communication using it, into review."""
    counts: Counter[str] = Counter()
    if run.dry_run:
        return dict(counts)
    smintio = run.hook("smintio")
    for asset_id in asset_ids:
        asset = smintio.get_asset(asset_id)
        for delivery in _exstream_deliveries(run):
            if delivery.asset_id != asset_id or not is_outdated(delivery, asset):
                continue
            counts.update(replace_for_review(run, asset, delivery))
    return dict(counts)


def replace_for_review(
    run: PipelineRun,
    asset: Asset,
    delivery: DeliveryRecord,
    *,
    metadata: dict[str, Any] | None = None,
    staged: Callable[[], Path] | None = None,
) -> Counter[str]:
    """Replace the image Exstream holds for ``delivery`` by ``asset``'s newer version and put the
    image, and every communication using it, into review under one template review workflow.

    The one way an image Exstream already holds changes, whoever notices the new version first
    (this sync, or a campaign release delivering it): a changed image never reaches production
    unreviewed. A file that did not change only moves the slot to the new version. ``metadata``
    (the campaign's rights metadata) is written with the new content. ``staged`` gives the file
    when a caller already holds it checked (a campaign release's staged copy): not downloaded again.
    """
    counts: Counter[str] = Counter()
    exstream = run.hook("exstream")
    domain = Target.parse(delivery.target).key
    resource_id = delivery.remote_id or ""
    if not asset.binaries:
        run.record(asset.id, delivery.target, "not_replaced", "the asset has no file in Smint.io")
        counts["no_file"] += 1
        return counts
    binary = asset.binaries[0]
    try:
        resource = exstream.get_resource(domain, resource_id)
    except NotFoundError:
        run.record(asset.id, delivery.target, "not_replaced", f"resource {resource_id} no longer exists in {domain}")
        counts["resource_missing"] += 1
        return counts
    held = resource.content.sha256 if resource.content else None
    with tempfile.TemporaryDirectory(prefix="contentops-exstream-") as scratch:
        path = Path(scratch) / (binary.name or f"{asset.id}.bin")
        if binary.sha256 and held and binary.sha256 == held:
            digest = held  # Smint.io declares the file unchanged: no download needed
        elif staged is not None:
            path = staged()
            with path.open("rb") as held_file:
                digest = hashlib.file_digest(held_file, "sha256").hexdigest()
        else:
            digest = run.hook("smintio").download_asset_binary(asset.id, binary.id, path).sha256
        unchanged = held is not None and digest == held

        def replace(_plan: Any) -> str:
            if not unchanged:
                exstream.replace_content(
                    domain,
                    resource_id,
                    path,
                    name=resource.name,
                    content_type=binary.content_type or asset.content_type or "application/octet-stream",
                )
            if metadata is not None:
                exstream.put_rights_metadata(domain, resource_id, metadata)
            return resource_id

        # the slot of the pipeline that delivered the image: Exstream now holds this version
        run.deliver_once(
            asset.id,
            asset.version,
            delivery.target,
            replace,
            pipeline=delivery.pipeline,
            license_ref=delivery.license_ref,
        )
    if unchanged:
        run.record(
            asset.id, delivery.target, "content_unchanged", f"v{asset.version} has the same file", detail=resource_id
        )
        counts["content_unchanged"] += 1
        return counts
    run.record(asset.id, delivery.target, "content_replaced", f"v{asset.version}", detail=resource_id)
    counts["replaced"] += 1
    communications = [r.id for r in exstream.iter_users_of(domain, resource_id, types=[COMMUNICATION])]
    comment = f"{resource.name} changed (Smint.io {asset.id} v{asset.version}): review before the next production run"
    in_review = []
    for subject in [resource_id, *communications]:

        def review(_plan: Any, subject: str = subject) -> str:
            return str(exstream.submit_for_review(domain, subject, comment).id)

        try:
            run.deliver_once(asset.id, asset.version, TargetSystem.EXSTREAM_REVIEW.of(domain).at(subject), review)
        except (RequestRejectedError, ConflictError) as exc:
            run.record(asset.id, TargetSystem.EXSTREAM.of(domain).at(subject), "review_not_possible", str(exc))
            counts["review_not_possible"] += 1
            continue
        in_review.append(subject)
        run.record(asset.id, TargetSystem.EXSTREAM.of(domain).at(subject), "in_review", comment)
    counts["communications_in_review"] += len([s for s in in_review if s != resource_id])
    key = business_key(TEMPLATE_REVIEW, f"{domain}/{resource_id}", asset.version)
    instance, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        TEMPLATE_REVIEW,
        key,
        name=f"Template review: {resource.name} in {domain}",
        variables={
            "asset_id": asset.id,
            "asset_version": asset.version,
            "domain": domain,
            "resource_id": resource_id,
            "resources": in_review,
            "communications": communications,
        },
        run_id=run.run_id,
    )
    if started:  # kept with the business key, so the outcome can be applied whatever the partner returns
        run.ledger.update_process(
            key,
            variables={"asset_id": asset.id, "asset_version": asset.version, "domain": domain, "resources": in_review},
        )
    run.record(
        asset.id,
        TargetSystem.WORKFLOW.of(TEMPLATE_REVIEW),
        "review_started" if started else "review_running",
        detail=instance.id,
    )
    counts["reviews_started" if started else "reviews_running"] += 1
    return counts
