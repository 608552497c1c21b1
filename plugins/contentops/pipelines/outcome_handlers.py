"""What a pipeline tells the workflow-outcomes pipeline about the workflows it starts.

A pipeline that starts OpenText workflows does not wait for them: each human answer is applied
as soon as its instance ends, by the ``workflow_outcomes`` pipeline, which polls every process
of ours the ledger holds as started and not yet applied. For each, it asks the handlers (in
order) which one owns the process's workflow definition, calls ``while_open`` on every poll
while the instance runs (e.g. to sync comments both ways) and ``apply`` once when it has ended.

A handler is declared where its pipeline lives, next to the code that starts the workflow, and
listed once in the outcomes pipeline's registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contentops.ledger import ProcessRecord
    from contentops.models.opentext_workflow import WorkflowInstance
    from contentops.pipelines.runtime import PipelineRun

#: called once for an ended instance; returns a short note for the run report (e.g. "renew")
ApplyOutcome = Callable[["PipelineRun", "ProcessRecord", "WorkflowInstance"], str]
#: called on each poll while the instance is open
WhileOpen = Callable[["PipelineRun", "ProcessRecord", "WorkflowInstance"], None]


@dataclass(frozen=True)
class OutcomeHandler:
    """How the outcome of one kind of workflow is applied.

    ``owns`` decides by the workflow definition key recorded in the ledger (agency clients'
    approval models have their own keys, so a fixed key would not do)."""

    name: str
    owns: Callable[[str], bool]
    apply: ApplyOutcome
    while_open: WhileOpen | None = None
