"""What the OpenText, Trading Grid, Exstream and campaign operators add to the shared base.

:class:`~contentops.operators.base.ContentOpsOperator` gives every operator its run, its
connection ids over the DAG's Params and ``dry_run``. The steps these operators wrap also need:

- **the window of a manual run.** A run without a data interval (a manual trigger, an Asset
  event) looks back a *span* from when it was started; each pipeline has its own span (15
  minutes for the localization loop, a day for the campaign release): the base's
  ``default_span``;
- **step settings that the pipelines read from the Params** (``domains``, ``max_file_mb`` …):
  the base's ``param_fields`` — an operator argument of that name, when set, wins over the
  DAG's Param, exactly as a connection id does, so the operator also works in a DAG that has no
  such Param;
- **the ledger scope** (``ledger_pipeline``). The ledger keys every delivery by pipeline, asset,
  version and target, the pipeline being the DAG's id: a retry or re-run of the same DAG sends
  only what is missing. A DAG that continues another pipeline's deliveries (re-publishing what
  ``campaign_release`` published) names that pipeline, so what it already holds is skipped or
  updated instead of sent a second time.

Kept apart from ``base.py`` (which another module owns) so the base stays what every operator shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from contentops.operators.base import ContentOpsOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from contentops.pipelines.runtime import PipelineRun


class PipelineStepOperator(ContentOpsOperator):
    """An operator running one step of :mod:`contentops.pipelines` in the task's run.

    ``param_fields`` (names only) are the operator attributes that, when set, override the DAG's
    Param of the same name for this task (the step reads them from ``run.params``); the base
    applies them, as it applies ``default_span``.
    """

    param_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, ledger_pipeline: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ledger_pipeline = ledger_pipeline

    def pipeline_run(self, context: Context) -> PipelineRun:
        """The base's run, in this step's ledger scope."""
        run = super().pipeline_run(context)
        if self.ledger_pipeline:
            run.dag_id = str(self.ledger_pipeline)
        return run

    def log_counts(self, what: str, counts: Mapping[str, int]) -> None:
        """One log line a person can read in the task's log, whatever the step returns as XCom."""
        described = ", ".join(f"{key} {value}" for key, value in sorted(counts.items())) or "nothing"
        self.log.info("%s: %s", what, described)


def template_fields_of(*names: str) -> tuple[str, ...]:
    """The base's templated fields followed by ``names`` (each once, in order)."""
    return tuple(dict.fromkeys((*ContentOpsOperator.template_fields, "ledger_pipeline", *names)))
