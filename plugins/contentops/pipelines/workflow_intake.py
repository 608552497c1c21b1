"""The workflow intake's steps: what arrives through OpenText Workflow Service and needs Smint.io.

- **Creative requests (OWS-3).** Every ``creative_request_intake`` task still open (created up
  to the window's end and not answered per the ledger: selection by state, so a skipped interval
  loses none) carries a request (campaign type, region, format, deadline). Smint.io is searched for
  approved assets of that campaign type and format; each candidate must be licensed for the
  request's region (and channel) on the run's end and on the deadline (:mod:`contentops.rights`).
  The matches go back onto the request (instance variables and a comment) and its task is
  completed with ``matched`` or ``no_match``. The matches are also made visible in Smint.io: one
  collection per request (``creative-request:<instance>``), which creatives browse from their
  design tools, each match put in once; every run re-checks the members of the collections of
  requests whose deadline is still ahead, and a member no longer rights-cleared (or no longer
  approved) leaves its collection once. A request that cannot be read is quarantined and
  the requester is told why. Requests a contentops pipeline started itself (partner requests
  routed to triage, which the ledger knows by their instance) are left to that pipeline.
- **DAM onboarding (OWS-6).** Every ``dam_ingest`` batch still open (started up to the window's
  end) names assets arriving from another DAM: inline (``assets``), or as a ``batch_id`` whose
  assets are read from the source DAM's own listing
  (:class:`~contentops.hooks.source_dam.SourceDamHook`, paged). Each valid one gets one
  ``dam_onboarding`` workflow per source asset and version (enrichment, rights validation,
  categorization); nothing waits for them: ``workflow_outcomes`` applies each through
  :data:`ONBOARDING_OUTCOMES` once it ended. Only an approved asset whose license clears a
  commercial use as of that run's end is published in Smint.io (approved, with the workflow's
  categories and tags), with its access permissions (the groups the workflow or the source DAM
  names; internal when none) and its usage rules as a license of its own: set on the asset in
  Smint.io and stored in the ledger's license index under the reference the asset names, so every
  rights gate (:mod:`contentops.pipelines.rights_first`) reads it like a purchased asset's
  license. Rejected or rights-invalid ones are not exposed, and why is recorded.

Every write goes through :meth:`PipelineRun.deliver_once`, every start through
:func:`start_workflow_once`: a re-run changes nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from typing import Any

from pydantic import ValidationError

from contentops import rights
from contentops.hooks.base import describe_validation_error
from contentops.ledger import Action, DeliveryPlan, ProcessRecord
from contentops.ledger.records import LicenseRow, raw_text
from contentops.mapping import intake
from contentops.models.domain import IntendedUse
from contentops.models.opentext_workflow import CreativeRequest, IncomingAsset, WorkflowInstance, WorkflowTask
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.outcome_handlers import OutcomeHandler
from contentops.pipelines.rights_first import asset_license, no_license_reason
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key, start_workflow_once
from contentops.targets import TargetSystem

REQUESTS = "creative_request_intake"
INGEST = "dam_ingest"
ONBOARDING = "dam_onboarding"
SMINTIO_ASSETS = TargetSystem.SMINTIO.of("assets")
SMINTIO_COLLECTIONS = TargetSystem.SMINTIO.of("collections")
#: prefix of the target of a request's collection (``smintio:collection:<request instance>``)
COLLECTION_TARGET = "collection"
#: access of an onboarded asset when neither the workflow nor the source DAM names groups
DEFAULT_VISIBILITY = "internal"


# --------------------------------------------------------------------------- OWS-3


def match_creative_requests(run: PipelineRun, *, max_matches: int = 20) -> dict[str, int]:
    """Answer every creative request that arrived in the window; returns counts."""
    workflow = run.hook("workflow")
    counts: Counter[str] = Counter(review_request_collections(run))
    # by state, not by window: every request still open (up to the window's end), so a skipped or
    # failed interval loses none; one whose task the ledger holds as completed is done
    for task in workflow.iter_new_tasks(REQUESTS, created_before=run.window.end):
        if _answered(run, task):
            counts["already_answered"] += 1
            continue
        if run.ledger.process_for_instance(task.process_instance_id) is not None:
            # started by a contentops pipeline (e.g. a partner request routed to triage): its
            # answer is the triage team's, and that pipeline follows it up
            counts["started_by_contentops"] += 1
            continue
        counts["requests"] += 1
        try:
            request = CreativeRequest.model_validate(task.variables)
        except ValidationError as exc:
            reason = f"invalid creative request: {describe_validation_error(exc)}"
            raw = {"instance": task.process_instance_id, "task": task.id, "variables": task.variables}
            if _still_quarantined(run, task.process_instance_id, raw):
                # selected by state, an uncorrected request comes back every run: kept once
                counts["still_quarantined"] += 1
                continue
            run.quarantine("workflow", "creative_request", reason, raw, ref=task.process_instance_id)
            _tell_requester(run, task, f"This request cannot be matched yet: {reason}. Please correct it.")
            counts["quarantined"] += 1
            continue
        matches = _matches(run, task.process_instance_id, request, max_matches)
        counts[_answer(run, task, request, matches)] += 1
        if matches:
            show_matches_in_smintio(run, task.process_instance_id, request, matches)
    return dict(counts)


def _collection_target(instance_id: str) -> str:
    return str(TargetSystem.SMINTIO.of(COLLECTION_TARGET, instance_id))


def show_matches_in_smintio(run: PipelineRun, instance_id: str, request: CreativeRequest, matches: list[str]) -> str:
    """Make a request's matches visible in Smint.io: its collection (created once), each match
    put in once (a re-run adds nothing). Returns the collection's id."""
    smintio = run.hook("smintio")
    where = request.region + (f", {request.channel}" if request.channel else "")
    name = f"{request.campaign_type} {request.format} ({where}) until {request.deadline.date().isoformat()}"

    def create(plan: DeliveryPlan) -> str:
        reference = f"creative-request:{instance_id}"
        description = f"Rights-cleared matches of creative request {instance_id} (OpenText Workflow Service)"
        return str(smintio.upsert_collection_by_reference(reference, name=name, description=description)["id"])

    collection = run.deliver_once(instance_id, "collection", SMINTIO_COLLECTIONS, create)
    collection_id = collection.remote_id or ""
    for asset_id in matches:

        def add(plan: DeliveryPlan, asset_id: str = asset_id) -> str:
            smintio.add_to_collection(collection_id, asset_id)
            return collection_id

        added = run.deliver_once(asset_id, "cleared", _collection_target(instance_id), add)
        if added.action is not Action.SKIP and not run.dry_run:
            run.record(asset_id, _collection_target(instance_id), "added_to_collection", detail=collection_id)
    return collection_id


def review_request_collections(run: PipelineRun) -> dict[str, int]:
    """Take out of the requests' collections every member no longer rights-cleared for its
    request (or no longer approved), once; requests past their deadline are left as they are."""
    counts: Counter[str] = Counter()
    members: dict[str, list[tuple[str, str]]] = defaultdict(list)
    prefix = str(TargetSystem.SMINTIO.of(COLLECTION_TARGET, ""))
    for slot in run.ledger.deliveries(pipeline=run.dag_id, target_prefix=prefix, status="delivered"):
        members[slot.target.removeprefix(prefix)].append((slot.asset_id, slot.remote_id or ""))
    if not members:
        return {}
    workflow, smintio = run.hook("workflow"), run.hook("smintio")
    for instance_id, assets in members.items():
        try:
            request = CreativeRequest.model_validate(workflow.get_instance(instance_id).variables)
        except ValidationError:
            continue  # it was readable when matched; an edited request is the requester's to resubmit
        if request.deadline < run.window.end:
            continue
        uses = intake.request_uses(request, run.window.end)
        for asset_id, collection_id in assets:
            asset = smintio.get_asset(asset_id)
            refusal = (
                f"no longer approved ({asset.approval_status.value})"
                if asset.approval_status is not ApprovalStatus.APPROVED
                else _rights_refusal(run, asset, uses)
            )
            if refusal is None:
                counts["collection_members_kept"] += 1
                continue
            if not run.dry_run:
                smintio.remove_from_collection(collection_id, asset_id)
                run.ledger.withdraw(run.dag_id, asset_id, _collection_target(instance_id), refusal, run_id=run.run_id)
            run.record(asset_id, _collection_target(instance_id), "left_collection", refusal, detail=collection_id)
            counts["collection_members_removed"] += 1
    return dict(counts)


def _still_quarantined(run: PipelineRun, instance_id: str, raw: dict[str, Any]) -> bool:
    """Is this very request (unchanged since) in the open quarantine already?"""
    text = raw_text(raw)
    return any(
        q.kind == "creative_request" and q.ref == instance_id and q.raw == text
        for q in run.ledger.quarantined(source="workflow")
    )


def _answered(run: PipelineRun, task: WorkflowTask) -> bool:
    """Has a run completed this request's task already (the partner may list it open a while)?"""
    target = str(TargetSystem.WORKFLOW_TASK.of(task.id))
    plan = run.ledger.plan(run.dag_id, task.process_instance_id, "completed", target)
    return plan.action is Action.SKIP


def _matches(run: PipelineRun, instance_id: str, request: CreativeRequest, limit: int) -> list[str]:
    """Approved assets of the request's campaign type and format, rights-cleared, at most ``limit``."""
    smintio = run.hook("smintio")
    uses = intake.request_uses(request, run.window.end)
    found: list[str] = []
    filters = {"approval_status": ApprovalStatus.APPROVED.value, "tag": intake.campaign_type_tag(request.campaign_type)}
    on_invalid = run.quarantine_callback("smintio", "asset")
    for asset in smintio.iter_assets(filters=filters, on_invalid=on_invalid):
        if intake.mismatch(request, asset) is not None:
            continue
        refusal = _rights_refusal(run, asset, uses)
        if refusal is not None:
            run.record(asset.id, TargetSystem.WORKFLOW.of(instance_id), "rights_refused", refusal, license=_lpt(asset))
            continue
        found.append(asset.id)
        if len(found) >= limit:
            break
    return found


def _rights_refusal(run: PipelineRun, asset: Asset, uses: list[IntendedUse]) -> str | None:
    """``None`` when every use is allowed by the asset's license (from the license index)."""
    known = asset_license(run, asset)
    if known is None:
        return no_license_reason(asset)
    usage = known.rights
    reasons = []
    for use in uses:
        decision = rights.evaluate(usage, use)
        if not decision.allowed:
            reasons.append(f"on {use.on_date.date().isoformat()}: {decision.summary()}")
    return "; ".join(reasons) or None


def _lpt(asset: Asset) -> str:
    return asset.license_purchase_transaction_uuid or ""


def _answer(run: PipelineRun, task: WorkflowTask, request: CreativeRequest, matches: list[str]) -> str:
    """Write the matches onto the request and complete its task, each once."""
    workflow = run.hook("workflow")
    instance_id = task.process_instance_id
    outcome = "matched" if matches else "no_match"
    where = request.region + (f", {request.channel}" if request.channel else "")
    summary = (
        f"{len(matches)} approved asset(s) match this {request.campaign_type} request "
        f"({request.format}, {where}, licensed through {request.deadline.date().isoformat()}): {', '.join(matches)}"
        if matches
        else f"No approved asset matches this {request.campaign_type} request ({request.format}, {where}) "
        f"with rights through {request.deadline.date().isoformat()}."
    )
    variables = {
        "matched_assets": matches,
        "match_count": len(matches),
        "match_outcome": outcome,
        "matched_as_of": run.window.end.isoformat(),
    }

    def write(plan: DeliveryPlan) -> str:
        workflow.set_variables(instance_id, variables)
        workflow.add_comment(instance_id, summary)
        return instance_id

    def complete(plan: DeliveryPlan) -> str:
        workflow.complete_task(task.id, outcome, {"matched_assets": matches})
        return task.id

    written = run.deliver_once(instance_id, "matches", TargetSystem.WORKFLOW.of(REQUESTS), write)
    run.deliver_once(instance_id, "completed", TargetSystem.WORKFLOW_TASK.of(task.id), complete)
    if written.action is not Action.SKIP:
        run.record(instance_id, TargetSystem.WORKFLOW.of(REQUESTS), outcome, summary, detail=", ".join(matches))
    return outcome


def _tell_requester(run: PipelineRun, task: WorkflowTask, message: str) -> None:
    workflow = run.hook("workflow")

    def comment(plan: DeliveryPlan) -> str:
        return str(workflow.add_comment(task.process_instance_id, message).get("id") or task.process_instance_id)

    run.deliver_once(task.process_instance_id, "invalid", TargetSystem.WORKFLOW_COMMENT.of(REQUESTS), comment)


# --------------------------------------------------------------------------- OWS-6


def start_onboarding(run: PipelineRun) -> list[str]:
    """Start (once) the onboarding of every asset of the ingest batches still open (started up to
    the window's end: by state, so a skipped interval loses no batch); returns the instance ids
    started or running (small: ids only). Their outcomes are applied by ``workflow_outcomes``."""
    workflow = run.hook("workflow")
    instance_ids: list[str] = []
    for batch in workflow.iter_instances(INGEST, started_before=run.window.end):
        if batch.ended:
            continue  # handed over (its task completed) or withdrawn: nothing left to start
        raw_assets = batch.variables.get("assets")
        source_dam = batch.variables.get("source_dam")
        if raw_assets is None and batch.variables.get("batch_id"):
            raw_assets = source_dam_listing(run, str(batch.variables["batch_id"]))
        if not isinstance(raw_assets, list):
            run.quarantine("workflow", "dam_ingest_batch", "the batch lists no assets", batch.variables, ref=batch.id)
            continue
        started = quarantined = 0
        for raw in raw_assets:
            incoming = _incoming(run, raw, source_dam, batch.id)
            if incoming is None:
                quarantined += 1
                continue
            instance_id = _onboard(run, incoming, batch.id)
            if instance_id is not None:
                instance_ids.append(instance_id)
                started += 1
        _hand_over(run, batch.id, started, quarantined)
    return instance_ids


def source_dam_listing(run: PipelineRun, batch_id: str) -> list[dict[str, Any]]:
    """The assets of a batch as the source DAM lists them (every page; ids and versions only
    travel on, the asset data is read again by nobody else)."""
    return list(run.hook("source_dam").iter_batch_assets(batch_id))


def _incoming(run: PipelineRun, raw: Any, source_dam: Any, batch_id: str) -> IncomingAsset | None:
    data = {"source_dam": source_dam, **raw} if isinstance(raw, dict) else raw
    try:
        return IncomingAsset.model_validate(data)
    except ValidationError as exc:
        ref = f"{source_dam}:{raw['source_id']}" if isinstance(raw, dict) and raw.get("source_id") else None
        reason = f"invalid incoming asset in batch {batch_id}: {describe_validation_error(exc)}"
        run.quarantine("workflow", "incoming_asset", reason, raw, ref=ref)
        return None


def _onboard(run: PipelineRun, incoming: IncomingAsset, batch_id: str) -> str | None:
    """The onboarding instance of one incoming asset version (started once), or ``None`` when
    nothing is left to wait for (already published or refused, or a dry run)."""
    decision = rights.evaluate(intake.incoming_rights(incoming), intake.onboarding_use(run.window.end))
    run.record(
        incoming.reference,
        TargetSystem.WORKFLOW.of(ONBOARDING),
        f"rights_check_{decision.verdict.value}",
        decision.summary(),
        expires=incoming.license.valid_until.date().isoformat()
        if incoming.license and incoming.license.valid_until
        else "",
    )
    if run.dry_run:
        return None
    key = business_key(ONBOARDING, incoming.reference, incoming.version)
    instance, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        ONBOARDING,
        key,
        name=f"Onboard {incoming.name} ({incoming.reference})",
        variables={
            **incoming.model_dump(mode="json"),
            "reference": incoming.reference,
            "batch_instance": batch_id,
            "rights_verdict": decision.verdict.value,
            "rights_reasons": decision.summary(),
        },
        run_id=run.run_id,
    )
    record = run.ledger.process(key)
    if record is not None and record.status == "applied":
        return None
    run.record(
        incoming.reference,
        TargetSystem.WORKFLOW.of(ONBOARDING),
        "workflow_started" if started else "workflow_running",
        detail=instance.id,
    )
    return instance.id


def _hand_over(run: PipelineRun, batch_id: str, started: int, quarantined: int) -> None:
    """Complete the batch's open hand-over task once: its assets are in onboarding now."""
    if run.dry_run:
        return
    workflow = run.hook("workflow")
    for task in workflow.iter_tasks(processInstanceId=batch_id):

        def complete(plan: DeliveryPlan, task_id: str = task.id) -> str:
            workflow.complete_task(
                task_id, "handed_over", {"onboarding_started": started, "quarantined_assets": quarantined}
            )
            return task_id

        run.deliver_once(batch_id, "handed_over", TargetSystem.WORKFLOW_TASK.of(task.id), complete)


def _publish_one(run: PipelineRun, key: str, result: dict[str, Any]) -> str:
    variables = dict(result.get("variables") or {})
    outcome = result.get("outcome") or "terminated"
    try:
        incoming = IncomingAsset.model_validate(variables)
    except ValidationError as exc:
        reason = f"onboarding {result['instance_id']} returned an unusable asset: {describe_validation_error(exc)}"
        run.quarantine("workflow", "incoming_asset", reason, variables, ref=result["instance_id"])
        return "quarantined"
    status = publish_onboarded_asset(run, incoming, outcome, variables, result["instance_id"])
    run.ledger.update_process(key, status="applied", outcome=outcome, variables=variables)
    return status


def apply_onboarding(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
    """The applier of an ended onboarding (``workflow_outcomes`` calls it once per business key):
    published in Smint.io if approved and the rights allow as of the polling run, else recorded
    as not exposed. An unusable result is quarantined (and the process recorded applied)."""
    result = {"instance_id": instance.id, "outcome": instance.outcome, "variables": dict(instance.variables)}
    return _publish_one(run, record.business_key, result)


#: The intake's onboarding workflows, for the ``workflow_outcomes`` registry.
ONBOARDING_OUTCOMES = OutcomeHandler(
    name="dam_onboarding",
    owns=lambda definition: definition == ONBOARDING,
    apply=apply_onboarding,
)


def publish_onboarded_asset(
    run: PipelineRun, incoming: IncomingAsset, outcome: str, variables: dict[str, Any], instance_id: str
) -> str:
    """Apply one onboarding outcome: expose the asset in Smint.io (approved, categorized, with its
    access permissions and its license) when onboarding approved it and its rights clear a
    commercial use; otherwise record why it is not exposed. Returns the status counted."""
    if outcome != "approved":
        reason = str(variables.get("reason") or f"onboarding ended with outcome {outcome}")
        run.record(incoming.reference, SMINTIO_ASSETS, "not_exposed", reason, detail=instance_id)
        return "not_exposed"
    decision = rights.evaluate(intake.incoming_rights(incoming), intake.onboarding_use(run.window.end))
    if not decision.allowed:
        run.record(incoming.reference, SMINTIO_ASSETS, "rights_refused", decision.summary(), detail=instance_id)
        return "rights_refused"
    smintio = run.hook("smintio")
    categories = [str(c) for c in variables.get("categories") or [] if isinstance(c, str | int)]
    extra_tags = [str(t) for t in variables.get("tags_added") or [] if isinstance(t, str)]
    enriched = variables.get("enriched_metadata") if isinstance(variables.get("enriched_metadata"), dict) else {}
    licence = incoming.license
    metadata = {
        **incoming.metadata,
        **enriched,
        "source_dam": incoming.source_dam,
        "source_id": incoming.source_id,
        "source_version": incoming.version,
        "source_url": incoming.source_url,
        # descriptive only: the usage rules themselves are the asset's license (below)
        "license_holder": licence.holder if licence else None,
        "license_reference": licence.reference if licence else None,
        "onboarding_workflow": instance_id,
    }
    tags = list(dict.fromkeys([*incoming.tags, *extra_tags, f"source:{incoming.source_dam}"]))
    groups = _access_groups(variables, incoming)
    visibility = "restricted" if groups else DEFAULT_VISIBILITY
    license_ref = onboarded_license_ref(incoming)

    def publish(plan: DeliveryPlan) -> str:
        asset = smintio.upsert_asset_by_reference(
            incoming.reference,
            name=incoming.name,
            content_type=incoming.content_type,
            description=incoming.description,
            metadata=metadata,
            tags=tags,
            categories=categories,
            approval_status=ApprovalStatus.IN_REVIEW,
        )
        smintio.set_access(asset.id, visibility=visibility, groups=groups)
        smintio.set_asset_license(asset.id, _license_body(incoming, license_ref))
        run.ledger.upsert_licenses([_license_row(incoming, license_ref, asset.id)], run_id=run.run_id)
        smintio.set_approval(asset.id, ApprovalStatus.APPROVED, f"Onboarding workflow {instance_id} approved")
        run.ledger.link("asset", incoming.source_dam, incoming.source_id, "smintio", asset.id)
        return asset.id

    delivered = run.deliver_once(incoming.reference, incoming.version, SMINTIO_ASSETS, publish, license_ref=license_ref)
    run.record(
        incoming.reference,
        SMINTIO_ASSETS,
        "published",
        f"approved in onboarding; categories {', '.join(categories) or 'none'}; "
        f"visible to {', '.join(groups) or visibility}",
        detail=delivered.remote_id or "",
        license=license_ref,
    )
    return "published"


def onboarded_license_ref(incoming: IncomingAsset) -> str:
    """The license index key of an onboarded asset version's license: stable, so a re-run or a
    retry stores the same license, and a new source version (new rights) gets its own."""
    name = f"contentops:onboarding-license:{incoming.reference}:v{incoming.version}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _access_groups(variables: dict[str, Any], incoming: IncomingAsset) -> list[str]:
    """Who may see the asset: the groups the onboarding workflow set, else the source DAM's."""
    chosen = variables.get("access_groups")
    if not isinstance(chosen, list) or not chosen:
        chosen = incoming.access_groups
    return sorted({str(g) for g in chosen if isinstance(g, str) and g})


def _license_body(incoming: IncomingAsset, license_ref: str) -> dict[str, Any]:
    licence = incoming.license
    return {
        "reference": license_ref,
        "holder": licence.holder if licence else None,
        "regions": (licence.regions or []) if licence else [],
        "channels": (licence.channels or []) if licence else [],
        "valid_from": licence.valid_from.isoformat() if licence and licence.valid_from else None,
        "valid_until": licence.valid_until.isoformat() if licence and licence.valid_until else None,
        "editorial_only": bool(licence.editorial_only) if licence else False,
    }


def _license_row(incoming: IncomingAsset, license_ref: str, asset_id: str) -> LicenseRow:
    """The onboarded license as the license index holds it: the rights :mod:`contentops.rights`
    reads, for the Smint.io asset."""
    usage = intake.incoming_rights(incoming).model_copy(update={"asset_id": asset_id})
    licence = incoming.license
    return LicenseRow(
        lpt_uuid=license_ref,
        asset_id=asset_id,
        provider=incoming.source_dam,
        version=incoming.version,
        expires_at=licence.valid_until if licence else None,
        rights=usage.model_dump(mode="json"),
    )
