"""Partner case intake: what partners file in Trading Grid, routed into Smint.io and answered.

Two kinds of case arrive (:mod:`contentops.models.trading_grid`):

- **Requests (OTG-2)** — logos, images, localized artwork, rights clarifications. A request is
  matched against the *approved* assets in Smint.io; every match is rights-gated by
  :func:`contentops.rights.evaluate` for the partner's region (from the partner directory) as
  of the run's end. Allowed matches are delivered into the case (the asset's files streamed from
  Smint.io and attached to the case, a link, and an answer carrying the asset reference, its
  license and how long it may be used), refused ones are
  explained, and the case is resolved. A request with no approved match, or whose rights
  cannot be decided, starts one ``creative_request_intake`` workflow in OpenText Workflow
  Service per case revision (business key ``creative_request_intake:<case>:v<revision>``) and
  the case goes ``in_progress``; when the workflow ends, a later run delivers the asset the
  reviewers chose (rights-gated again), passes their answer on, or declines the request.
- **Reports (OTG-6)** — missing files, broken links, wrong metadata, quality problems about a
  Smint.io asset. The asset is flagged for correction (tags ``needs-correction`` and
  ``tg-case:<case>``, the case in the asset's metadata; a missing file or a quality problem
  also takes an approved asset back ``in_review`` so nothing ships it meanwhile), the case is
  linked to the asset in Trading Grid and in the ledger's cross-references (``partner_case``),
  and the case goes ``in_progress``. The asset counts as corrected once an editor removed its
  ``tg-case:<case>`` tag and it is approved; a later run then resolves the case.

Workflows are not waited for inside a run: a triage can take days, and a run that waits would
hold up the intake of new cases (the DAG runs every 30 minutes, one run at a time). Instead
every run looks once at the cases that are ``in_progress``.

Every partner write — Smint.io flags, Trading Grid links, comments and status changes — goes
through :meth:`PipelineRun.deliver_once` with a key naming the case revision and the step, so
a re-run changes nothing and a partner who reopens a case (a new revision) is answered again.
A case that fails validation is quarantined once per revision with its reason; the rest of the
run goes on. The window moves on, but a quarantined case is not forgotten: every run fetches
each one again by its id, and one the partner now serves valid (and still open or in progress)
is handled with the rest and its quarantine row resolved.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from contentops import rights
from contentops.hooks.errors import NotFoundError
from contentops.ledger import Action
from contentops.models.domain import IntendedUse, RightsDecision, Verdict
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.models.trading_grid import (
    REPORT_TYPES,
    REQUEST_TYPES,
    AssetKind,
    CaseStatus,
    CaseType,
    PartnerCase,
    TradingPartner,
)
from contentops.pipelines.asset_files import asset_files
from contentops.pipelines.rights_first import rights_or_unknown
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import business_key, start_workflow_once
from contentops.targets import TargetSystem

INTAKE_WORKFLOW = "creative_request_intake"
#: where the intake workflow's starts are recorded
INTAKE_TARGET = TargetSystem.WORKFLOW.of(INTAKE_WORKFLOW)
#: Outcomes of the intake workflow that hand the partner an asset (variable ``asset_id``).
FULFILLED = frozenset({"fulfilled", "approved"})
#: Outcome of the intake workflow that passes a written answer on (variable ``answer``).
ANSWERED = "answered"
#: Report types that take an approved asset back into review until it is corrected.
HOLD_IN_REVIEW = frozenset({CaseType.MISSING_FILE, CaseType.QUALITY_PROBLEM})
XREF_ENTITY = "partner_case"
CORRECTION_TAG = "needs-correction"
BATCH_SIZE = 25
MAX_MATCHES = 3


def case_tag(case_id: str) -> str:
    return f"tg-case:{case_id}"


# -- collect ----------------------------------------------------------------------------------------
def collect(run: PipelineRun, *, page_size: int = 50) -> dict[str, Any]:
    """Cases to handle: those filed or changed in the run's window and still ``open``, plus every
    case ``in_progress`` (waiting for a workflow or a correction). Returns counts and batches
    of case ids (small, for XCom and task mapping); bad cases are quarantined."""
    grid = run.hook("trading_grid")
    counts: Counter[str] = Counter()
    ids: list[str] = []

    def on_invalid(reason: str, raw: Any) -> None:
        counts["quarantined"] += quarantine_case(run, reason, raw)

    for case in grid.iter_cases(
        updated_since=run.window.start,
        updated_until=run.window.end,
        statuses=[CaseStatus.OPEN],
        page_size=page_size,
        on_invalid=on_invalid,
    ):
        counts[f"new_{case.type.value}"] += 1
        ids.append(case.id)
    for case in grid.iter_cases(statuses=[CaseStatus.IN_PROGRESS], page_size=page_size, on_invalid=on_invalid):
        if case.id not in ids:
            counts["in_progress"] += 1
            ids.append(case.id)
    for case_id in heal_quarantined_cases(run, grid):
        if case_id not in ids:
            counts["healed"] += 1
            ids.append(case_id)
    batches = [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]
    return {"counts": dict(counts), "batches": batches}


#: quarantine kinds: a case the partner served malformed (fetched again by later runs), and a
#: valid case whose partner is not in the directory (a person adds the partner)
MALFORMED_CASE, UNKNOWN_PARTNER = "case", "case_unknown_partner"


def quarantine_case(run: PipelineRun, reason: str, raw: Any, *, kind: str = MALFORMED_CASE) -> int:
    """Quarantine a case once per revision (a re-run finds it again and must not pile up copies)."""
    ref = None
    if isinstance(raw, dict) and raw.get("id"):
        ref = f"{raw['id']}@r{raw.get('revision') or 1}"
        if any(q.ref == ref for q in run.ledger.quarantined(source="trading_grid")):
            return 0
    run.quarantine("trading_grid", kind, reason, raw, ref=ref)
    return 1


def heal_quarantined_cases(
    run: PipelineRun,
    grid: Any,
    *,
    only: int | None = None,
    on_still_malformed: Callable[[int, str], None] | None = None,
) -> list[str]:
    """Fetch every case quarantined as malformed again by its id; returns the ids of those the
    partner now serves valid and that still wait for us (open or in progress).

    Their rows are resolved (so is the row of a case that is gone or closed); a case still
    malformed keeps its row. ``only`` limits this to one quarantine row (an operator's replay);
    ``on_still_malformed`` hears, per row that stays, why the case still fails validation."""
    healed: list[str] = []
    for row in run.ledger.quarantined(source="trading_grid"):
        if row.kind != MALFORMED_CASE or not row.ref or "@r" not in row.ref:
            continue
        if only is not None and row.id != only:
            continue
        case_id = row.ref.rsplit("@r", 1)[0]
        reasons: list[str] = []
        try:
            case = grid.get_case(case_id, on_invalid=lambda reason, _raw, found=reasons: found.append(reason))
        except NotFoundError:
            run.ledger.resolve_quarantine(row.id, f"case {case_id} no longer exists in Trading Grid")
            continue
        if case is None:  # still malformed: the row stays
            if on_still_malformed is not None:
                on_still_malformed(row.id, reasons[0] if reasons else "still fails validation")
            continue
        if case.status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS):
            healed.append(case.id)
            resolution = f"served valid again (revision {case.revision}): handled by run {run.run_id}"
        else:
            resolution = f"served valid again, already {case.status.value}: nothing left to do"
        run.ledger.resolve_quarantine(row.id, resolution)
        run.record(row.ref, "trading_grid:case", "healed", resolution)
    return healed


# -- handle -----------------------------------------------------------------------------------------
@dataclass
class _Context:
    """What the cases of one batch share: hooks, the partner directory, the approved assets."""

    run: PipelineRun
    counts: Counter[str] = field(default_factory=Counter)

    @cached_property
    def grid(self) -> Any:
        return self.run.hook("trading_grid")

    @cached_property
    def smintio(self) -> Any:
        return self.run.hook("smintio")

    @cached_property
    def partners(self) -> dict[str, TradingPartner]:
        return {p.partner_company_id: p for p in self.grid.iter_partners()}

    @cached_property
    def approved_assets(self) -> list[Asset]:
        return list(
            self.smintio.iter_assets(
                filters={"approval_status": ApprovalStatus.APPROVED.value},
                on_invalid=self.run.quarantine_callback("smintio", "asset"),
            )
        )


def handle_cases(run: PipelineRun, case_ids: list[str]) -> dict[str, int]:
    """Route each case of a batch by its type and status; returns counts."""
    ctx = _Context(run)

    def on_invalid(reason: str, raw: Any) -> None:
        ctx.counts["quarantined"] += quarantine_case(run, reason, raw)

    for case_id in case_ids:
        case = ctx.grid.get_case(case_id, on_invalid=on_invalid)  # it may have changed since it was listed
        if case is None:
            continue
        partner = ctx.partners.get(case.partner_company_id)
        if partner is None:
            ctx.counts["quarantined"] += quarantine_case(
                run,
                f"partner {case.partner_company_id} is not in the partner directory",
                case.model_dump(mode="json", by_alias=True),
                kind=UNKNOWN_PARTNER,
            )
            continue
        if case.status is CaseStatus.OPEN and case.type in REQUEST_TYPES:
            _intake_request(ctx, case, partner)
        elif case.status is CaseStatus.OPEN and case.type in REPORT_TYPES:
            _intake_report(ctx, case)
        elif case.status is CaseStatus.IN_PROGRESS and case.type in REQUEST_TYPES:
            _follow_up_request(ctx, case, partner)
        elif case.status is CaseStatus.IN_PROGRESS and case.type in REPORT_TYPES:
            _follow_up_report(ctx, case)
        else:
            ctx.counts["not_ours"] += 1
    return dict(ctx.counts)


# -- rights ---------------------------------------------------------------------------------------
def decide(run: PipelineRun, asset: Asset, region: str | None, channel: str | None) -> tuple[RightsDecision, Any]:
    """May ``asset`` go to a partner in ``region`` (and ``channel``) on the run's end date?

    The license comes from the ledger's license index; an asset without a known license gets
    empty rights, which the rules read as unknown. Returns the decision and the date after
    which nothing is allowed (``None`` = no end or nothing known)."""
    usage = rights_or_unknown(run, asset)
    use = IntendedUse(on_date=run.window.end, region=region, channel=channel)
    return rights.evaluate(usage, use), rights.usable_until(usage)


# -- OTG-2: requests --------------------------------------------------------------------------------
def find_matches(case: PartnerCase, approved: list[Asset]) -> list[Asset]:
    """Approved assets that answer an asset request (or the asset a clarification is about)."""
    wanted = case.details
    if case.type is CaseType.RIGHTS_CLARIFICATION:
        return [a for a in approved if a.id == wanted.asset_id]
    if wanted.asset_kind is AssetKind.LOCALIZED_ARTWORK:
        language = (wanted.language or "").split("-")[0].lower()
        return [
            a
            for a in approved
            if a.is_derivative
            and language
            and (a.language or "").split("-")[0].lower() == language
            and (wanted.asset_id is None or a.master_asset_id == wanted.asset_id)
        ]
    if wanted.asset_id:
        return [a for a in approved if a.id == wanted.asset_id]
    if wanted.asset_kind is AssetKind.LOGO:
        return [a for a in approved if "logo" in a.categories and not a.is_derivative]
    if wanted.campaign:
        return [a for a in approved if a.campaign == wanted.campaign and not a.is_derivative]
    return []


def _intake_request(ctx: _Context, case: PartnerCase, partner: TradingPartner) -> None:
    run = ctx.run
    matches = find_matches(case, ctx.approved_assets)
    decided = [(asset, *decide(run, asset, partner.region, case.details.channel)) for asset in matches]
    allowed = [d for d in decided if d[1].allowed][:MAX_MATCHES]
    refused = [d for d in decided if d[1].verdict is Verdict.REFUSED]
    unknown = [d for d in decided if d[1].verdict is Verdict.UNKNOWN]
    for asset, decision, _ in refused + unknown:
        run.record(
            asset.id, TargetSystem.TRADING_GRID_CASE.of(case.id), f"rights_{decision.verdict.value}", decision.summary()
        )
    if case.type is CaseType.RIGHTS_CLARIFICATION and decided and not unknown:
        asset, decision, until = decided[0]
        _answer(ctx, case, "clarified", CaseStatus.RESOLVED, _clarification(asset, decision, until, partner))
        return
    if case.type is CaseType.ASSET_REQUEST and allowed:
        for asset, decision, until in allowed:
            _deliver(ctx, case, partner, asset, decision, until)
        note = _refusals(refused)
        _answer(ctx, case, "delivered", CaseStatus.RESOLVED, f"Your request is answered above.{note}")
        return
    if case.type is CaseType.ASSET_REQUEST and refused and not unknown:
        _answer(
            ctx,
            case,
            "refused",
            CaseStatus.RESOLVED,
            "No asset we hold may be used in your region." + _refusals(refused),
        )
        return
    _start_intake_workflow(ctx, case, partner)


def _start_intake_workflow(ctx: _Context, case: PartnerCase, partner: TradingPartner) -> None:
    run = ctx.run
    key = business_key(INTAKE_WORKFLOW, case.id, case.revision)
    if run.dry_run:
        run.record(case.id, INTAKE_TARGET, "would_start_workflow", key)
        return
    details = case.details
    instance, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        INTAKE_WORKFLOW,
        key,
        name=f"Partner request {case.id}: {case.subject}"[:200],
        variables={
            "case_id": case.id,
            "request_type": case.type.value,
            "asset_kind": details.asset_kind.value if details.asset_kind else None,
            "asset_id": details.asset_id,
            "campaign": details.campaign,
            "language": details.language,
            "partner": partner.partner_company_id,
            "region": partner.region,
            "subject": case.subject,
            "description": case.description,
        },
        run_id=run.run_id,
    )
    run.record(
        case.id,
        INTAKE_TARGET,
        "workflow_started" if started else "workflow_running",
        detail=instance.id,
    )
    ctx.counts["workflows_started" if started else "workflows_running"] += 1
    _answer(
        ctx,
        case,
        "in_review",
        CaseStatus.IN_PROGRESS,
        "Thank you — your request is with our brand team for review. We will answer here.",
    )


def _follow_up_request(ctx: _Context, case: PartnerCase, partner: TradingPartner) -> None:
    run = ctx.run
    key = business_key(INTAKE_WORKFLOW, case.id, case.revision)
    process = run.ledger.process(key)
    if process is None or not process.instance_id:
        ctx.counts["not_ours"] += 1
        return
    instance = run.hook("workflow").get_instance(process.instance_id)
    if not instance.ended:
        ctx.counts["awaiting_workflow"] += 1
        return
    outcome = instance.outcome or "terminated"
    variables = instance.variables
    if outcome in FULFILLED and variables.get("asset_id"):
        try:
            asset: Asset | None = ctx.smintio.get_asset(str(variables["asset_id"]))
        except NotFoundError:
            asset = None
        if asset is not None and asset.is_approved:
            decision, until = decide(run, asset, partner.region, case.details.channel)
            if decision.allowed:
                _deliver(ctx, case, partner, asset, decision, until)
                _answer(ctx, case, "delivered", CaseStatus.RESOLVED, "Your request is answered above.")
            else:
                run.record(
                    asset.id,
                    TargetSystem.TRADING_GRID_CASE.of(case.id),
                    f"rights_{decision.verdict.value}",
                    decision.summary(),
                )
                _answer(
                    ctx,
                    case,
                    "refused",
                    CaseStatus.RESOLVED,
                    "The asset chosen for you may not be used in your region." + _refusals([(asset, decision, until)]),
                )
        else:
            _answer(ctx, case, "declined", CaseStatus.REJECTED, "The asset chosen for you is not approved for release.")
    elif outcome == ANSWERED and variables.get("answer"):
        _answer(ctx, case, "answered", CaseStatus.RESOLVED, str(variables["answer"]))
    else:
        reason = variables.get("reason") or f"the review ended: {outcome}"
        _answer(ctx, case, "declined", CaseStatus.REJECTED, f"We cannot fulfil this request ({reason}).")
    if not run.dry_run:
        run.ledger.update_process(key, status="applied", outcome=outcome, variables=variables)


def _deliver(
    ctx: _Context, case: PartnerCase, partner: TradingPartner, asset: Asset, decision: RightsDecision, until: Any
) -> None:
    """Hand one approved, rights-cleared asset to the partner in the case, once per asset version."""
    run, grid = ctx.run, ctx.grid
    target = TargetSystem.TRADING_GRID_CASE.of(case.id)
    lpt = asset.license_purchase_transaction_uuid
    usable = until.date().isoformat() if until else None

    def send(plan: Any) -> str:
        _attach_files(ctx, case, asset)
        grid.link_case_asset(case.id, system="smintio", asset_id=asset.id, relation="delivered", version=asset.version)
        attachment = {
            "asset_id": asset.id,
            "version": asset.version,
            "name": asset.name,
            "content_type": asset.content_type,
            "files": [b.model_dump(mode="json", exclude_none=True) for b in asset.binaries],
            "license": lpt,
            "usable_until": usable,
            "region": partner.region,
            "idempotency_key": plan.key,
        }
        body = f"{asset.name or asset.id} (version {asset.version}) may be used in {partner.region}" + (
            f" until {usable}." if usable else "."
        )
        return grid.put_case_comment(case.id, f"delivery-{asset.id}-v{asset.version}", body, [attachment]).ref

    result = run.deliver_once(asset.id, asset.version, target, send, license_ref=lpt)
    delivered = result.action is not Action.SKIP
    run.record(
        asset.id,
        target,
        "would_deliver" if run.dry_run else "delivered" if delivered else "already_delivered",
        decision.summary(),
        license=lpt or "",
        expires=usable or "",
    )
    ctx.counts["delivered" if delivered else "already_delivered"] += 1


def _attach_files(ctx: _Context, case: PartnerCase, asset: Asset) -> None:
    """The asset package itself: every file of the asset's current version streamed from Smint.io
    into the case, as a launch kit's files are (a scratch file each, never held in memory).

    Part of the asset's one delivery into the case: the ledger slot of (asset version, case) is
    written only after every file arrived, so each file goes once per case and version; a
    retry after a failed file re-sends under the same references, which changes nothing in
    Trading Grid for the files already there. A file whose bytes do not match the SHA-256
    Smint.io states for it is not sent (the delivery fails instead of handing over a wrong file)."""
    for file in asset_files(ctx.smintio, asset, purpose="deliver"):
        ctx.grid.put_case_attachment(
            case.id,
            f"{asset.id}-v{asset.version}-{file.binary_id}",
            file.path,
            name=file.name,
            content_type=file.content_type,
        )


def _answer(ctx: _Context, case: PartnerCase, step: str, status: CaseStatus, text: str) -> None:
    """Comment on the case and move it to ``status``, once per case revision and step."""
    grid = ctx.grid

    def send(_plan: Any) -> str:
        comment = grid.put_case_comment(case.id, f"{step}-r{case.revision}", text)
        grid.set_case_status(case.id, status, step)
        return comment.ref

    result = ctx.run.deliver_once(
        case.id, f"r{case.revision}:{step}", TargetSystem.TRADING_GRID_CASE_UPDATE.of(case.id), send
    )
    if result.action is not Action.SKIP:
        ctx.run.record(
            case.id, TargetSystem.TRADING_GRID_CASE.of(case.id), f"case_{status.value}", text[:300], detail=step
        )
        ctx.counts[f"case_{status.value}"] += 1


def _clarification(asset: Asset, decision: RightsDecision, until: Any, partner: TradingPartner) -> str:
    name = asset.name or asset.id
    if decision.allowed:
        end = f" until {until.date().isoformat()}" if until else " with no end date"
        return f"{name} may be used in {partner.region}{end}."
    reasons = "; ".join(reason.message for reason in decision.reasons) or decision.verdict.value
    return f"{name} may not be used in {partner.region}: {reasons}."


def _refusals(refused: list[tuple[Asset, RightsDecision, Any]]) -> str:
    if not refused:
        return ""
    lines = [f"{a.name or a.id}: " + "; ".join(r.message for r in d.reasons) for a, d, _ in refused]
    return " Not available to you: " + " | ".join(lines)


# -- OTG-6: reports ---------------------------------------------------------------------------------
def _intake_report(ctx: _Context, case: PartnerCase) -> None:
    run, grid = ctx.run, ctx.grid
    asset_id = str(case.details.asset_id)
    try:
        asset = ctx.smintio.get_asset(asset_id)
    except NotFoundError:
        _answer(
            ctx,
            case,
            "unknown_asset",
            CaseStatus.WAITING_ON_PARTNER,
            f"We cannot find asset {asset_id}. Please tell us the asset reference shown with the file.",
        )
        return
    version = f"r{case.revision}"

    def flag(_plan: Any) -> str:
        ctx.smintio.update_metadata(
            asset.id,
            {f"partner_case:{case.id}": f"{case.type.value}: {case.subject}"[:500]},
            tags_add=[CORRECTION_TAG, case_tag(case.id)],
        )
        if case.type in HOLD_IN_REVIEW and asset.approval_status is ApprovalStatus.APPROVED:
            ctx.smintio.set_approval(
                asset.id, ApprovalStatus.IN_REVIEW, f"Partner case {case.id} ({case.type.value}): {case.subject}"[:2000]
            )
        return asset.id

    flagged = run.deliver_once(asset.id, version, TargetSystem.SMINTIO_CORRECTION.of(case.id), flag)
    if not run.dry_run:
        run.ledger.link(
            XREF_ENTITY,
            "trading_grid",
            case.id,
            "smintio",
            asset.id,
            {"type": case.type.value, "revision": case.revision},
        )
    if flagged.action is not Action.SKIP:
        run.record(
            asset.id,
            TargetSystem.SMINTIO_CORRECTION.of(case.id),
            "flagged_for_correction",
            f"{case.type.value}: {case.subject}",
        )
        ctx.counts["flagged"] += 1

    def acknowledge(_plan: Any) -> str:
        grid.link_case_asset(case.id, system="smintio", asset_id=asset.id, relation="affected", version=asset.version)
        return "linked"

    run.deliver_once(asset.id, version, TargetSystem.TRADING_GRID_CASE_LINK.of(case.id), acknowledge)
    _answer(
        ctx,
        case,
        "flagged",
        CaseStatus.IN_PROGRESS,
        f"Thank you — {asset.name or asset.id} is flagged for correction. We will tell you here when it is fixed.",
    )


def _follow_up_report(ctx: _Context, case: PartnerCase) -> None:
    run = ctx.run
    asset_id = run.ledger.lookup(XREF_ENTITY, "trading_grid", case.id, "smintio")
    if asset_id is None:
        ctx.counts["not_ours"] += 1
        return
    asset = ctx.smintio.get_asset(asset_id)
    if case_tag(case.id) in asset.tags or not asset.is_approved:
        ctx.counts["awaiting_correction"] += 1
        return
    version = f"r{case.revision}"
    others_open = any(t.startswith("tg-case:") for t in asset.tags)

    def close_flag(_plan: Any) -> str:
        ctx.smintio.update_metadata(
            asset.id,
            {f"partner_case:{case.id}": "corrected"},
            tags_remove=[] if others_open else [CORRECTION_TAG],
        )
        return asset.id

    run.deliver_once(asset.id, version, TargetSystem.SMINTIO_CORRECTION_CLOSED.of(case.id), close_flag)

    def link_corrected(_plan: Any) -> str:
        ctx.grid.link_case_asset(
            case.id, system="smintio", asset_id=asset.id, relation="corrected", version=asset.version
        )
        return "linked"

    run.deliver_once(asset.id, version, TargetSystem.TRADING_GRID_CASE_LINK_CORRECTED.of(case.id), link_corrected)
    run.record(asset.id, TargetSystem.TRADING_GRID_CASE.of(case.id), "corrected", f"asset version {asset.version}")
    ctx.counts["corrected"] += 1
    _answer(
        ctx,
        case,
        "corrected",
        CaseStatus.RESOLVED,
        f"{asset.name or asset.id} is corrected (version {asset.version}). Please use the current file.",
    )
