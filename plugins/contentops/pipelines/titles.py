"""The title metadata push's steps: Consonance titles onto Smint.io assets, approved assets onto
Consonance titles, and a revised title's outdated assets retired.

Every step takes a batch of Consonance work ids (small, for XCom and task mapping), reads the
titles and the Smint.io assets again, and decides with the pure rules of
:mod:`contentops.mapping.titles` and :mod:`contentops.rights`. Every partner write goes through
:meth:`PipelineRun.deliver_once`, keyed so that a retry, a re-run or a backfill writes nothing
twice:

| effect | asset | version | target |
|---|---|---|---|
| metadata + tags on an asset (CON-4, CON-7) | asset | title revision + publication phase | ``smintio_title:<work>`` |
| latest asset surfaced (CON-8) | asset | title revision | ``smintio_current:<work>`` |
| outdated asset retired (CON-8) | asset | title revision | ``smintio_retired:<work>`` |
| its title resource marked retired (CON-8) | asset | title revision | ``consonance_retired:<work>`` |
| attachment + format pairing (CON-1, CON-5, CON-6) | asset | attachment content | ``consonance:<work>`` |
| attachment on request (CON-3) | asset | attachment content | ``consonance:<work>`` (pipeline ``…:on_request``) |
| on a task / manuscript (CON-3) | asset | attachment content | ``consonance_<kind>:<id>`` (``…:on_request``) |

Targets are :class:`~contentops.targets.Target` values; the attachment target
``consonance:<work>`` (the Consonance hook's :func:`~contentops.hooks.consonance.ledger_target`
names the same) is the one the rights expiry sweep follows to record license terms on the title (CON-2).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from contentops.ledger import Action
from contentops.mapping import titles as mapping
from contentops.mapping.titles import (
    AssetMatch,
    Attachment,
    AttachTarget,
    FormatPairing,
    MatchRule,
    PairingRules,
    TitleMappingError,
    TitleRecord,
)
from contentops.models.domain import RightsDecision, UsageRights
from contentops.models.smintio import ApprovalStatus, Asset
from contentops.pipelines.rights_first import asset_license
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import TargetSystem

log = logging.getLogger(__name__)

BATCH_SIZE = 25
#: ledger cross-reference between a Smint.io asset and the Consonance title it belongs to
XREF_ENTITY = "title"
ON_REQUEST = "on_request"
#: the match rule recorded for an attachment an editor asked for on the Smint.io asset itself
REQUESTED_IN_SMINTIO = "requested_in_smintio"


# =========================================================================== helpers


def _rules(run: PipelineRun) -> tuple[MatchRule, ...]:
    return mapping.parse_match_rules(run.params.get("match_rules"))


def _lead_days(run: PipelineRun) -> int:
    return int(run.params.get("lead_days") or 0)


def _pairing_rules(run: PipelineRun) -> PairingRules:
    """The pairing rules of ``include/config/title_metadata_push.yaml`` (defaults when absent),
    read once per task."""
    cached = getattr(run, "_title_pairing_rules", None)
    if cached is None:
        from contentops.config import load_settings

        cached = load_settings("title_metadata_push", mapping.TitlePushSettings).pairing
        run._title_pairing_rules = cached  # type: ignore[attr-defined]
    return cached


def _field_mapping(run: PipelineRun) -> mapping.TitleFieldMapping:
    """The title field -> Smint.io key mapping of ``include/config/mappings/consonance_titles.yaml``
    (the shipped mapping when absent), read once per task."""
    cached = getattr(run, "_title_field_mapping", None)
    if cached is None:
        from contentops.mapping.config import load_title_field_mapping

        cached = load_title_field_mapping()
        run._title_field_mapping = cached  # type: ignore[attr-defined]
    return cached


def _title(run: PipelineRun, work: Any) -> TitleRecord | None:
    """The neutral title of a work, or ``None`` after quarantining a work we cannot use."""
    try:
        return mapping.title_from_work(work, as_of=run.window.end)
    except TitleMappingError as exc:
        raw = work.model_dump(mode="json", by_alias=True) if hasattr(work, "model_dump") else work
        run.quarantine("consonance", "work", str(exc), raw, ref=str(getattr(work, "id", "") or "") or None)
        return None


def _load_titles(run: PipelineRun, work_ids: Iterable[str]) -> Iterator[TitleRecord]:
    """The titles of a batch, read again (XComs carry ids only). A work that has become unusable
    since it was selected is skipped; it was quarantined when it was selected or will be next time."""
    from pydantic import ValidationError

    consonance = run.hook("consonance")
    for work_id in work_ids:
        try:
            work = consonance.get_work(work_id)
            title = mapping.title_from_work(work, as_of=run.window.end) if work is not None else None
        except (ValidationError, TitleMappingError) as exc:
            log.warning("Skipped Consonance work %s: %s", work_id, exc)
            continue
        if title is not None:
            yield title


def _assets(run: PipelineRun) -> list[Asset]:
    """The candidate assets (every non-derivative asset; retired ones too, so they are known)."""
    smintio = run.hook("smintio")
    on_invalid = run.quarantine_callback("smintio", "asset")
    return [asset for asset in smintio.iter_assets(on_invalid=on_invalid) if not asset.is_derivative]


def _xrefs(run: PipelineRun, work_id: str) -> list[str]:
    return run.ledger.lookup_reverse(XREF_ENTITY, "consonance", work_id, "smintio")


def _matches(run: PipelineRun, title: TitleRecord, assets: list[Asset]) -> list[AssetMatch]:
    return mapping.match_assets(title, assets, _rules(run), xref_asset_ids=_xrefs(run, title.work_id))


def _usage(run: PipelineRun, asset: Asset) -> tuple[UsageRights | None, int | None]:
    """The asset's rights from the ledger's license index (kept current by the first task)."""
    known = asset_license(run, asset)
    return (known.rights, known.version) if known is not None else (None, None)


def _outcome(action: Action, created: str, updated: str, skipped: str) -> str:
    return {Action.CREATE: created, Action.UPDATE: updated}.get(action, skipped)


def _batches(ids: list[str]) -> list[list[str]]:
    return [ids[i : i + BATCH_SIZE] for i in range(0, len(ids), BATCH_SIZE)]


# =========================================================================== which titles


def select_titles(run: PipelineRun) -> dict[str, Any]:
    """The titles of this run, in batches of work ids: changed in the window, publishing within
    ``lead_days`` of its end, with a revision / reissue / repackaging dated in it, or with a
    Smint.io asset changed in it — or the one title the form names by ISBN. Unusable works are
    quarantined here, once per run."""
    from pydantic import ValidationError

    consonance = run.hook("consonance")
    counts: Counter[str] = Counter()
    on_invalid = run.quarantine_callback("consonance", "work")
    window = run.window
    isbn_raw = (run.params.get("isbn") or "").strip()
    works: list[Any] = []
    wanted: dict[str, None] = {}
    if isbn_raw:
        isbn = mapping.normalize_isbn(isbn_raw)
        if isbn is None:
            run.record(isbn_raw, TargetSystem.CONSONANCE, "refused", f"{isbn_raw!r} is not a valid ISBN")
            return {"counts": {"invalid_isbn": 1}, "batches": []}
        try:
            work = consonance.get_work_by_isbn(isbn)
        except ValidationError as exc:
            run.quarantine("consonance", "work", f"invalid Consonance work: {exc}", {"isbn": isbn}, ref=isbn)
            return {"counts": {"quarantined": 1}, "batches": []}
        if work is None:
            run.record(isbn, TargetSystem.CONSONANCE, "not_found", f"no Consonance title has ISBN {isbn}")
        else:
            works.append(work)
    else:
        for work in consonance.iter_works_changed_since(window.start, on_invalid=on_invalid):
            if work.updated_at is None or work.updated_at < window.end:  # a backfill sees its own window
                works.append(work)
                counts["changed"] += 1
        for event in consonance.iter_lifecycle_events(window.start.date(), window.end.date(), on_invalid=on_invalid):
            works.append(event.work)
            counts["lifecycle_events"] += 1
        works += _titles_of_changed_assets(run, counts)
        for product in consonance.iter_titles_approaching_publication(
            window.end.date(), _lead_days(run), on_invalid=run.quarantine_callback("consonance", "product")
        ):
            if product.work is not None:
                wanted.setdefault(str(product.work.id), None)
                counts["approaching_publication"] += 1
    ids: dict[str, None] = {}
    seen: set[str] = set()
    for work in works:
        if str(work.id) in seen:
            continue
        seen.add(str(work.id))
        if _title(run, work) is None:
            counts["quarantined"] += 1
            continue
        ids.setdefault(str(work.id), None)
    for work_id in wanted:  # publishing soon: read whole (with every product) and check once
        if work_id in seen:
            continue
        try:
            work = consonance.get_work(work_id)
        except ValidationError as exc:
            run.quarantine("consonance", "work", f"invalid Consonance work: {exc}", {"id": work_id}, ref=work_id)
            counts["quarantined"] += 1
            continue
        if work is not None and _title(run, work) is not None:
            ids.setdefault(work_id, None)
        elif work is not None:
            counts["quarantined"] += 1
    counts["titles"] = len(ids)
    log.info("Titles in scope: %s", dict(counts))
    return {"counts": dict(counts), "batches": _batches(list(ids))}


def _titles_of_changed_assets(run: PipelineRun, counts: Counter[str]) -> list[Any]:
    """The works of the Smint.io assets changed in the window (an asset approved, replaced or
    re-tagged is a reason to look at its title again, CON-1), found by the same matching rules:
    the ISBNs they carry, the work ids they name, their ledger cross-references."""
    from pydantic import ValidationError

    smintio, consonance = run.hook("smintio"), run.hook("consonance")
    rules = _rules(run)
    window = run.window
    isbns: set[str] = set()
    work_ids: set[str] = set()
    for asset in smintio.iter_assets(
        changed_since=window.start, on_invalid=run.quarantine_callback("smintio", "asset")
    ):
        if asset.is_derivative or (asset.updated_at is not None and asset.updated_at >= window.end):
            continue
        counts["assets_changed"] += 1
        if MatchRule.ISBN in rules:
            isbns |= mapping.asset_isbns(asset)
        if MatchRule.TITLE_REF in rules:
            work_ids |= {ref for ref in mapping.asset_title_refs(asset) if ref.isdigit()}
        if MatchRule.LEDGER_XREF in rules:
            linked = run.ledger.lookup(XREF_ENTITY, "smintio", asset.id, "consonance")
            if linked:
                work_ids.add(linked)
    works: list[Any] = []
    lookups = [(consonance.get_work_by_isbn, isbn) for isbn in sorted(isbns)]
    lookups += [(consonance.get_work, work_id) for work_id in sorted(work_ids)]
    for lookup, key in lookups:
        try:
            work = lookup(key)
        except ValidationError as exc:
            run.quarantine("consonance", "work", f"invalid Consonance work: {exc}", {"key": key}, ref=key)
            counts["quarantined"] += 1
            continue
        if work is not None:
            works.append(work)
            counts["titles_of_changed_assets"] += 1
    return works


# =========================================================================== Consonance -> Smint.io


def push_metadata(run: PipelineRun, work_ids: list[str]) -> dict[str, int]:
    """CON-4, CON-7: each title's metadata and tags onto its matching assets, once per
    (title revision and publication phase, asset)."""
    counts: Counter[str] = Counter()
    smintio = run.hook("smintio")
    assets = _assets(run)
    lead_days = _lead_days(run)
    rules = _pairing_rules(run)
    fields = _field_mapping(run)
    as_of = run.window.end
    for title in _load_titles(run, work_ids):
        for match in _matches(run, title, assets):
            asset = match.asset
            if asset.approval_status is ApprovalStatus.RETIRED:
                continue
            pairing = mapping.pair_with_format(title, asset, rules)
            product = None
            if pairing is not None and pairing.product_id is not None:
                product = next(p for p in title.products if p.product_id == pairing.product_id)
            update = mapping.metadata_update(title, asset, product, as_of, lead_days=lead_days, fields=fields)
            version = mapping.push_version(title, product, as_of, lead_days=lead_days, fields=fields)
            target = TargetSystem.SMINTIO_TITLE.of(title.work_id)

            def send(_plan: Any, asset_id: str = asset.id, update: mapping.MetadataUpdate = update) -> str:
                smintio.update_metadata(
                    asset_id,
                    update.metadata,
                    tags_add=list(update.tags_add),
                    tags_remove=list(update.tags_remove),
                )
                return asset_id

            delivered = run.deliver_once(asset.id, version, target, send)
            outcome = _outcome(delivered.action, "metadata_pushed", "metadata_updated", "metadata_unchanged")
            counts[outcome] += 1
            if delivered.action is not Action.SKIP:
                run.record(
                    asset.id,
                    TargetSystem.SMINTIO.of(title.work_id),
                    outcome,
                    f"matched by {match.rule.value}",
                    detail=f"{title.title} ({product.format.value if product and product.format else 'all formats'})",
                )
    return dict(counts)


# =========================================================================== CON-8


def surface_latest(run: PipelineRun, work_ids: list[str]) -> dict[str, int]:
    """CON-8: for each revised / reissued / repackaged title, surface the latest approved asset of
    each slot and retire the outdated ones — only approved assets of that title's singular slots."""
    counts: Counter[str] = Counter()
    smintio = run.hook("smintio")
    assets = _assets(run)
    rules = _pairing_rules(run)
    for title in _load_titles(run, work_ids):
        if not title.needs_refresh:
            continue
        counts["titles_refreshed"] += 1
        kind = title.revision_kind.value if title.revision_kind else "revised"
        when = title.revision_date.isoformat() if title.revision_date else ""
        matched = [m.asset for m in _matches(run, title, assets)]
        refresh = mapping.select_latest(matched, rules, formats=title.revision_formats or None)
        for asset_id in refresh.latest:

            def surface(_plan: Any, asset_id: str = asset_id, kind: str = kind, when: str = when) -> str:
                smintio.update_metadata(
                    asset_id,
                    {"title_asset_status": "current", "title_revision_kind": kind, "title_revision_date": when},
                    tags_add=["title:current"],
                    tags_remove=["title:outdated"],
                )
                return asset_id

            delivered = run.deliver_once(
                asset_id, title.revision, TargetSystem.SMINTIO_CURRENT.of(title.work_id), surface
            )
            if delivered.action is not Action.SKIP:
                run.record(
                    asset_id,
                    TargetSystem.SMINTIO.of(title.work_id),
                    "surfaced",
                    f"latest approved for the {kind} title",
                )
                counts["surfaced"] += 1
        for asset_id, newer in refresh.outdated.items():
            reason = f"superseded by {newer}: title {title.work_id} {kind} {when}".strip()

            def retire(_plan: Any, asset_id: str = asset_id, newer: str = newer, reason: str = reason) -> str:
                smintio.update_metadata(
                    asset_id,
                    {"title_asset_status": "outdated", "superseded_by": newer},
                    tags_add=["title:outdated"],
                    tags_remove=["title:current"],
                )
                smintio.retire_asset(asset_id, reason)
                return asset_id

            delivered = run.deliver_once(
                asset_id, title.revision, TargetSystem.SMINTIO_RETIRED.of(title.work_id), retire
            )
            if delivered.action is not Action.SKIP:
                run.record(asset_id, TargetSystem.SMINTIO.of(title.work_id), "retired", reason)
                counts["retired"] += 1
            if not run.dry_run:  # also after a crash between the retirement and the title record
                counts.update(_detach(run, title, asset_id, newer, reason))
    return dict(counts)


def _detach(run: PipelineRun, title: TitleRecord, asset_id: str, newer: str, reason: str) -> Counter[str]:
    """An outdated asset attached to the title before: its supporting resource says it is retired
    (same reference, so the same resource), and the ledger no longer counts it as delivered."""
    from contentops.models.consonance import UsageRightsSummary

    counts: Counter[str] = Counter()
    consonance = run.hook("consonance")
    smintio = run.hook("smintio")
    attached = TargetSystem.CONSONANCE.of(title.work_id)
    for delivery in run.ledger.deliveries(asset_id=asset_id, target_prefix=attached.prefix):
        if delivery.status != "delivered" or not attached.matches(delivery.target):
            continue

        def mark_retired(_plan: Any) -> str:
            written = consonance.attach_supporting_resource(
                title.work_id,
                reference=mapping.resource_reference(asset_id),
                url=f"{smintio.portals_url}/assets/{asset_id}",
                resource_type="retired",
                asset_id=asset_id,
                usage_rights=UsageRightsSummary(summary=f"Retired: superseded by {newer}"),
                caption=f"Retired: superseded by {newer}",
            )
            return str(written.record.id or mapping.resource_reference(asset_id))

        # its own target kind: the retirement note is never mistaken for the attachment itself
        run.deliver_once(asset_id, title.revision, TargetSystem.CONSONANCE_RETIRED.of(title.work_id), mark_retired)
        run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, reason, run_id=run.run_id)
        run.record(asset_id, delivery.target, "detached", reason)
        counts["detached"] += 1
    return counts


# =========================================================================== Smint.io -> Consonance


def _gate(
    run: PipelineRun, title: TitleRecord, asset: Asset, pairing: FormatPairing
) -> tuple[RightsDecision, UsageRights | None, int | None]:
    usage, version = _usage(run, asset)
    decision = mapping.rights_gate(usage, title, pairing, run.window.end, _pairing_rules(run), asset_id=asset.id)
    return decision, usage, version


def _attachment_fields(smintio: Any, attachment: Attachment, asset: Asset) -> dict[str, Any]:
    """What a Consonance attachment of an asset says wherever it is attached (title, production task
    or manuscript): our reference, the Smint.io link, role, version, usage rights and caption — one
    place, so an attachment reads the same on every record it is on."""
    from contentops.models.consonance import UsageRightsSummary

    return {
        "reference": mapping.resource_reference(attachment.asset_id),
        "url": f"{smintio.portals_url}/assets/{attachment.asset_id}",
        "resource_type": attachment.role,
        "asset_id": attachment.asset_id,
        "asset_version": asset.version,
        "usage_rights": UsageRightsSummary.model_validate(mapping.usage_rights_record(attachment)),
        "caption": f"{attachment.role.replace('_', ' ')}: {attachment.asset_name or attachment.asset_id}",
    }


def _attach(
    run: PipelineRun, title: TitleRecord, attachment: Attachment, asset: Asset, *, pipeline: str | None = None
) -> tuple[Action, str | None]:
    """Attach (or update) one asset on the title record with its usage rights, and pair it with its
    edition and release timing (CON-5) — once per attachment content."""
    consonance = run.hook("consonance")
    smintio = run.hook("smintio")
    rules = _pairing_rules(run)

    def send(_plan: Any) -> str:
        written = consonance.attach_supporting_resource(
            title.work_id,
            **_attachment_fields(smintio, attachment, asset),
            product_ids=[attachment.product_id] if attachment.product_id else None,
        )
        if attachment.product_id:
            consonance.record_format_asset_pairing(
                attachment.product_id,
                reference=mapping.pairing_reference(attachment, rules),
                asset_id=attachment.asset_id,
                asset_version=asset.version,
                role=attachment.role,
                release_date=attachment.release_date,
                embargo_until=attachment.announce_from,
            )
        return str(written.record.id or mapping.resource_reference(attachment.asset_id))

    delivered = run.deliver_once(
        attachment.asset_id,
        mapping.attachment_version(attachment),
        TargetSystem.CONSONANCE.of(title.work_id),
        send,
        license_ref=attachment.license,
        pipeline=pipeline,
    )
    if delivered.action is not Action.SKIP and not run.dry_run:
        run.ledger.link(XREF_ENTITY, "smintio", attachment.asset_id, "consonance", title.work_id)
    return delivered.action, delivered.remote_id


def _on_request_pipeline(run: PipelineRun) -> str:
    return f"{run.dag_id}:{ON_REQUEST}"


def attach_assets(run: PipelineRun, work_ids: list[str]) -> dict[str, int]:
    """CON-1, CON-5, CON-6: approved assets of each title attached to the title record with their
    usage-rights summary, paired with their edition and its release timing — rights permitting."""
    counts: Counter[str] = Counter()
    assets = _assets(run)
    rules = _pairing_rules(run)
    on_request = _on_request_pipeline(run)
    for title in _load_titles(run, work_ids):
        for match in _matches(run, title, assets):
            asset = match.asset
            if asset.approval_status is not ApprovalStatus.APPROVED:
                continue  # drafts, assets in review, retired ones: nothing to attach
            if any(
                TargetSystem.CONSONANCE.of(title.work_id).matches(d.target)
                for d in run.ledger.deliveries(asset_id=asset.id, pipeline=on_request)
            ):
                continue  # attached on request to the edition someone chose: theirs to change
            pairing = mapping.pair_with_format(title, asset, rules)
            target = TargetSystem.CONSONANCE.of(title.work_id)
            if pairing is None:
                fmt = mapping.asset_format(asset, rules)
                reason = f"the title has no {fmt.value if fmt else ''} edition to pair the asset with".replace(
                    "  ", " "
                )
                run.record(asset.id, target, "not_paired", reason)
                counts["not_paired"] += 1
                continue
            decision, usage, license_version = _gate(run, title, asset, pairing)
            slot_target = TargetSystem.CONSONANCE.of(title.work_id, pairing.format.value if pairing.format else "all")
            if not decision.allowed:
                run.record(
                    asset.id,
                    slot_target,
                    "refused",
                    decision.summary(),
                    license=asset.license_purchase_transaction_uuid or "",
                    rule=match.rule.value,
                )
                counts["refused"] += 1
                continue
            attachment = mapping.build_attachment(
                title, asset, pairing, usage, license_version=license_version, match_rule=match.rule.value
            )
            action, remote = _attach(run, title, attachment, asset)
            outcome = _outcome(action, "attached", "attachment_updated", "already_attached")
            counts[outcome] += 1
            if action is not Action.SKIP:
                run.record(
                    asset.id,
                    slot_target,
                    outcome,
                    f"matched by {match.rule.value}",
                    license=attachment.license or "",
                    expires=str(attachment.rights.get("expires") or ""),
                    detail=f"release {attachment.release_date or 'unscheduled'}; resource {remote or ''}",
                )
    return dict(counts)


def _attach_to_target(
    run: PipelineRun, kind: AttachTarget, target_id: str, attachment: Attachment, asset: Asset
) -> tuple[Action, str | None]:
    """Attach (or update) one asset on a production task or manuscript with its usage rights —
    once per attachment content, under the on-request pipeline whoever asked (form or Smint.io)."""
    consonance = run.hook("consonance")
    smintio = run.hook("smintio")
    write = (
        consonance.attach_to_production_task
        if kind is AttachTarget.PRODUCTION_TASK
        else consonance.attach_to_manuscript
    )

    def send(_plan: Any) -> str:
        written = write(target_id, **_attachment_fields(smintio, attachment, asset))
        return str(written.record.id or mapping.resource_reference(attachment.asset_id))

    delivered = run.deliver_once(
        attachment.asset_id,
        mapping.attachment_version(attachment),
        mapping.attach_target_ledger(kind, target_id),
        send,
        license_ref=attachment.license,
        pipeline=_on_request_pipeline(run),
    )
    return delivered.action, delivered.remote_id


def _attach_to_production(
    run: PipelineRun, kind: AttachTarget, target_id: str, asset: Asset, *, isbn: str | None, via: str
) -> str:
    """CON-3 for a production task or a manuscript: the target's title decides, with the same rules
    as a title attachment — the asset must be approved and its license must allow the use of the
    edition (the one ``isbn`` names, else the one the asset pairs with). Returns the outcome."""
    target = mapping.attach_target_ledger(kind, target_id)
    consonance = run.hook("consonance")
    found = (
        consonance.get_production_task(target_id)
        if kind is AttachTarget.PRODUCTION_TASK
        else consonance.get_manuscript(target_id)
    )
    if found is None:
        run.record(asset.id, target, "refused", f"no Consonance {kind.label} {target_id}", rule=via)
        return "refused"
    work = consonance.get_work(found.work_id)
    title = _title(run, work) if work is not None else None
    if title is None:
        if work is None:
            run.record(asset.id, target, "refused", f"the title {found.work_id} of {kind.label} {target_id} is gone")
            return "refused"
        return "quarantined"
    if asset.approval_status is not ApprovalStatus.APPROVED:
        run.record(asset.id, target, "refused", f"the asset is {asset.approval_status.value}, not approved", rule=via)
        return "refused"
    rules = _pairing_rules(run)
    if isbn is not None:
        product = next((p for p in title.products if p.isbn == isbn), None)
        if product is None:
            reason = f"{kind.label} {target_id} belongs to title {title.work_id}, which has no edition with ISBN {isbn}"
            run.record(asset.id, target, "refused", reason, rule=via)
            return "refused"
        pairing: FormatPairing | None = mapping.pairing_for_product(title, product, rules)
    else:
        pairing = mapping.pair_with_format(title, asset, rules)
    if pairing is None:
        fmt = mapping.asset_format(asset, rules)
        reason = f"title {title.work_id} has no {fmt.value + ' ' if fmt else ''}edition to clear the asset for"
        run.record(asset.id, target, "not_paired", reason, rule=via)
        return "not_paired"
    decision, usage, license_version = _gate(run, title, asset, pairing)
    if not decision.allowed:
        run.record(
            asset.id,
            target,
            "refused",
            decision.summary(),
            license=asset.license_purchase_transaction_uuid or "",
            rule=via,
        )
        return "refused"
    attachment = mapping.build_attachment(title, asset, pairing, usage, license_version=license_version, match_rule=via)
    action, remote = _attach_to_target(run, kind, target_id, attachment, asset)
    outcome = _outcome(action, "attached", "attachment_updated", "already_attached")
    if action is not Action.SKIP or via == ON_REQUEST:
        asked = "on request" if via == ON_REQUEST else "as asked in Smint.io"
        what = getattr(found, "name", None) or f"version {getattr(found, 'version', '')}"
        run.record(
            asset.id,
            target,
            outcome,
            f"{asked} for {kind.label} {target_id}",
            license=attachment.license or "",
            expires=str(attachment.rights.get("expires") or ""),
            detail=f"title {title.work_id}, {pairing.format.value if pairing.format else 'all'} edition; "
            f"{what}; resource {remote or ''}",
        )
    return outcome


def _attach_on_request_to(run: PipelineRun, kind: AttachTarget, asset_id: str, isbn_raw: str) -> dict[str, int]:
    target_id = (run.params.get("target_id") or "").strip()
    if not target_id:
        reason = f"attaching to a {kind.label} needs its id (target_id)"
        run.record(asset_id, mapping.attach_target_ledger(kind, "?"), "refused", reason)
        return {"refused": 1}
    isbn = mapping.normalize_isbn(isbn_raw) if isbn_raw else None
    if isbn_raw and isbn is None:
        run.record(
            asset_id, mapping.attach_target_ledger(kind, target_id), "refused", f"{isbn_raw!r} is not a valid ISBN"
        )
        return {"refused": 1}
    asset = run.hook("smintio").get_asset(asset_id)
    return {_attach_to_production(run, kind, target_id, asset, isbn=isbn, via=ON_REQUEST): 1}


def attach_requested_in_smintio(run: PipelineRun) -> dict[str, int]:
    """CON-3 from Smint.io's side: an editor names a Consonance production task or manuscript on an
    approved asset (``consonance_task`` / ``consonance_manuscript`` metadata or tags); assets
    changed in the window are attached there, rights-gated like every title attachment, once."""
    counts: Counter[str] = Counter()
    window = run.window
    smintio = run.hook("smintio")
    for asset in smintio.iter_assets(
        changed_since=window.start, on_invalid=run.quarantine_callback("smintio", "asset")
    ):
        if asset.is_derivative or (asset.updated_at is not None and asset.updated_at >= window.end):
            continue  # a backfill sees its own window
        for kind, target_id in mapping.asset_attach_requests(asset):
            counts[_attach_to_production(run, kind, target_id, asset, isbn=None, via=REQUESTED_IN_SMINTIO)] += 1
    return dict(counts)


def attach_on_request(run: PipelineRun) -> dict[str, int]:
    """CON-3: attach the asset the form names to the title (edition) its ISBN names — if the asset
    is approved and its license allows that edition's use. Then the asset is linked to the title.
    With ``target_kind`` ``production_task`` / ``manuscript`` (and ``target_id``) it goes to that
    task or manuscript of the title instead, under the same rules (the ISBN, if given, names the
    edition to clear it for); the title record and its cross-references stay as they are."""
    asset_id = (run.params.get("asset_id") or "").strip()
    isbn_raw = (run.params.get("isbn") or "").strip()
    if not asset_id:
        return {}
    try:
        kind = mapping.parse_attach_target(run.params.get("target_kind"))
    except ValueError as exc:
        run.record(asset_id, TargetSystem.CONSONANCE, "refused", str(exc))
        return {"refused": 1}
    if kind is not AttachTarget.TITLE:
        return _attach_on_request_to(run, kind, asset_id, isbn_raw)
    isbn = mapping.normalize_isbn(isbn_raw)
    target = TargetSystem.CONSONANCE.of("isbn", isbn or isbn_raw)
    if isbn is None:
        run.record(asset_id, target, "refused", f"{isbn_raw!r} is not a valid ISBN")
        return {"refused": 1}
    work = run.hook("consonance").get_work_by_isbn(isbn)
    if work is None:
        run.record(asset_id, target, "refused", f"no Consonance title has ISBN {isbn}")
        return {"refused": 1}
    title = _title(run, work)
    if title is None:
        return {"quarantined": 1}
    product = next(p for p in title.products if p.isbn == isbn)
    asset = run.hook("smintio").get_asset(asset_id)
    pairing = mapping.pairing_for_product(title, product, _pairing_rules(run))
    slot_target = TargetSystem.CONSONANCE.of(title.work_id, pairing.format.value if pairing.format else "all")
    if asset.approval_status is not ApprovalStatus.APPROVED:
        run.record(asset_id, slot_target, "refused", f"the asset is {asset.approval_status.value}, not approved")
        return {"refused": 1}
    decision, usage, license_version = _gate(run, title, asset, pairing)
    if not decision.allowed:
        run.record(
            asset_id,
            slot_target,
            "refused",
            decision.summary(),
            license=asset.license_purchase_transaction_uuid or "",
            rule=ON_REQUEST,
        )
        return {"refused": 1}
    attachment = mapping.build_attachment(
        title, asset, pairing, usage, license_version=license_version, match_rule=ON_REQUEST
    )
    action, remote = _attach(run, title, attachment, asset, pipeline=_on_request_pipeline(run))
    outcome = _outcome(action, "attached", "attachment_updated", "already_attached")
    run.record(
        asset_id,
        slot_target,
        outcome,
        f"on request for ISBN {isbn}",
        license=attachment.license or "",
        expires=str(attachment.rights.get("expires") or ""),
        detail=f"release {attachment.release_date or 'unscheduled'}; resource {remote or ''}",
    )
    return {outcome: 1}


# =========================================================================== report


def report_notes(run: PipelineRun) -> list[str]:
    rules = ", ".join(rule.value for rule in _rules(run))
    notes = [f"Matching rule (in order): {rules}; titles publishing within {_lead_days(run)} days are in scope"]
    if run.params.get("isbn"):
        notes.append(f"Requested for ISBN {run.params['isbn']}")
    if run.params.get("asset_id"):
        kind = str(run.params.get("target_kind") or "title")
        where = "" if kind == "title" else f" to {kind.replace('_', ' ')} {run.params.get('target_id') or '?'}"
        notes.append(f"Attach on request: asset {run.params['asset_id']}{where}")
    return notes
