"""OpenText Exstream operators: image publish and state changes.

- :class:`ExstreamImagePublishOperator` — a campaign's cleared images as APPROVED image resources
  with their rights metadata (:class:`contentops.pipelines.campaign.ExstreamDelivery`);
- :class:`ExstreamChangedImagesOperator` / :class:`ExstreamReplaceForReviewOperator` — images
  whose Smint.io version is newer than what Exstream holds, replaced and put into REVIEW with
  every communication using them, one template review workflow each (EXS-8);
- :class:`ExstreamReviewOutcomeOperator` — the ended template reviews applied: APPROVED again,
  or REJECTED and the asset flagged in Smint.io;
- :class:`ExstreamFeedbackOperator` — production feedback (replace / retire) onto Smint.io, a
  retired image taken out of APPROVED (EXS-3);
- :class:`ExstreamLocalizedVariantsOperator` — the brand team's approved regional and language
  variants in Smint.io as APPROVED images next to their master, with language, region and
  business unit, rights-gated, once per variant version (EXS-6);
- :class:`LocalizedImagePublishOperator` — approved localized variants as APPROVED images by
  region and language, delivered back to the region that sent them (EXS-6).

Every write goes through :meth:`~contentops.pipelines.runtime.PipelineRun.deliver_once` (each
workflow start through the ledger's claim): a re-run changes nothing twice.

Example (the template sync)::

    outcomes = ExstreamReviewOutcomeOperator(task_id="apply_review_outcomes")
    changed = ExstreamChangedImagesOperator(task_id="find_changed", domains=["retail"])
    outcomes >> changed
    ExstreamReplaceForReviewOperator.partial(task_id="replace_and_review").expand(asset_ids=changed.output)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from contentops.operators.base import as_list
from contentops.operators.campaign import RELEASE_CONNECTIONS, CampaignDeliverOperator
from contentops.operators.steps import PipelineStepOperator, template_fields_of

if TYPE_CHECKING:
    from airflow.sdk import Context

SYNC_CONNECTIONS = ("exstream_conn_id", "smintio_conn_id", "workflow_conn_id")
LOCALIZATION_CONNECTIONS = (
    "exstream_conn_id",
    "smintio_conn_id",
    "workflow_conn_id",
    "vip_conn_id",
    "trading_grid_conn_id",
)


class ExstreamImagePublishOperator(CampaignDeliverOperator):
    """Publish one batch of a campaign's cleared images to Exstream: each uploaded to the domains
    the gate cleared it for, with its rights metadata (expiry, regions, segments, campaign),
    moved to APPROVED — once per asset version and domain. A newer version of an image Exstream
    already holds goes through review instead (EXS-8).

    It is :class:`~contentops.operators.campaign.CampaignDeliverOperator` for the ``exstream``
    target; it works on the gate's clearances of this run. Returns the counts (``exstream_create``
    / ``_update`` / ``_skip`` …).

    Example::

        ExstreamImagePublishOperator(task_id="publish_images", batch=[["spring-launch-2027", "asset-spring-08"]])
    """

    template_fields: Sequence[str] = template_fields_of(*RELEASE_CONNECTIONS, "batch")

    def __init__(self, *, batch: list[list[str]], **kwargs: Any) -> None:
        kwargs.pop("system", None)
        super().__init__(system="exstream", batch=batch, **kwargs)


class ExstreamSyncOperator(PipelineStepOperator):
    """A template-sync step: Exstream, the Smint.io assets behind its images, and the review workflows.

    ``domains`` left ``None`` is the DAG's Param of that name (every domain without one).
    """

    conn_id_fields: ClassVar[tuple[str, ...]] = SYNC_CONNECTIONS
    param_fields: ClassVar[tuple[str, ...]] = ("domains",)
    template_fields: Sequence[str] = template_fields_of(*SYNC_CONNECTIONS, "domains")

    def __init__(
        self,
        *,
        domains: list[str] | None = None,
        exstream_conn_id: str | None = None,
        smintio_conn_id: str | None = None,
        workflow_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exstream_conn_id=exstream_conn_id,
            smintio_conn_id=smintio_conn_id,
            workflow_conn_id=workflow_conn_id,
            **kwargs,
        )
        self.domains = domains


class ExstreamReviewOutcomeOperator(ExstreamSyncOperator):
    """Apply every ended template review: the image and its communications APPROVED again, or
    REJECTED and the asset flagged in Smint.io; open reviews are counted and left for a later run.

    Returns the counts (``reviews_approved`` / ``reviews_rejected``, ``resources_approved`` …,
    ``reviews_pending``).

    Example::

        ExstreamReviewOutcomeOperator(task_id="apply_review_outcomes", exstream_conn_id="exstream_eu")
    """

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import exstream_template_sync as steps

        counts = steps.apply_review_outcomes(self.pipeline_run(context))
        self.log_counts("Template reviews", counts)
        return counts


class ExstreamFeedbackOperator(ExstreamSyncOperator):
    """Take production's feedback on images since the last run: a replacement request puts the
    asset back in review in Smint.io, a retirement retires it there and takes the resource out
    of APPROVED. Malformed feedback is quarantined. With ``outlets=[REMOVALS]`` a retirement
    also emits ``contentops://asset-removals`` (every other partner's copy is taken back).

    Returns the counts (``feedback_replace`` / ``feedback_retire``, ``quarantined`` …).

    Example::

        ExstreamFeedbackOperator(task_id="collect_feedback", domains=["retail", "banking"])
    """

    removal_counts = ("feedback_retire",)

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import exstream_template_sync as steps

        run = self.pipeline_run(context)
        counts = steps.collect_feedback(run)
        self.log_counts("Production feedback", counts)
        self.announce_removals(context, run, counts)
        return counts


class ExstreamChangedImagesOperator(ExstreamSyncOperator):
    """Find the assets delivered to Exstream whose Smint.io version has changed since the last run.

    Returns batches of asset ids, ``[[id, …], …]`` (for ``expand(asset_ids=…)``); counts are logged.

    Example::

        ExstreamChangedImagesOperator(task_id="find_changed")
    """

    def execute(self, context: Context) -> list[list[str]]:
        from contentops.pipelines import exstream_template_sync as steps

        found = steps.find_changed(self.pipeline_run(context))
        self.log_counts("Changed images", found["counts"])
        return found["batches"]


class ExstreamReplaceForReviewOperator(ExstreamSyncOperator):
    """Replace each changed image's content in Exstream (a new version) and put the image and
    every communication using it into REVIEW; one template review workflow per resource and version.

    Returns the counts (``replaced``, ``communications_in_review``, ``reviews_started`` …).

    Example::

        ExstreamReplaceForReviewOperator(task_id="replace", asset_ids=["asset-spring-08"])
    """

    template_fields: Sequence[str] = template_fields_of(*SYNC_CONNECTIONS, "domains", "asset_ids")

    def __init__(self, *, asset_ids: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asset_ids = asset_ids

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import exstream_template_sync as steps

        counts = steps.replace_and_review(self.pipeline_run(context), [str(a) for a in as_list(self.asset_ids)])
        self.log_counts("Replaced for review", counts)
        return counts


class ExstreamLocalizedVariantsOperator(ExstreamSyncOperator):
    """Publish the brand team's localized variants Smint.io changed since the last run: each
    approved variant of a master (a derivative naming a language or region) whose license allows
    it becomes an APPROVED image in every domain its master was delivered to, with its language,
    region, business unit and master in its metadata — what a communication's localized version
    selects by. Once per variant version; the variants partners returned are left to the
    localization return loop.

    Returns the counts (``published``, ``refused``, ``no_license``, ``master_not_in_exstream``,
    ``already_published`` …).

    Example::

        ExstreamLocalizedVariantsOperator(task_id="publish_localized_variants", domains=["retail"])
    """

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import exstream_localized

        counts = exstream_localized.publish_variants(self.pipeline_run(context))
        self.log_counts("Localized variants", counts)
        return counts


class LocalizedImagePublishOperator(PipelineStepOperator):
    """Apply every ended regional localization review: the decision lands on the Smint.io variant;
    an approved variant becomes an APPROVED Exstream image in ``exstream_domain`` with its region
    and language, and goes back to the region that sent it (VIP media / a Trading Grid reply).

    ``exstream_domain`` left ``None`` is the DAG's Param of that name (``retail`` without one).
    Returns the counts (``review_approved``, ``exstream_published``, ``delivered_back`` …).

    Example::

        LocalizedImagePublishOperator(task_id="apply_reviews", exstream_domain="retail")
    """

    conn_id_fields: ClassVar[tuple[str, ...]] = LOCALIZATION_CONNECTIONS
    param_fields: ClassVar[tuple[str, ...]] = ("exstream_domain",)
    template_fields: Sequence[str] = template_fields_of(*LOCALIZATION_CONNECTIONS, "exstream_domain")

    def __init__(
        self,
        *,
        exstream_domain: str | None = None,
        exstream_conn_id: str | None = None,
        smintio_conn_id: str | None = None,
        workflow_conn_id: str | None = None,
        vip_conn_id: str | None = None,
        trading_grid_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            exstream_conn_id=exstream_conn_id,
            smintio_conn_id=smintio_conn_id,
            workflow_conn_id=workflow_conn_id,
            vip_conn_id=vip_conn_id,
            trading_grid_conn_id=trading_grid_conn_id,
            **kwargs,
        )
        self.exstream_domain = exstream_domain

    def execute(self, context: Context) -> dict[str, int]:
        from contentops.pipelines import localization

        run = self.pipeline_run(context)
        counts = localization.apply_reviews(run, exstream_domain=str(run.params.get("exstream_domain") or "retail"))
        self.log_counts("Localization reviews", counts)
        return counts
