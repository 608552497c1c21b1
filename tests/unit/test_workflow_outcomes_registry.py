"""workflow_outcomes' registry, exactly-once apply and escalation (issue 13 item 2), on a real
ledger and a stand-in Workflow Service that keeps instances in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contentops.ledger import Ledger, ProcessRecord
from contentops.models.opentext_workflow import WorkflowInstance
from contentops.pipelines import workflow_outcomes as outcomes
from contentops.pipelines.outcome_handlers import OutcomeHandler
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SETTINGS = outcomes.OutcomeSettings(
    escalations={"slow_review": outcomes.Escalation(after_days=3, workflow="slow_review_escalation")}
)


class Workflows:
    """The Workflow Service as the outcomes pipeline and ``start_workflow_once`` use it."""

    system = "opentext_workflow"

    def __init__(self) -> None:
        self.instances: dict[str, WorkflowInstance] = {}

    def add(self, definition: str, key: str, *, started: datetime = NOW, **fields: Any) -> WorkflowInstance:
        instance = WorkflowInstance.model_validate(
            {
                "id": f"pi-{len(self.instances) + 1}",
                "processDefinitionKey": definition,
                "businessKey": key,
                "startTime": started.isoformat(),
                **fields,
            }
        )
        self.instances[instance.id] = instance
        return instance

    def end(self, instance_id: str, outcome: str) -> None:
        self.instances[instance_id] = self.instances[instance_id].model_copy(
            update={"ended": True, "completed": True, "outcome": outcome}
        )

    def get_instance(self, instance_id: str) -> WorkflowInstance:
        return self.instances[instance_id]

    def find_instances(self, *, business_key: str | None = None, definition_key: str | None = None) -> list[Any]:
        return [i for i in self.instances.values() if i.business_key == business_key]

    def start_instance(self, definition: str, *, name: str, business_key: str, variables: Any = None) -> Any:
        return self.add(definition, business_key, variables=variables or {})


def _run(ledger: Ledger, workflows: Workflows, run_id: str, *, day: float = 0, **params: Any) -> PipelineRun:
    end = NOW + timedelta(days=day)
    run = PipelineRun("workflow_outcomes", run_id, RunWindow(end - timedelta(minutes=10), end), params, ledger=ledger)
    run._hooks["workflow"] = workflows
    return run


def _started(ledger: Ledger, workflows: Workflows, definition: str, key: str, **fields: Any) -> WorkflowInstance:
    """What a starting pipeline leaves: the instance, and the ledger's process with its id."""
    instance = workflows.add(definition, key, **fields)
    assert ledger.claim_process(key, "opentext_workflow", definition, run_id="starter")
    ledger.update_process(key, instance_id=instance.id, status=instance.state)
    return instance


class Calls:
    def __init__(self) -> None:
        self.applied: list[str] = []
        self.polled: list[str] = []

    def handler(self, *, fail_first: bool = False) -> OutcomeHandler:
        failures = [fail_first]

        def apply(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> str:
            if failures.pop() if failures else False:
                raise RuntimeError("partner down")
            self.applied.append(record.business_key)
            return instance.outcome or ""

        def while_open(run: PipelineRun, record: ProcessRecord, instance: WorkflowInstance) -> None:
            self.polled.append(record.business_key)

        return OutcomeHandler("slow", owns=lambda d: d == "slow_review", apply=apply, while_open=while_open)


def test_the_registry_owns_every_workflow_the_three_pipelines_start() -> None:
    owner = {
        definition: (handler.name if (handler := outcomes.handler_for(definition)) else None)
        for definition in (
            "rights_renewal",
            "compliance_exception",
            "asset_approval",
            "client_approval_northwind",
            "client_usage_review_northwind",
            "client_escalation_northwind",
            "dam_onboarding",
            "rights_renewal_escalation",
            "some_other_teams_review",
        )
    }
    assert owner == {
        "rights_renewal": "rights_sweep",
        "compliance_exception": "rights_sweep",
        "asset_approval": "campaign_approvals",
        "client_approval_northwind": "campaign_approvals",
        "client_usage_review_northwind": "campaign_approvals",
        "client_escalation_northwind": "campaign_approvals",
        "dam_onboarding": "dam_onboarding",
        "rights_renewal_escalation": "escalations",
        "some_other_teams_review": None,
    }


def test_each_ended_outcome_is_applied_once_and_an_open_one_waits(ledger: Ledger) -> None:
    workflows, calls = Workflows(), Calls()
    quick = _started(ledger, workflows, "slow_review", "slow_review:a-1:v1")
    _started(ledger, workflows, "slow_review", "slow_review:a-2:v1")
    workflows.end(quick.id, "takedown")
    handlers = (calls.handler(),)

    counts = outcomes.apply_outcomes(_run(ledger, workflows, "r1"), handlers=handlers, settings=SETTINGS)
    assert counts["applied"] == 1 and counts["open"] == 1
    assert calls.applied == ["slow_review:a-1:v1"] and calls.polled == ["slow_review:a-2:v1"]
    record = ledger.process("slow_review:a-1:v1")
    assert record is not None and (record.status, record.outcome) == ("applied", "takedown")

    again = outcomes.apply_outcomes(_run(ledger, workflows, "r2"), handlers=handlers, settings=SETTINGS)
    assert "applied" not in again and calls.applied == ["slow_review:a-1:v1"]


def test_two_overlapping_runs_apply_an_outcome_once(ledger: Ledger) -> None:
    workflows = Workflows()
    instance = _started(ledger, workflows, "slow_review", "slow_review:a-1:v1")
    workflows.end(instance.id, "renew")
    assert ledger.claim_outcome("slow_review:a-1:v1", run_id="r1")
    assert not ledger.claim_outcome("slow_review:a-1:v1", run_id="r2")  # r1 applies it
    calls = Calls()
    counts = outcomes.apply_outcomes(_run(ledger, workflows, "r2"), handlers=(calls.handler(),), settings=SETTINGS)
    assert counts == {"applied_elsewhere": 1} and calls.applied == []
    # r1 was killed: once its lease is over (here: made over at once) the next run takes it over
    assert ledger.claim_outcome("slow_review:a-1:v1", run_id="r1", lease=timedelta(seconds=-1))
    counts = outcomes.apply_outcomes(_run(ledger, workflows, "r4"), handlers=(calls.handler(),), settings=SETTINGS)
    assert counts["applied"] == 1 and calls.applied == ["slow_review:a-1:v1"]


def test_a_failed_apply_is_retried_by_the_next_run(ledger: Ledger) -> None:
    workflows, calls = Workflows(), Calls()
    instance = _started(ledger, workflows, "slow_review", "slow_review:a-1:v1")
    workflows.end(instance.id, "renew")
    other = _started(ledger, workflows, "slow_review", "slow_review:a-2:v1")
    workflows.end(other.id, "takedown")
    failing = (calls.handler(fail_first=True),)
    with pytest.raises(outcomes.OutcomesFailed) as failed:
        outcomes.apply_outcomes(_run(ledger, workflows, "r1"), handlers=failing, settings=SETTINGS)
    assert failed.value.counts["apply_failed"] == 1 and failed.value.counts["applied"] == 1
    assert calls.applied == ["slow_review:a-2:v1"]  # the failure held back no other outcome
    record = ledger.process("slow_review:a-1:v1")
    assert record is not None and record.status == "applying" and record.last_error == "RuntimeError: partner down"
    outcomes.apply_outcomes(_run(ledger, workflows, "r2"), handlers=failing, settings=SETTINGS)
    assert calls.applied == ["slow_review:a-2:v1", "slow_review:a-1:v1"]


def test_a_process_no_handler_owns_is_reported_not_dropped(ledger: Ledger) -> None:
    workflows = Workflows()
    _started(ledger, workflows, "unknown_review", "unknown_review:a-1:v1")
    run = _run(ledger, workflows, "r1")
    assert outcomes.apply_outcomes(run, handlers=(Calls().handler(),), settings=SETTINGS) == {"unowned": 1}
    (entry,) = ledger.audit_trail(run_id="r1")
    assert entry.action == "outcome_unowned" and "unknown_review" in entry.details["reason"]
    assert ledger.process("unknown_review:a-1:v1").status != "applied"  # type: ignore[union-attr]


def test_an_open_workflow_escalates_once_after_its_days(ledger: Ledger) -> None:
    workflows, calls = Workflows(), Calls()
    open_one = _started(ledger, workflows, "slow_review", "slow_review:a-1:v1", variables={"asset_id": "a-1"})
    handlers = (calls.handler(),)
    for day in (1, 2.9):
        counts = outcomes.apply_outcomes(
            _run(ledger, workflows, f"d{day}", day=day), handlers=handlers, settings=SETTINGS
        )
        assert "escalated" not in counts
    for run_id in ("d3", "d3-again", "d4"):
        outcomes.apply_outcomes(
            _run(ledger, workflows, run_id, day=3 if "d3" in run_id else 4), handlers=handlers, settings=SETTINGS
        )
    escalations = [i for i in workflows.instances.values() if i.process_definition_key == "slow_review_escalation"]
    (escalation,) = escalations
    assert escalation.business_key == f"slow_review_escalation:{open_one.id}"
    assert escalation.variables["escalated_instance"] == open_one.id and escalation.variables["asset_id"] == "a-1"
    assert [e.action for e in ledger.audit_trail(subject="a-1") if e.action == "escalation_started"] == [
        "escalation_started"
    ]
    # a dry run neither escalates nor applies
    second = _started(ledger, workflows, "slow_review", "slow_review:a-2:v1", started=NOW - timedelta(days=9))
    dry = outcomes.apply_outcomes(_run(ledger, workflows, "dry", dry_run=True), handlers=handlers, settings=SETTINGS)
    assert "escalated" not in dry and f"slow_review_escalation:{second.id}" not in {
        i.business_key for i in workflows.instances.values()
    }


def test_the_escalation_settings_validate() -> None:
    assert outcomes.load_outcome_settings().escalation_for("rights_renewal") == outcomes.Escalation(
        after_days=3, workflow="rights_renewal_escalation"
    )
    with pytest.raises(ValueError):
        outcomes.Escalation(after_days=0, workflow="x")


def test_the_workflows_left_to_their_own_pipelines_are_owned_by_no_handler() -> None:
    """``workflow_outcomes`` leaves these to the pipelines that start them: no registered handler
    may own one too (one applier per workflow)."""
    from contentops.pipelines.workflow_outcomes import APPLIED_BY_THEIR_PIPELINES, handler_for

    assert len(APPLIED_BY_THEIR_PIPELINES) == 4
    assert all(handler_for(definition) is None for definition in APPLIED_BY_THEIR_PIPELINES)
