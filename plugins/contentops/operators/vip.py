"""VIP operators: the catalogue sync both ways (a campaign's delivery to VIP is
``contentops.operators.campaign.CampaignDeliverOperator`` with ``system="vip"``).

Example — an hourly catalogue sync::

    from contentops.operators.smintio import SmintioLicenseSyncOperator
    from contentops.operators.vip import VipCatalogRegisterOperator, VipItemUpdateOperator

    licenses = SmintioLicenseSyncOperator(task_id="sync_licenses")
    catalogue = VipCatalogRegisterOperator(task_id="register_catalogue", page_size=50)
    items = VipItemUpdateOperator(task_id="update_vip_items")
    [licenses, catalogue] >> items
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from contentops.operators.base import ContentOpsOperator, as_int

if TYPE_CHECKING:
    from airflow.sdk import Context


class VipCatalogRegisterOperator(ContentOpsOperator):
    """Register VIP-held content changed in the run's window as Smint.io assets (VIP → Smint.io).

    Why: masters, localized versions, approved deliverables and replacements held as media on
    VIP catalog items should be found and reused in Smint.io. Each catalogue entry becomes one
    Smint.io asset under its VIP reference, its file streamed across
    (:func:`contentops.pipelines.vip_catalog.register_catalogue`); every write goes through
    ``run.deliver_once``, so a new entry version updates that asset and a re-run adds nothing.
    Drafts are left out; malformed entries are quarantined with their reason.

    :param page_size: catalogue entries per page (templated)
    :returns: counts (``entries``, ``registered``, ``updated``, ``skipped``, ``retired``, ``quarantined``…)

    Example::

        VipCatalogRegisterOperator(task_id="register_catalogue", page_size="{{ params.page_size }}",
                                   vip_conn_id="vip_emea", default_span=timedelta(hours=1))
    """

    conn_id_fields = ("smintio_conn_id", "vip_conn_id")
    template_fields: Sequence[str] = ("page_size", "dry_run", "ledger_conn_id")
    #: an entry VIP withdrew is retired in Smint.io; with ``outlets=[REMOVALS]`` that emits
    #: ``contentops://asset-removals`` (the other partners' copies are taken back)
    removal_counts = ("retired",)

    def __init__(self, *, page_size: int | str = 50, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import vip_catalog

        run = self.pipeline_run(context)
        counts = vip_catalog.register_catalogue(run, page_size=as_int(self.page_size) or 50)
        self.announce_removals(context, run, counts)
        return counts


class VipItemUpdateOperator(ContentOpsOperator):
    """Bring delivered VIP media in step with their changed Smint.io master (Smint.io → VIP, VIP-4).

    Why: a master that changed in Smint.io — file, metadata, tags, license — must not leave an
    older copy in VIP, but only where its rights still allow the media's regions and channels as
    of the window's end; a master no longer approved has its copies withdrawn through
    ``delivery_compliance``'s re-decision (:func:`contentops.pipelines.vip_masters.update_vip_items`).
    The update is one ``run.deliver_once`` per media, keyed by asset version: a retry re-sends nothing.

    :param page_size: Smint.io assets per page (templated)
    :returns: counts (``assets_changed``, ``items_updated``, ``decided_withdrawn``, ``vip_withdrawn``, refusals…)

    Example::

        VipItemUpdateOperator(task_id="update_vip_items", smintio_conn_id="smintio_eu")
    """

    conn_id_fields = ("smintio_conn_id", "vip_conn_id")
    template_fields: Sequence[str] = ("page_size", "dry_run", "ledger_conn_id")

    def __init__(self, *, page_size: int | str = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.page_size = page_size

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import vip_masters

        return vip_masters.update_vip_items(self.pipeline_run(context), page_size=as_int(self.page_size) or 100)
