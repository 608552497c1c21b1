"""The rights expiry sweep's steps: assess licenses as of the run's end, start one workflow per
affected asset and license version, and write each disposition back to Smint.io — and to every
partner that holds the asset (VIP, Trading Grid communities — also those that got it in a
co-marketing kit — and the partner cases it was handed out in, Exstream, the Consonance titles
that use it).

Which workflow: an asset whose license is expired, about to expire or at a usage limit gets a
**rights renewal** workflow (renew / replace / takedown, OWS-2); an asset whose license data
is missing or unusable gets a **compliance exception** workflow (OWS-4). A workflow is started
once per business key ``<workflow>:<asset>:v<license version>``, so re-runs and backfills never
start a second one, and a changed license starts a new one.

Which licenses are looked at does not depend on which run wrote them: besides those ending
within the horizon, every license written to the index since the sweep last *finished* its
review (its workflows started and their dispositions applied) is assessed — a run that synced a
license and then failed before its workflows started leaves that license to the next run, not
unreviewed for good. And what a workflow is told of its license is the license's own dates
("term 1 ended on …"), never the day a sweep looked, so whichever run starts it, its input is
the same.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from contentops import rights
from contentops.ledger import Action
from contentops.models.consonance import LicenseStatus
from contentops.models.domain import Reason, ReasonCode, SweepStatus, UsageRights
from contentops.models.smintio import ApprovalStatus
from contentops.pipelines import mappings
from contentops.pipelines.rights_first import known_license
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key, start_workflow_once
from contentops.targets import Target, TargetSystem

log = logging.getLogger(__name__)

RENEWAL = "rights_renewal"
EXCEPTION = "compliance_exception"
#: What each finding leads to.
WORKFLOW_FOR: dict[SweepStatus, str] = {
    SweepStatus.EXPIRED: RENEWAL,
    SweepStatus.EXPIRING: RENEWAL,
    SweepStatus.LIMIT_REACHED: RENEWAL,
    SweepStatus.METADATA_MISSING: EXCEPTION,
}
BATCH_SIZE = 50


#: lpt uuid -> (finding, reasons, license version, expiry date)
Findings = dict[str, tuple[SweepStatus, str, int, str]]

#: ledger cursor: when the sweep last finished a review (an ISO time); every license written to
#: the index after it is reviewed again, whichever run or DAG wrote it
REVIEWED_CURSOR = "rights_sweep:licenses_reviewed_until"
#: a review's mark is set this much before the review read the index: the workers' clocks differ
#: a little and a write's time is taken before its commit, so a few licenses are reviewed twice
#: (harmless: a workflow starts once per business key) rather than one missed
CLOCK_MARGIN = timedelta(minutes=15)
_EVER = datetime(1970, 1, 1, tzinfo=UTC)

#: a finding about a date, as a reviewer reads it: the license's own date (``listed``), never
#: the day the sweep looked (``wanted``), so two runs starting the same workflow say the same
_DATED_REASONS: dict[ReasonCode, str] = {
    ReasonCode.EXPIRED: "term {term} ended on {date}",
    ReasonCode.EXPIRING: "term {term} ends on {date}",
    ReasonCode.USE_PERIOD_ENDED: "term {term}: no new use may start after {date}",
    ReasonCode.NOT_YET_VALID: "term {term} starts on {date}",
}


def stated_reason(reason: Reason) -> str:
    """What a workflow (and the report) says of one finding: dated findings by the license's
    date alone; every other finding by its message (a cap, missing terms: no date in them)."""
    template = _DATED_REASONS.get(reason.code)
    if template is None or reason.term is None or not reason.listed:
        return reason.message
    return template.format(term=reason.term, date=reason.listed[0][:10])


def _pending_mark(run_id: str) -> str:
    return f"{REVIEWED_CURSOR}:pending:{run_id}"


def reviewed_until(run: PipelineRun) -> datetime:
    """When the sweep last finished a review (the beginning of time if it never did)."""
    value = run.ledger.get_cursor(REVIEWED_CURSOR)
    return datetime.fromisoformat(value) if value else _EVER


def finish_review(run: PipelineRun) -> bool:
    """Move the review mark to this run's (set by its assessment), once the run has started every
    workflow its review asked for and applied their dispositions; True if it moved.

    Only a run that got that far moves it, so a license a failed run synced or assessed is
    assessed again by the next one. The mark never moves back (a later run may have finished
    first); two runs finishing at once can at worst leave the earlier mark, which only reviews
    a few licenses twice."""
    name = _pending_mark(run.run_id)
    pending = run.ledger.get_cursor(name)
    if not pending:
        return False
    moved = datetime.fromisoformat(pending) > reviewed_until(run)
    if moved:
        run.ledger.set_cursor(REVIEWED_CURSOR, pending)
    run.ledger.set_cursor(name, None)
    return moved


def assess_licenses(
    run: PipelineRun, *, horizon_days: int, providers: list[str] | None = None
) -> tuple[Findings, Counter[str]]:
    """Assess, as of the window's end, every license in the index that may need action.

    Those are the licenses ending before the horizon, plus every license written to the index
    since the sweep last finished a review (:func:`finish_review`) — one without an end date can
    still be unusable or at a limit. A full review (no provider filter, not a dry run) notes its
    mark for :func:`finish_review`."""
    as_of = run.window.end
    mark = datetime.now(UTC) - CLOCK_MARGIN
    affected: Findings = {}
    counts: Counter[str] = Counter()
    for row in run.ledger.iter_licenses_to_review(
        expiring_before=as_of + timedelta(days=horizon_days),
        changed_in_run=run.run_id,
        changed_since=reviewed_until(run),
    ):
        if providers and row.provider not in providers:
            continue
        counts["licenses_reviewed"] += 1
        assessment = rights.assess_for_sweep(UsageRights.model_validate(row.rights), as_of, horizon_days)
        if not assessment.needs_action:
            continue
        expiry = assessment.expires_at.date().isoformat() if assessment.expires_at else ""
        reasons = "; ".join(dict.fromkeys(stated_reason(reason) for reason in assessment.reasons))
        affected[row.lpt_uuid] = (assessment.status, reasons, row.version or 1, expiry)
    if not providers and not run.dry_run:
        run.ledger.set_cursor(_pending_mark(run.run_id), mark.isoformat())
    return affected, counts


def assess(run: PipelineRun, *, horizon_days: int, providers: list[str] | None = None) -> dict[str, Any]:
    """Find the assets whose license needs action as of the window's end.

    Returns counts and batches of asset ids (small, for XCom and task mapping); the findings
    themselves go to the run's audit trail (and so to its report).
    """
    affected, counts = assess_licenses(run, horizon_days=horizon_days, providers=providers)
    asset_ids: list[str] = []
    smintio = run.hook("smintio")
    on_invalid = run.quarantine_callback("smintio", "asset")
    for asset in smintio.iter_assets(on_invalid=on_invalid):
        finding = affected.get(asset.license_purchase_transaction_uuid or "")
        if finding is None or asset.approval_status is ApprovalStatus.RETIRED:
            continue
        status, reasons, version, expiry = finding
        counts[f"assets_{status.value}"] += 1
        run.record(
            asset.id,
            TargetSystem.SMINTIO.of(asset.license_purchase_transaction_uuid),
            status.value,
            reasons,
            license=asset.license_purchase_transaction_uuid,
            expires=expiry,
            license_version=version,
        )
        asset_ids.append(asset.id)
    batches = [asset_ids[i : i + BATCH_SIZE] for i in range(0, len(asset_ids), BATCH_SIZE)]
    return {"counts": dict(counts), "batches": batches}


def start_workflows(run: PipelineRun, asset_ids: list[str]) -> list[str]:
    """Start (once) the workflow each assessed asset needs; returns the instance ids to wait for."""
    if run.dry_run:
        return []
    findings = {
        entry.subject: entry
        for entry in run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id)
        if entry.action in {s.value for s in WORKFLOW_FOR}
    }
    workflow = run.hook("workflow")
    instance_ids: list[str] = []
    for asset_id in asset_ids:
        entry = findings.get(asset_id)
        if entry is None:
            continue
        details = entry.details or {}
        definition = WORKFLOW_FOR[SweepStatus(entry.action)]
        key = business_key(definition, asset_id, details.get("license_version", 1))
        instance, started = start_workflow_once(
            workflow,
            run.ledger,
            definition,
            key,
            name=f"{definition.replace('_', ' ').title()}: {asset_id}",
            variables={
                "asset_id": asset_id,
                "finding": entry.action,
                "license": details.get("license"),
                "expires": details.get("expires"),
                "reasons": details.get("reason"),
            },
            run_id=run.run_id,
        )
        record = run.ledger.process(key)
        if record is not None and record.status == "applied":
            continue  # the disposition of this license version was already written back
        run.record(
            asset_id,
            TargetSystem.WORKFLOW.of(definition),
            "workflow_started" if started else "workflow_running",
            detail=instance.id,
        )
        instance_ids.append(instance.id)
    return instance_ids


#: disposition -> (approval status to set or None, tags to add, retire?)
DISPOSITIONS: dict[str, tuple[ApprovalStatus | None, list[str], bool]] = {
    "renew": (None, ["rights:renewed"], False),
    "replace": (ApprovalStatus.IN_REVIEW, ["rights:replacement-needed"], False),
    "takedown": (None, ["rights:taken-down"], True),
    "cleared": (None, ["compliance:cleared"], False),
    "removed": (None, ["compliance:removed"], True),
}


def apply_dispositions(run: PipelineRun, results: list[dict[str, Any]]) -> dict[str, int]:
    """Write each workflow's final disposition back to Smint.io, once per business key; then the
    run's review is finished (this step runs only when every workflow start and wait succeeded)."""
    counts: Counter[str] = Counter()
    smintio = run.hook("smintio")
    for result in results:
        if not result:
            continue
        variables = result.get("variables") or {}
        asset_id = variables.get("asset_id")
        outcome = result.get("outcome") or "terminated"
        process = run.ledger.process_for_instance(result["instance_id"])
        if asset_id is None or process is None:
            continue
        if process.status == "applied":
            counts["already_applied"] += 1
            continue
        approval, tags, retire = DISPOSITIONS.get(outcome, (None, [f"rights:{outcome}"], False))
        smintio.update_metadata(
            asset_id, {"rights_disposition": outcome, "rights_workflow": result["instance_id"]}, tags_add=tags
        )
        if approval is not None:
            smintio.set_approval(asset_id, approval, f"Rights workflow {result['instance_id']}: {outcome}")
        if retire:
            smintio.retire_asset(asset_id, f"Rights workflow {result['instance_id']}: {outcome}")
        counts.update(apply_to_vip(run, asset_id, outcome, variables, withdraw=retire))
        counts.update(post_usage_guidance(run, asset_id, outcome, variables, result["instance_id"]))
        counts.update(reply_on_cases(run, asset_id, outcome, variables, result["instance_id"]))
        counts.update(apply_to_exstream(run, asset_id, outcome, variables, block=retire))
        counts.update(record_consonance_terms(run, asset_id, outcome, variables, result["instance_id"]))
        run.ledger.update_process(process.business_key, status="applied", outcome=outcome, variables=variables)
        run.record(asset_id, "smintio", f"disposition_{outcome}", detail=result["instance_id"])
        counts[outcome] += 1
    if finish_review(run):
        log.info("Review finished: licenses written from now on are assessed by the next run")
    return dict(counts)


def apply_to_vip(
    run: PipelineRun, asset_id: str, outcome: str, variables: dict[str, Any], *, withdraw: bool
) -> Counter[str]:
    """VIP-8: the asset's media on every VIP catalog item is withdrawn (takedown) or re-restricted
    to the renewed end date the workflow returned (``valid_until``); each change is recorded once
    in the ledger."""
    counts: Counter[str] = Counter()
    delivered = _delivered(run, asset_id, TargetSystem.VIP)
    if not delivered:
        return counts
    vip = run.hook("vip")
    for delivery in delivered:
        item_id = Target.parse(delivery.target).key
        media_ref = delivery.remote_id or asset_id
        if withdraw:
            vip.withdraw_media(item_id, media_ref, f"rights {outcome}")
            run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, f"rights {outcome}", run_id=run.run_id)
            run.record(asset_id, delivery.target, "withdrawn", f"rights workflow: {outcome}")
            counts["vip_withdrawn"] += 1
        elif variables.get("valid_until"):
            from contentops.models.vip import UsageControls

            media = vip.get_media(item_id, media_ref)
            controls = UsageControls(
                regions=media.usage_controls.regions,
                channels=media.usage_controls.channels,
                valid_until=variables["valid_until"],
            )
            vip.restrict_media(item_id, media_ref, controls)
            run.record(asset_id, delivery.target, "restricted", f"valid until {variables['valid_until']}")
            counts["vip_restricted"] += 1
    return counts


#: What partner communities are told, per disposition (OTG-3).
GUIDANCE: dict[str, str] = {
    "takedown": "The license of {asset} has ended. Stop using it and remove it from every material.",
    "removed": "{asset} failed compliance review. Stop using it and remove it from every material.",
    "renew": "The license of {asset} was renewed{until}. You may keep using it as before.",
    "replace": "{asset} will be replaced by a new version; do not start new materials with it.",
    "cleared": "{asset} passed compliance review and may be used as before.",
}


def guidance_text(asset_id: str, outcome: str, variables: dict[str, Any]) -> str:
    """What partners are told of a disposition (the same words in a community and on a case)."""
    until = f" until {variables['valid_until'][:10]}" if variables.get("valid_until") else ""
    return GUIDANCE.get(outcome, "The rights of {asset} changed ({outcome}).").format(
        asset=asset_id, until=until, outcome=outcome
    )


def post_usage_guidance(
    run: PipelineRun, asset_id: str, outcome: str, variables: dict[str, Any], instance_id: str
) -> Counter[str]:
    """OTG-3: every Trading Grid community that received the asset — through a launch kit
    (``trading_grid:<community>``) or a co-marketing kit sent for sign-off — gets updated usage
    guidance, once per community and disposition."""
    counts: Counter[str] = Counter()
    # community -> the ledger target it received the asset under (a launch kit wins over a sign-off kit)
    received = {Target.parse(d.target).key: d.target for d in _delivered(run, asset_id, TargetSystem.TRADING_GRID)}
    for community, target in _signoff_communities(run, asset_id).items():
        received.setdefault(community, target)
    if not received:
        return counts
    grid = run.hook("trading_grid")
    text = guidance_text(asset_id, outcome, variables)
    for community, target in received.items():
        post_ref = f"rights-{asset_id}-{instance_id}"

        def publish(_plan: Any, community: str = community, post_ref: str = post_ref) -> str:
            return grid.put_post(
                community,
                post_ref,
                title=f"Usage update: {asset_id}",
                body=text,
                kind="usage_guidance",
                asset_ids=[asset_id],
            ).ref

        # recorded under its own target kind, so it is never mistaken for a delivery to a community
        run.deliver_once(asset_id, f"guidance-{instance_id}", TargetSystem.TRADING_GRID_GUIDANCE.of(community), publish)
        run.record(asset_id, target, "guidance_posted", text)
        counts["guidance_posted"] += 1
    return counts


def _signoff_communities(run: PipelineRun, asset_id: str) -> dict[str, str]:
    """Communities a co-marketing kit holding the asset was sent to, with the kit's ledger target.

    ``co_marketing_signoff`` records a kit per community (subject ``kit:<name>``) and links each
    asset of it to the community it went to, so the asset is found through that link."""
    from contentops.pipelines.co_marketing import TARGET_PREFIX, XREF_ENTITY

    found: dict[str, str] = {}
    for kit in run.ledger.deliveries(target_prefix=TARGET_PREFIX, status="delivered"):
        community = Target.parse(kit.target).key
        if community and run.ledger.lookup(
            XREF_ENTITY, "smintio", asset_id, str(TargetSystem.TRADING_GRID.of(community))
        ):
            found.setdefault(community, kit.target)
    return found


def reply_on_cases(
    run: PipelineRun, asset_id: str, outcome: str, variables: dict[str, Any], instance_id: str
) -> Counter[str]:
    """OTG-3 for partner cases: every case the asset was handed out in (``partner_case_intake``
    deliveries to ``trading_grid_case:<case>``) gets a reply saying what the partner may still do
    with it, once per case and disposition — a partner who got a file through a case hears of its
    takedown as surely as a community does."""
    counts: Counter[str] = Counter()
    delivered = _delivered(run, asset_id, TargetSystem.TRADING_GRID_CASE)
    if not delivered:
        return counts
    grid = run.hook("trading_grid")
    text = guidance_text(asset_id, outcome, variables)
    for case_id in dict.fromkeys(Target.parse(d.target).key for d in delivered):
        if not case_id:
            continue

        def reply(_plan: Any, case_id: str = case_id) -> str:
            return grid.put_case_comment(case_id, f"rights-{asset_id}-{instance_id}", text).ref

        # its own target kind, so the reply is never mistaken for the delivery on the case
        result = run.deliver_once(
            asset_id, f"rights-{instance_id}", TargetSystem.TRADING_GRID_CASE_RIGHTS.of(case_id), reply
        )
        if result.action is not Action.SKIP:
            run.record(asset_id, TargetSystem.TRADING_GRID_CASE.of(case_id), "case_replied", text)
            counts["case_replied"] += 1
    return counts


def apply_to_exstream(
    run: PipelineRun, asset_id: str, outcome: str, variables: dict[str, Any], *, block: bool
) -> Counter[str]:
    """EXS-2 / EXS-5: an Exstream resource whose rights ended (or that failed compliance) is moved
    out of APPROVED, so no communication uses it in the next run; a renewal updates the expiry in
    the resource's rights metadata. Each change once."""
    counts: Counter[str] = Counter()
    delivered = _delivered(run, asset_id, TargetSystem.EXSTREAM)
    if not delivered:
        return counts
    exstream = run.hook("exstream")
    for delivery in delivered:
        domain = Target.parse(delivery.target).key
        resource_id = delivery.remote_id or asset_id
        if block:
            exstream.block(domain, resource_id, f"Rights of {asset_id}: {outcome}")
            run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, f"rights {outcome}", run_id=run.run_id)
            run.record(asset_id, delivery.target, "blocked", f"rights workflow: {outcome}")
            counts["exstream_blocked"] += 1
        elif variables.get("valid_until"):
            # the metadata is replaced as a whole: keep what the release put there (campaign,
            # segments, regions), which is what Exstream picks images by (EXS-2)
            current = exstream.get_resource(domain, resource_id).metadata
            renewed = mappings.exstream_resources(run).apply(  # mappings/exstream_resources.yaml
                {"source_asset": asset_id, "valid_until": variables["valid_until"], "rights_disposition": outcome}
            )
            exstream.put_rights_metadata(domain, resource_id, {**current, **renewed})
            run.record(asset_id, delivery.target, "expiry_updated", f"valid until {variables['valid_until']}")
            counts["exstream_expiry_updated"] += 1
    return counts


#: What a title's record says of an asset's license after each disposition (CON-2).
LICENSE_STATUS_FOR: dict[str, LicenseStatus] = {
    "renew": LicenseStatus.RENEWED,
    "takedown": LicenseStatus.ENDED,
    "removed": LicenseStatus.ENDED,
    "replace": LicenseStatus.REPLACEMENT_PENDING,
    "cleared": LicenseStatus.ACTIVE,
}


def permitted_usage(usage: UsageRights) -> tuple[str, list[str], list[str]]:
    """A one-line statement of what the license permits, with its territories and channels.

    Terms are alternative grants, so their allowed keys are pooled; restrictions are named.
    An empty license reads "not stated": we never turn "we do not know" into a permission."""
    territories: dict[str, None] = {}
    channels: dict[str, None] = {}
    restricted: dict[str, None] = {}
    for term in usage.terms:
        territories.update(dict.fromkeys(term.allowed_geographies or []))
        channels.update(dict.fromkeys(term.allowed_distributions or []))
        restricted.update(dict.fromkeys([*(term.restricted_geographies or []), *(term.restricted_distributions or [])]))
    text = (
        f"{usage.provider or 'licensed'}: territories {', '.join(territories) or 'not stated'}; "
        f"channels {', '.join(channels) or 'not stated'}"
    )
    if restricted:
        text += f"; restricted: {', '.join(restricted)}"
    if usage.editorial_only:
        text += "; editorial use only"
    return text, list(territories), list(channels)


def record_consonance_terms(
    run: PipelineRun, asset_id: str, outcome: str, variables: dict[str, Any], instance_id: str
) -> Counter[str]:
    """CON-2: every Consonance title the asset is attached to (ledger deliveries to
    ``consonance:<work id>``) gets the license terms, expiry and permitted usage the disposition
    leaves — renewed to the workflow's ``valid_until``, or ended at the license's expiry — once per
    disposition (one record per title and asset, updated by later dispositions)."""
    from contentops.hooks.consonance import ModelledFeatureUnavailableError

    counts: Counter[str] = Counter()
    delivered = _delivered(run, asset_id, TargetSystem.CONSONANCE)
    if not delivered:
        return counts
    consonance = run.hook("consonance")
    license_ref = variables.get("license")
    known = known_license(run, license_ref)
    usage = known.rights if known is not None else UsageRights()
    text, territories, channels = permitted_usage(usage)
    status = LICENSE_STATUS_FOR.get(outcome, LicenseStatus.UNDER_REVIEW)
    valid_until = (
        datetime.fromisoformat(variables["valid_until"])
        if status is LicenseStatus.RENEWED and variables.get("valid_until")
        else rights.expiry(usage)
    )
    # one record per title, however many pipelines attached the asset to it
    work_ids = dict.fromkeys(Target.parse(d.target).key for d in delivered)
    for work_id in work_ids:
        if not work_id or ":" in work_id:
            continue  # only a title attachment (``consonance:<work id>``) names a work

        def send(_plan: Any, work_id: str = work_id) -> str:
            written = consonance.record_license_terms(
                work_id,
                reference=f"license-{asset_id}",
                asset_id=asset_id,
                status=status,
                valid_until=valid_until,
                license_reference=license_ref,
                permitted_usage=text,
                territories=territories,
                channels=channels,
            )
            return written.record.id or f"license-{asset_id}"

        # its own target kind, so terms are never mistaken for the attachment itself
        try:
            run.deliver_once(
                asset_id,
                f"terms-{instance_id}",
                TargetSystem.CONSONANCE_TERMS.of(work_id),
                send,
                license_ref=license_ref,
            )
        except ModelledFeatureUnavailableError:
            # Consonance lacks the (modelled) license-terms write: the hook's warning is in the
            # report; the disposition itself stands, and a later sweep tries the terms again
            counts["consonance_terms_unavailable"] += 1
            continue
        until = valid_until.date().isoformat() if valid_until else "no end date"
        run.record(
            asset_id,
            TargetSystem.CONSONANCE.of(work_id),
            "license_terms_recorded",
            f"{status.value}, valid until {until}",
            license=license_ref or "",
            expires=until,
        )
        counts["consonance_terms_recorded"] += 1
    return counts


def _delivered(run: PipelineRun, asset_id: str, kind: TargetSystem) -> list[Any]:
    """Where the asset currently is, on one kind of target (withdrawn ones are left alone)."""
    return [d for d in run.ledger.deliveries(asset_id=asset_id, target_prefix=kind.prefix) if d.status == "delivered"]
