"""What taking an asset back (or giving it back) means in each partner — one copy of it, shared.

The rights expiry sweep applies a human disposition (takedown, renew, replace …) and
``delivery_compliance`` applies its own re-decisions (expired, narrowed, no longer approved,
restored) through the same functions, so a partner is changed the same way whoever decided:

- VIP: the asset's media on a catalog item is withdrawn, or re-restricted (end date, regions);
- Trading Grid: each community that received the asset gets usage guidance, and each partner
  case it was handed out in gets a reply;
- Exstream: the image is moved out of APPROVED (or its rights metadata gets a new expiry);
- Consonance: each title using the asset records the license terms the decision leaves.

Every function works on the asset's current (``delivered``) ledger slots of its kind, or on the
slots a caller passes (one at a time, for ``delivery_compliance``'s per-delivery isolation), and
records each partner write once: withdrawals mark the slot withdrawn, posts and replies and
terms go through :meth:`PipelineRun.deliver_once` keyed by the decision's reference (a workflow
instance, or a compliance decision), so a retry or a re-run writes nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from contentops import rights
from contentops.ledger import Action, DeliveryRecord
from contentops.models.consonance import LicenseStatus
from contentops.models.domain import UsageRights
from contentops.pipelines import mappings
from contentops.pipelines.rights_first import known_license
from contentops.pipelines.runtime import PipelineRun
from contentops.targets import Target, TargetSystem

__all__ = [
    "GUIDANCE",
    "LICENSE_STATUS_FOR",
    "apply_to_exstream",
    "apply_to_vip",
    "delivered",
    "guidance_text",
    "permitted_usage",
    "post_usage_guidance",
    "record_consonance_terms",
    "reply_on_cases",
    "told",
]


def delivered(run: PipelineRun, asset_id: str, kind: TargetSystem) -> list[DeliveryRecord]:
    """Where the asset currently is, on one kind of target (withdrawn ones are left alone)."""
    return [d for d in run.ledger.deliveries(asset_id=asset_id, target_prefix=kind.prefix) if d.status == "delivered"]


def told(run: PipelineRun, asset_id: str, kind: TargetSystem) -> list[DeliveryRecord]:
    """Who still has to hear of a decision about the asset, on one kind of target: its current
    copies, and the copies ``delivery_compliance`` took back and holds (a partner whose copy was
    withdrawn at once on the expiry day is told again when the human decision comes)."""
    held = {(h.pipeline, h.target) for h in run.ledger.holds(asset_id=asset_id)}
    return [
        d
        for d in run.ledger.deliveries(asset_id=asset_id, target_prefix=kind.prefix)
        if d.status == "delivered" or (d.status == "withdrawn" and (d.pipeline, d.target) in held)
    ]


def apply_to_vip(
    run: PipelineRun,
    asset_id: str,
    outcome: str,
    variables: dict[str, Any],
    *,
    withdraw: bool,
    deliveries: Sequence[DeliveryRecord] | None = None,
    reason: str | None = None,
) -> Counter[str]:
    """VIP-8: the asset's media on every VIP catalog item is withdrawn, or re-restricted to what
    the decision leaves — the renewed end date (``valid_until``) and/or fewer ``regions``; each
    change is recorded once in the ledger (a withdrawn slot is not current any more)."""
    counts: Counter[str] = Counter()
    deliveries = delivered(run, asset_id, TargetSystem.VIP) if deliveries is None else deliveries
    if not deliveries:
        return counts
    vip = run.hook("vip")
    why = reason or f"rights workflow: {outcome}"
    for delivery in deliveries:
        item_id = Target.parse(delivery.target).key
        media_ref = delivery.remote_id or asset_id
        if withdraw:
            vip.withdraw_media(item_id, media_ref, f"rights {outcome}")
            run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, f"rights {outcome}", run_id=run.run_id)
            run.record(asset_id, delivery.target, "withdrawn", why)
            counts["vip_withdrawn"] += 1
        elif variables.get("valid_until") or variables.get("regions"):
            from contentops.models.vip import UsageControls

            media = vip.get_media(item_id, media_ref)
            controls = UsageControls(
                regions=list(variables.get("regions") or media.usage_controls.regions),
                channels=media.usage_controls.channels,
                valid_until=variables.get("valid_until") or media.usage_controls.valid_until,
            )
            vip.restrict_media(item_id, media_ref, controls)
            said = [f"valid until {variables['valid_until']}"] if variables.get("valid_until") else []
            said += [f"regions {', '.join(controls.regions)}"] if variables.get("regions") else []
            run.record(asset_id, delivery.target, "restricted", reason or "; ".join(said))
            counts["vip_restricted"] += 1
    return counts


#: What partner communities are told, per disposition (OTG-3) or compliance decision.
GUIDANCE: dict[str, str] = {
    "takedown": "The license of {asset} has ended. Stop using it and remove it from every material.",
    "removed": "{asset} failed compliance review. Stop using it and remove it from every material.",
    "renew": "The license of {asset} was renewed{until}. You may keep using it as before.",
    "replace": "{asset} will be replaced by a new version; do not start new materials with it.",
    "cleared": "{asset} passed compliance review and may be used as before.",
    "expired": "The license of {asset} ends today{why}. Stop using it and remove it from every material; "
    "you will hear again if it is renewed.",
    "withdrawn": "{asset} may no longer be used{why}. Stop using it and remove it from every material.",
    "restored": "The license of {asset} was renewed{until}. You may use it again as before.",
}


def guidance_text(asset_id: str, outcome: str, variables: dict[str, Any]) -> str:
    """What partners are told of a decision (the same words in a community and on a case)."""
    until = f" until {variables['valid_until'][:10]}" if variables.get("valid_until") else ""
    why = f" ({variables['why']})" if variables.get("why") else ""
    return GUIDANCE.get(outcome, "The rights of {asset} changed ({outcome}).").format(
        asset=asset_id, until=until, outcome=outcome, why=why
    )


def post_usage_guidance(
    run: PipelineRun,
    asset_id: str,
    outcome: str,
    variables: dict[str, Any],
    instance_id: str,
    *,
    communities: Collection[str] | None = None,
    withdraw: bool = False,
) -> Counter[str]:
    """OTG-3: every Trading Grid community that received the asset — through a launch kit
    (``trading_grid:<community>``) or a co-marketing kit sent for sign-off — gets updated usage
    guidance, once per community and decision (``instance_id``). ``communities`` limits it to
    some; ``withdraw`` also marks the launch-kit deliveries there withdrawn in the ledger."""
    counts: Counter[str] = Counter()
    # community -> the ledger target it received the asset under (a launch kit wins over a sign-off kit)
    kits = told(run, asset_id, TargetSystem.TRADING_GRID)
    received = {Target.parse(d.target).key: d.target for d in kits}
    for community, target in _signoff_communities(run, asset_id).items():
        received.setdefault(community, target)
    if communities is not None:
        received = {c: t for c, t in received.items() if c in communities}
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
        if withdraw:
            for kit in kits:
                if Target.parse(kit.target).key == community and kit.status == "delivered":
                    run.ledger.withdraw(kit.pipeline, asset_id, kit.target, f"rights {outcome}", run_id=run.run_id)
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
    run: PipelineRun,
    asset_id: str,
    outcome: str,
    variables: dict[str, Any],
    instance_id: str,
    *,
    deliveries: Sequence[DeliveryRecord] | None = None,
    withdraw: bool = False,
) -> Counter[str]:
    """OTG-3 for partner cases: every case the asset was handed out in (``partner_case_intake``
    deliveries to ``trading_grid_case:<case>``) gets a reply saying what the partner may still do
    with it, once per case and decision — a partner who got a file through a case hears of its
    takedown as surely as a community does. ``withdraw`` also marks those deliveries withdrawn."""
    counts: Counter[str] = Counter()
    deliveries = told(run, asset_id, TargetSystem.TRADING_GRID_CASE) if deliveries is None else deliveries
    if not deliveries:
        return counts
    grid = run.hook("trading_grid")
    text = guidance_text(asset_id, outcome, variables)
    for case_id in dict.fromkeys(Target.parse(d.target).key for d in deliveries):
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
    if withdraw:
        for delivery in deliveries:
            if delivery.status != "delivered":
                continue
            run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, f"rights {outcome}", run_id=run.run_id)
    return counts


def apply_to_exstream(
    run: PipelineRun,
    asset_id: str,
    outcome: str,
    variables: dict[str, Any],
    *,
    block: bool,
    deliveries: Sequence[DeliveryRecord] | None = None,
    reason: str | None = None,
) -> Counter[str]:
    """EXS-2 / EXS-5: an Exstream resource whose rights ended (or that failed compliance) is moved
    out of APPROVED, so no communication uses it in the next run; a renewal updates the expiry in
    the resource's rights metadata. Each change once."""
    counts: Counter[str] = Counter()
    deliveries = delivered(run, asset_id, TargetSystem.EXSTREAM) if deliveries is None else deliveries
    if not deliveries:
        return counts
    exstream = run.hook("exstream")
    for delivery in deliveries:
        domain = Target.parse(delivery.target).key
        resource_id = delivery.remote_id or asset_id
        if block:
            exstream.block(domain, resource_id, f"Rights of {asset_id}: {outcome}")
            run.ledger.withdraw(delivery.pipeline, asset_id, delivery.target, f"rights {outcome}", run_id=run.run_id)
            run.record(asset_id, delivery.target, "blocked", reason or f"rights workflow: {outcome}")
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


#: What a title's record says of an asset's license after each decision (CON-2).
LICENSE_STATUS_FOR: dict[str, LicenseStatus] = {
    "renew": LicenseStatus.RENEWED,
    "takedown": LicenseStatus.ENDED,
    "removed": LicenseStatus.ENDED,
    "replace": LicenseStatus.REPLACEMENT_PENDING,
    "cleared": LicenseStatus.ACTIVE,
    "expired": LicenseStatus.ENDED,
    "withdrawn": LicenseStatus.ENDED,
    "restored": LicenseStatus.RENEWED,
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
    run: PipelineRun,
    asset_id: str,
    outcome: str,
    variables: dict[str, Any],
    instance_id: str,
    *,
    deliveries: Sequence[DeliveryRecord] | None = None,
) -> Counter[str]:
    """CON-2: every Consonance title the asset is attached to (ledger deliveries to
    ``consonance:<work id>``) gets the license terms, expiry and permitted usage the decision
    leaves — renewed to the workflow's ``valid_until``, or ended at the license's expiry — once per
    decision (one record per title and asset, updated by later decisions)."""
    from contentops.hooks.consonance import ModelledFeatureUnavailableError

    counts: Counter[str] = Counter()
    deliveries = delivered(run, asset_id, TargetSystem.CONSONANCE) if deliveries is None else deliveries
    if not deliveries:
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
    work_ids = dict.fromkeys(Target.parse(d.target).key for d in deliveries)
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
            # report; the decision itself stands, and a later run tries the terms again
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
