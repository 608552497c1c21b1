"""The Airflow Assets the pipelines emit and consume, defined once.

A producer names one in its task's ``outlets``; a consumer schedules on it. Both import it
from here so the URI cannot drift between two DAG files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow.sdk import Asset, AssetAlias, AssetWatcher

from contentops.triggers.smintio_push import SmintioLicensePushTrigger

#: The ledger's license index changed (``smintio_license_sync``).
SMINTIO_LICENSES = Asset("contentops://smintio/licenses")
#: Smint.io pushed a license change (its Pusher channel, heard in the triggerer by the watcher's
#: :class:`~contentops.triggers.smintio_push.SmintioLicensePushTrigger` on ``smintio_default``);
#: ``smintio_license_sync`` is scheduled on it besides its hourly timetable. No ``channel_id`` on
#: the connection: the watcher waits quietly and the hourly sync alone applies.
SMINTIO_LICENSE_PUSH = Asset(
    "contentops://smintio/license-push",
    watchers=[AssetWatcher(name="smintio_license_push", trigger=SmintioLicensePushTrigger("smintio_default"))],
)
#: The rights expiry sweep wrote dispositions back (renewals, takedowns, exceptions cleared).
RIGHTS_CHANGES = Asset("contentops://rights-changes")
#: A pipeline removed assets at their source (retired or withdrawn in Smint.io on an Exstream
#: retirement, a title refresh, a VIP withdrawal): ``delivery_compliance`` is scheduled on it, so
#: every partner's copy is taken back right after the removal, not at its next hourly run.
ASSET_REMOVALS = Asset("contentops://asset-removals")
#: The outlet a removing task declares: resolved to :data:`ASSET_REMOVALS` only when the task
#: removed something (:func:`announce_removals`), so a run that removed nothing starts nothing.
REMOVALS = AssetAlias("contentops-asset-removals")

#: What ``campaign_release`` delivered, one Asset per target system: a DAG that follows a
#: target's releases schedules on its Asset.
CAMPAIGN_RELEASES: dict[str, Asset] = {
    "vip": Asset("contentops://campaign-release/vip"),
    "trading_grid": Asset("contentops://campaign-release/trading-grid"),
    "exstream": Asset("contentops://campaign-release/exstream"),
}
#: The outlet ``campaign_release``'s delivery task declares. Each mapped delivery sends one batch
#: to one system, so it resolves the alias to that system's Asset of :data:`CAMPAIGN_RELEASES`,
#: and only when it changed something there (:func:`announce_release`): a batch with nothing new,
#: or a dry run, tells no consumer that something was released.
CAMPAIGN_RELEASE = AssetAlias("contentops-campaign-release")


def announce_release(outlet_events: Any, system: str, counts: Mapping[str, int], *, dry_run: bool) -> bool:
    """Add the event of ``system``'s release Asset when the batch created or updated something.

    ``counts`` are the delivery's (``<system>_create``, ``<system>_update``, …); the event's
    extra carries them so a consumer sees what arrived. Returns whether an event was added."""
    changed = {key: n for key, n in counts.items() if key in (f"{system}_create", f"{system}_update") and n}
    if dry_run or not changed or system not in CAMPAIGN_RELEASES:
        return False
    outlet_events[CAMPAIGN_RELEASE].add(CAMPAIGN_RELEASES[system], extra=changed)
    return True


def announce_removals(outlet_events: Any, removed: Mapping[str, int], *, dry_run: bool) -> bool:
    """Add an :data:`ASSET_REMOVALS` event when ``removed`` (count name -> number of assets
    removed, e.g. ``{"retired": 2}``) holds a removal; its extra carries the counts. Returns
    whether an event was added."""
    counted = {key: n for key, n in removed.items() if n}
    if dry_run or not counted:
        return False
    outlet_events[REMOVALS].add(ASSET_REMOVALS, extra=counted)
    return True


#: A pipeline started OpenText workflows (e.g. ``asset_approval_intake`` on new drafts): the
#: pipeline that applies workflow outcomes can schedule on it to poll at once.
WORKFLOWS_STARTED = Asset("contentops://opentext-workflow/started")
#: The outlet a starting task declares; it resolves to :data:`WORKFLOWS_STARTED` only when the
#: task started something (:func:`announce_started`): a run that started nothing tells no one.
WORKFLOW_STARTS = AssetAlias("contentops-workflow-starts")


def announce_started(outlet_events: Any, counts: Mapping[str, int], *, dry_run: bool) -> bool:
    """Add the :data:`WORKFLOWS_STARTED` event when ``counts["started"]`` says workflows were
    started (the extra carries the counts); returns whether an event was added."""
    started = int(counts.get("started") or 0)
    if dry_run or started <= 0:
        return False
    outlet_events[WORKFLOW_STARTS].add(WORKFLOWS_STARTED, extra={"started": started})
    return True
