"""The usage reconciliation's steps: Exstream production usage back to Smint.io (EXS-7), and a
compliance review when usage crosses a threshold or looks suspicious (OWS-8).

EXS-7. Exstream's usage records (which image resource appeared in which communication stream,
when, in what volume, where) of the run's days are read per domain and matched to the Smint.io
asset the ledger says each resource came from. Per asset, the volumes per day and stream go to
the asset's metadata in Smint.io (``exstream_usage``) and, with region and channel, to the
ledger's audit trail. Records that cannot be read are quarantined; usage of resources contentops
never delivered is reported, not attributed.

OWS-8. The usage is compared with the asset's license (from the ledger's license index) and the
run's thresholds by :func:`contentops.rights.reconcile_usage`: more uses than ``volume_threshold``,
usage outside the licensed regions or after the license ended, or a license downloaded more
often than ``download_threshold`` starts a **compliance review** workflow in OpenText Workflow
Service — once per asset and period (``review_period``: day, week or month).

A review is a human's work and outlives the run that started it, so each run first applies the
reviews that have ended since (:func:`apply_review_outcomes`, reading the open ones from the
ledger): the outcome is written back to the Smint.io asset once per business key — ``cleared``
tags it ``compliance:cleared``; ``restrict`` sends it back to review (``in_review``) and tags it
``compliance:restricted``; ``removed`` retires it — with the reviewer's comment, and the review
tag comes off.

The run reads whole days: from midnight of its window's start to its end, so each day's volumes
are its totals whatever the schedule, and a re-run or backfill writes the same figures again
(nothing, thanks to the ledger; a corrected figure is an update).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from contentops import rights
from contentops.hooks.errors import ConflictError, NotFoundError, RequestRejectedError
from contentops.ledger import Action
from contentops.models.domain import UsageThresholds, UsageVolume
from contentops.models.exstream import UsageRecord
from contentops.models.smintio import ApprovalStatus
from contentops.pipelines.rights_first import asset_rights
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.workflows import apply_ended_processes, business_key, start_workflow_once
from contentops.targets import TargetSystem

if TYPE_CHECKING:
    import pandas as pd

COMPLIANCE_REVIEW = "compliance_review"
BATCH_SIZE = 50
USAGE = "usage"
TAG_REVIEW = "usage:compliance-review"
#: outcome -> (approval status to set, tag to add, retire?) — what a finished review means for the asset
REVIEW_OUTCOMES: dict[str, tuple[ApprovalStatus | None, str, bool]] = {
    "cleared": (None, "compliance:cleared", False),
    "restrict": (ApprovalStatus.IN_REVIEW, "compliance:restricted", False),
    "removed": (None, "compliance:removed", True),
}


def thresholds(params: dict[str, Any]) -> UsageThresholds:
    """The run's review thresholds from its Params (0 switches a limit off)."""
    volume = int(params.get("volume_threshold") or 0)
    downloads = int(params.get("download_threshold") or 0)
    return UsageThresholds(
        max_volume=volume or None,
        max_downloads=downloads or None,
        check_regions=bool(params.get("check_regions", True)),
        check_expiry=bool(params.get("check_expiry", True)),
    )


def period_label(moment: datetime, granularity: str) -> str:
    """The review period a moment falls in: ``2026-11-24``, ``2026-W48`` or ``2026-11``."""
    if granularity == "day":
        return moment.date().isoformat()
    if granularity == "week":
        year, week, _ = moment.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{moment.year}-{moment.month:02d}"


def _since(run: PipelineRun) -> datetime:
    return datetime.combine(run.window.start.date(), time.min, tzinfo=run.window.start.tzinfo)


def _domains(run: PipelineRun) -> list[str]:
    chosen = [d for d in run.params.get("domains") or [] if d]
    return chosen or [d.id for d in run.hook("exstream").list_domains()]


def _resource_assets(run: PipelineRun, domain: str) -> dict[str, str]:
    """Exstream resource id -> Smint.io asset, from every delivery to the domain (withdrawn ones too:
    usage after a withdrawal is exactly what an audit wants to see)."""
    target = TargetSystem.EXSTREAM.of(domain)
    return {
        d.remote_id: d.asset_id
        for d in run.ledger.deliveries(target_prefix=target.prefix)
        if target.matches(d.target) and d.remote_id
    }


#: what the days' usage of an asset is summed by (one audit entry and one Smint.io figure each)
USAGE_KEYS = ["domain", "stream", "day", "region", "channel"]
_USAGE_COLUMNS = ["asset_id", "domain", "resource_id", "stream", "day", "region", "channel", "volume", "recorded_at"]


def usage_frame(records: Iterable[tuple[str | None, UsageRecord]]) -> pd.DataFrame:
    """One row per usage record with the asset it is attributed to (``None``: not ours).

    ``day`` is the record's UTC date; a missing region or channel is ``""``, not a null, so that
    grouping keeps the record (pandas drops null group keys). pandas is imported here, by the step
    that reads usage, not with the module: the workflow-outcome handlers import this module for
    its workflow's name, and their runs need no pandas."""
    import pandas as pd

    return pd.DataFrame.from_records(
        [
            (
                asset_id,
                record.domain,
                record.resource_id,
                record.stream,
                record.recorded_at.date().isoformat(),
                record.region or "",
                record.channel or "",
                record.volume,
                record.recorded_at,
            )
            for asset_id, record in records
        ],
        columns=_USAGE_COLUMNS,
    )


def usage_volumes(usage: pd.DataFrame) -> pd.DataFrame:
    """Attributed usage summed per asset and :data:`USAGE_KEYS`, with the latest use of each sum
    (``at``); sorted by asset, then by the keys."""
    attributed = usage[usage["asset_id"].notna()]
    return (
        attributed.groupby(["asset_id", *USAGE_KEYS], sort=True, dropna=False)
        .agg(volume=("volume", "sum"), at=("recorded_at", "max"))
        .reset_index()
    )


def unmatched_volumes(usage: pd.DataFrame) -> pd.DataFrame:
    """Usage of resources contentops never delivered, summed per domain and resource, sorted."""
    unmatched = usage[usage["asset_id"].isna()]
    return unmatched.groupby(["domain", "resource_id"], sort=True)["volume"].sum().reset_index()


def _read_usage(run: PipelineRun) -> Iterable[tuple[str | None, UsageRecord]]:
    """The run's usage records, each with the asset the ledger says its resource came from."""
    exstream = run.hook("exstream")
    on_invalid = run.quarantine_callback("exstream", "usage_record")
    for domain in _domains(run):
        owners = _resource_assets(run, domain)
        for record in exstream.iter_usage(domain, since=_since(run), until=run.window.end, on_invalid=on_invalid):
            yield owners.get(record.resource_id), record


def collect_usage(run: PipelineRun) -> dict[str, Any]:
    """Read the days' usage, attribute it to assets, keep it in the audit trail; batches of asset ids."""
    counts: Counter[str] = Counter()
    usage = usage_frame(_read_usage(run))
    counts["usage_records"] += len(usage)
    for row in unmatched_volumes(usage).itertuples(index=False):
        volume = int(row.volume)
        run.record(
            row.resource_id,
            TargetSystem.EXSTREAM.of(row.domain),
            "usage_unmatched",
            f"{volume} uses of a resource not delivered from Smint.io",
            volume=volume,
        )
        counts["unmatched_resources"] += 1
    volumes = usage_volumes(usage)
    for row in volumes.itertuples(index=False):
        volume = int(row.volume)
        run.record(
            row.asset_id,
            TargetSystem.EXSTREAM.of(row.domain).at(row.stream),
            USAGE,
            f"{volume} on {row.day}" + (f" in {row.region}" if row.region else ""),
            domain=row.domain,
            stream=row.stream,
            day=row.day,
            region=row.region,
            channel=row.channel,
            volume=volume,
            at=row.at.to_pydatetime().isoformat(),
        )
    asset_ids = sorted(volumes["asset_id"].unique().tolist())
    batches = [asset_ids[i : i + BATCH_SIZE] for i in range(0, len(asset_ids), BATCH_SIZE)]
    return {"counts": {**+counts, "assets": len(asset_ids)}, "batches": batches}


def reconcile(run: PipelineRun, asset_ids: list[str]) -> dict[str, int]:
    """Per asset: volumes to Smint.io, comparison with the license, a compliance review if needed."""
    counts: Counter[str] = Counter()
    wanted = set(asset_ids)
    usage: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in run.ledger.audit_trail(run_id=run.run_id, pipeline=run.dag_id):
        if entry.action == USAGE and entry.subject in wanted:
            usage[entry.subject].append(entry.details or {})
    limits = thresholds(run.params)
    granularity = str(run.params.get("review_period") or "month")
    smintio = run.hook("smintio")
    for asset_id in asset_ids:
        rows = usage.get(asset_id) or []
        if not rows:
            continue
        try:
            asset = smintio.get_asset(asset_id)
        except NotFoundError:
            run.record(asset_id, "smintio", "asset_missing", "the asset no longer exists in Smint.io")
            counts["asset_missing"] += 1
            continue
        license_ref = asset.license_purchase_transaction_uuid
        usage_rights = asset_rights(run, asset)
        volumes = [
            UsageVolume(
                on_date=datetime.fromisoformat(r["at"]),
                stream=r["stream"],
                volume=int(r["volume"]),
                region=r.get("region") or None,
                channel=r.get("channel") or None,
            )
            for r in rows
        ]
        result = rights.reconcile_usage(usage_rights, volumes, limits, asset_id=asset_id)
        period = period_label(run.window.start, granularity)
        review = run.ledger.process(business_key(COMPLIANCE_REVIEW, asset_id, period))
        decided = review is not None and review.status == "applied"  # the period's review has ended
        counts.update(_write_back(run, asset, result, license_ref, flag_review=result.needs_review and not decided))
        for finding in result.findings:
            run.record(
                asset_id, f"license:{license_ref or '-'}", finding.code.value, finding.message, license=license_ref
            )
        if result.needs_review:
            counts.update(_start_review(run, asset_id, result, license_ref, period))
    return dict(counts)


def _write_back(
    run: PipelineRun, asset: Any, result: Any, license_ref: str | None, *, flag_review: bool
) -> Counter[str]:
    """The days' volumes per stream onto the asset's ``exstream_usage`` metadata, once per figure;
    ``flag_review`` tags the asset as under compliance review (not once the period's review ended)."""
    counts: Counter[str] = Counter()
    figures = json.dumps(result.by_day, sort_keys=True)
    version = f"{_since(run).date()}/{run.window.end.date()}#{hashlib.sha256(figures.encode()).hexdigest()[:12]}"

    def send(_plan: Any) -> str:
        smintio = run.hook("smintio")
        current = smintio.get_asset(asset.id).metadata.get("exstream_usage") or {}
        merged = {day: dict(streams) for day, streams in current.items()} if isinstance(current, dict) else {}
        for day, streams in result.by_day.items():
            merged[day] = {**merged.get(day, {}), **streams}
        smintio.update_metadata(asset.id, {"exstream_usage": merged}, tags_add=[TAG_REVIEW] if flag_review else [])
        return asset.id

    done = run.deliver_once(asset.id, version, "smintio_usage:exstream", send, license_ref=license_ref)
    if run.dry_run:
        action = "usage_to_record"
    else:
        action = "usage_already_recorded" if done.action is Action.SKIP else "usage_recorded"
    run.record(asset.id, "smintio", action, f"{result.total_volume} uses", license=license_ref, detail=figures)
    counts[action] += 1
    return counts


def _start_review(run: PipelineRun, asset_id: str, result: Any, license_ref: str | None, period: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    if run.dry_run:
        counts["reviews_needed"] += 1
        return counts
    key = business_key(COMPLIANCE_REVIEW, asset_id, period)
    instance, started = start_workflow_once(
        run.hook("workflow"),
        run.ledger,
        COMPLIANCE_REVIEW,
        key,
        name=f"Usage compliance review: {asset_id} ({period})",
        variables={
            "asset_id": asset_id,
            "period": period,
            "license": license_ref,
            "total_volume": result.total_volume,
            "findings": sorted(code.value for code in result.codes),
            "reasons": "; ".join(f.message for f in result.findings),
        },
        run_id=run.run_id,
    )
    run.record(
        asset_id,
        f"workflow:{COMPLIANCE_REVIEW}",
        "review_started" if started else "review_running",
        period,
        license=license_ref,
        detail=instance.id,
    )
    counts["reviews_started" if started else "reviews_running"] += 1
    return counts


# -- compliance review outcomes (OWS-8) ---------------------------------------------------------
def apply_review_outcomes(run: PipelineRun) -> dict[str, int]:
    """Compliance reviews started by earlier runs that have ended since: each outcome is written
    back to its Smint.io asset, once per business key (the ledger's process record turns
    ``applied``, so later runs leave it alone)."""
    return apply_ended_processes(run, COMPLIANCE_REVIEW, _apply_review)


def _reviewer_comment(run: PipelineRun, instance: Any, variables: dict[str, Any], outcome: str) -> str:
    """What the reviewer said: a ``comment`` variable set with the decision, else the review's
    latest comment, else the bare outcome (Smint.io wants a reason with every status change)."""
    said = str(variables.get("comment") or "").strip()
    if not said:
        comments = [c for c in run.hook("workflow").comments(instance.id) if str(c.get("message") or "").strip()]
        said = str(comments[-1]["message"]).strip() if comments else ""
    prefix = f"Usage compliance review {instance.id}: {outcome}"
    return f"{prefix} — {said}"[:2000] if said else prefix


def _apply_review(run: PipelineRun, record: Any, instance: Any) -> Counter[str]:
    counts: Counter[str] = Counter()
    variables = {**instance.variables, **(record.variables or {})}
    outcome = instance.outcome or ("cleared" if instance.completed else "terminated")
    asset_id = str(variables.get("asset_id") or "")
    period = str(variables.get("period") or "")
    if not asset_id:
        run.ledger.update_process(record.business_key, status="applied", outcome=outcome)
        return counts
    comment = _reviewer_comment(run, instance, variables, outcome)
    status, tag, retire = REVIEW_OUTCOMES.get(outcome, (None, f"compliance:{outcome}", False))
    smintio = run.hook("smintio")

    def write_back(_plan: Any) -> str:
        smintio.update_metadata(
            asset_id,
            {"compliance_review": {"instance": instance.id, "period": period, "outcome": outcome, "comment": comment}},
            tags_add=[tag],
            tags_remove=[TAG_REVIEW],
        )
        if status is not None:
            smintio.set_approval(asset_id, status, comment)
        if retire:
            smintio.retire_asset(asset_id, comment)
        return asset_id

    try:
        run.deliver_once(
            asset_id, f"{period}:{outcome}", f"smintio_compliance_review:{record.business_key}", write_back
        )
    except NotFoundError:
        run.record(asset_id, "smintio", "review_outcome_not_applied", "the asset no longer exists in Smint.io")
        counts["review_outcome_not_applied"] += 1
        run.ledger.update_process(record.business_key, status="applied", outcome=outcome)
        return counts
    except (ConflictError, RequestRejectedError) as exc:
        # someone moved the asset on in Smint.io meanwhile (e.g. retired it): their decision stands
        run.record(asset_id, "smintio", "review_outcome_not_applied", str(exc), detail=instance.id)
        counts["review_outcome_not_applied"] += 1
        run.ledger.update_process(record.business_key, status="applied", outcome=outcome)
        return counts
    run.ledger.update_process(record.business_key, status="applied", outcome=outcome, variables=variables)
    run.record(asset_id, "smintio", f"compliance_{outcome}", comment, detail=instance.id)
    counts[f"reviews_{outcome}"] += 1
    return counts
