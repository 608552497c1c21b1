"""Consonance operators: titles onto Smint.io assets, and approved assets attached to titles.

Each is one step of :mod:`contentops.pipelines.titles`. Which assets belong to a title is the
``match_rules`` setting (``isbn``, ``title_ref``, ``ledger_xref``, in order), and ``lead_days``
brings titles publishing soon into scope; both are the DAG's Params unless the operator is given
its own (``param_fields``).

Example — one title's push, mapped over the selected titles::

    from contentops.operators.consonance import (
        ConsonanceAttachAssetsOperator,
        ConsonanceSelectTitlesOperator,
        ConsonanceTitleMetadataPushOperator,
    )

    titles = ConsonanceSelectTitlesOperator(task_id="select_titles", lead_days=14)
    pushed = ConsonanceTitleMetadataPushOperator.partial(task_id="push_metadata").expand(batch=titles.output)
    attached = ConsonanceAttachAssetsOperator.partial(task_id="attach_assets").expand(batch=titles.output)
    pushed >> attached
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from contentops.operators.base import ContentOpsOperator, as_int, as_list, batches

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import Context

#: the title settings every Consonance operator may override (the DAG's Params of the same name)
TITLE_SETTINGS: dict[str, Callable[[Any], Any]] = {"lead_days": as_int, "match_rules": as_list}


class _TitleStep(ContentOpsOperator):
    """A step over a batch of Consonance work ids (shared by the mapped title steps)."""

    conn_id_fields = ("smintio_conn_id", "consonance_conn_id")
    param_fields: ClassVar[dict[str, Callable[[Any], Any]]] = TITLE_SETTINGS
    template_fields: Sequence[str] = ("batch", "dry_run", "ledger_conn_id")

    def __init__(self, *, batch: Sequence[str] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.batch = batch

    def work_ids(self) -> list[str]:
        return [str(work_id) for work_id in as_list(self.batch)]


class ConsonanceSelectTitlesOperator(ContentOpsOperator):
    """Select the Consonance titles this run works on, in batches of work ids.

    Why: titles changed in the window, titles publishing within ``lead_days``, revised /
    reissued / repackaged titles, and titles whose Smint.io assets changed all need their
    metadata and attachments brought up to date (:func:`contentops.pipelines.titles.select_titles`;
    with the ``isbn`` Param, that one title only). Malformed titles are quarantined. Reads only.

    :param lead_days: titles publishing within this many days of the window's end are selected too
    :param match_rules: how assets are found for a title, in order
    :returns: batches of work ids (``list[list[str]]``), for ``.expand(batch=...)``

    Example::

        ConsonanceSelectTitlesOperator(task_id="select_titles", lead_days="{{ params.lead_days }}")
    """

    conn_id_fields = ("smintio_conn_id", "consonance_conn_id")
    param_fields: ClassVar[dict[str, Callable[[Any], Any]]] = TITLE_SETTINGS

    def execute(self, context: Context) -> list[list[str]]:
        from contentops.pipelines import titles

        result = titles.select_titles(self.pipeline_run(context))
        self.log.info("Selected: %s", result["counts"])
        return batches(result["batches"])


class ConsonanceTitleMetadataPushOperator(_TitleStep):
    """Push title metadata from Consonance onto the matching Smint.io assets, once per title revision.

    Why: designers search Smint.io by title, contributor, ISBN, imprint, format, publication date,
    BISAC subject and campaign milestone; Consonance is where those are kept. Each matched asset
    gets them as metadata and tags (:func:`contentops.pipelines.titles.push_metadata`), one
    ``run.deliver_once`` per asset, title revision and publication phase.

    :param batch: Consonance work ids (one batch of :class:`ConsonanceSelectTitlesOperator`)
    :returns: counts (``metadata_pushed``, ``metadata_updated``, ``metadata_unchanged``…)

    Example::

        ConsonanceTitleMetadataPushOperator(task_id="push_one", batch=["1001"], match_rules=["isbn"])
    """

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import titles

        return titles.push_metadata(self.pipeline_run(context), self.work_ids())


class ConsonanceSurfaceLatestOperator(_TitleStep):
    """For revised / reissued / repackaged titles: surface the latest approved Smint.io asset of each
    slot and retire the outdated ones (only those), once per title revision.

    Why: after a revision the old cover must stop being used, and only the old one
    (:func:`contentops.pipelines.titles.surface_latest`); the outdated asset is also detached from
    the title in Consonance. Run it before :class:`ConsonanceAttachAssetsOperator`, so the
    attachment step sees the surfaced asset.

    :param batch: Consonance work ids
    :returns: counts (``titles_refreshed``, ``surfaced``, ``retired``, ``detached``…)

    Example::

        ConsonanceSurfaceLatestOperator.partial(task_id="surface_latest").expand(batch=titles.output)

    With ``outlets=[REMOVALS]`` a retirement also emits ``contentops://asset-removals``, so
    ``delivery_compliance`` takes the retired asset's copies back from every partner.
    """

    removal_counts = ("retired",)

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import titles

        run = self.pipeline_run(context)
        counts = titles.surface_latest(run, self.work_ids())
        self.announce_removals(context, run, counts)
        return counts


class ConsonanceAttachAssetsOperator(_TitleStep):
    """Attach the approved Smint.io assets of each title to its Consonance record, rights-gated.

    Why: the title record should hold its covers, jackets, author photos and promo graphics with
    their usage-rights summary, paired per format with the edition's release timing — but only
    when the license allows the use in every territory and on the channel of the edition, today
    and on the publication date (:func:`contentops.pipelines.titles.attach_assets`). Refusals are
    recorded with their reasons; each attachment is one ``run.deliver_once``.

    :param batch: Consonance work ids
    :returns: counts (``attached``, ``attachment_updated``, ``refused``…)

    Example::

        ConsonanceAttachAssetsOperator(task_id="attach", batch=["1001", "1002"], consonance_conn_id="cons_uk")
    """

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import titles

        return titles.attach_assets(self.pipeline_run(context), self.work_ids())


class ConsonanceAttachOnRequestOperator(ContentOpsOperator):
    """Attach one approved Smint.io asset to one title, manuscript or production task on request.

    Why: an editor asks for a particular asset on a title from the run's form (the ``isbn`` and
    ``asset_id`` Params; ``target_kind`` / ``target_id`` for a manuscript or production task).
    The asset is rights-gated for the title's territories and publication date and attached once
    (:func:`contentops.pipelines.titles.attach_on_request`); the ledger then links it to the title
    so the title's push reaches it. Without a request it does nothing. An asset id that does not
    exist fails the task (a person must correct the request).

    :param isbn: the title's ISBN (default: the DAG's Param)
    :param asset_id: the Smint.io asset to attach (default: the DAG's Param)
    :param target_kind: ``title``, ``manuscript`` or ``production_task``
    :param target_id: the manuscript or production task id (other kinds than ``title``)
    :returns: ``{outcome: 1}`` (e.g. ``attached``, ``refused``) or ``{}`` without a request

    Example::

        ConsonanceAttachOnRequestOperator(task_id="attach_cover", isbn="978-1-4028-9462-6", asset_id="asset-7")
    """

    conn_id_fields = ("smintio_conn_id", "consonance_conn_id")
    param_fields: ClassVar[dict[str, Callable[[Any], Any]]] = {
        **TITLE_SETTINGS,
        "isbn": str,
        "asset_id": str,
        "target_kind": str,
        "target_id": str,
    }

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import titles

        return titles.attach_on_request(self.pipeline_run(context))


class ConsonanceAttachRequestedOperator(ContentOpsOperator):
    """Attach the approved Smint.io assets that name a Consonance task or manuscript, once each.

    Why: from Smint.io's side, a designer marks an asset for a production task or manuscript
    (metadata ``consonance_task`` / ``consonance_manuscript``, or a ``consonance-task:<id>`` /
    ``consonance-manuscript:<id>`` tag); the run that sees the asset change attaches it there,
    rights-gated (:func:`contentops.pipelines.titles.attach_requested_in_smintio`).

    :returns: counts per outcome

    Example::

        ConsonanceAttachRequestedOperator(task_id="attach_requested_in_smintio")
    """

    conn_id_fields = ("smintio_conn_id", "consonance_conn_id")
    param_fields: ClassVar[dict[str, Callable[[Any], Any]]] = TITLE_SETTINGS

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import titles

        return titles.attach_requested_in_smintio(self.pipeline_run(context))
