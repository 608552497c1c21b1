"""The OpenText Workflow, Trading Grid, Exstream and campaign release operators.

Without network (``unit``): every operator constructs with its typed arguments, renders its
templated fields, hands its connection ids and step settings to the run over the DAG's Params,
and works on its own window span. Against sandboxes and a real ledger (``contract``): operators
that write return their documented summary, and a second ``execute`` of the same run writes nothing again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contentops.operators.campaign import (
    CampaignCollectOperator,
    CampaignDeliverOperator,
    CampaignFinalizeOperator,
    CampaignGateOperator,
    CampaignPlanOperator,
)
from contentops.operators.exstream import (
    ExstreamChangedImagesOperator,
    ExstreamFeedbackOperator,
    ExstreamImagePublishOperator,
    ExstreamLocalizedVariantsOperator,
    ExstreamReplaceForReviewOperator,
    ExstreamReviewOutcomeOperator,
    LocalizedImagePublishOperator,
)
from contentops.operators.opentext_workflow import (
    CampaignApprovalStartOperator,
    CreativeRequestMatchOperator,
    DamOnboardingStartOperator,
    LocalizationReviewStartOperator,
    LocalizationReviewSyncOperator,
)
from contentops.operators.steps import PipelineStepOperator
from contentops.operators.trading_grid import (
    TradingGridCaseIntakeOperator,
    TradingGridCaseReplyOperator,
    TradingGridLaunchKitOperator,
    TradingGridSignoffAnswersOperator,
    TradingGridSignoffPostOperator,
)

#: every operator of these modules -> the arguments it requires
OPERATORS: dict[type[PipelineStepOperator], dict[str, Any]] = {
    CampaignPlanOperator: {},
    CampaignCollectOperator: {},
    CampaignGateOperator: {},
    CampaignDeliverOperator: {"system": "vip", "batch": [["spring-launch-2027", "asset-spring-08"]]},
    CampaignFinalizeOperator: {},
    TradingGridLaunchKitOperator: {},
    TradingGridSignoffPostOperator: {},
    TradingGridSignoffAnswersOperator: {},
    TradingGridCaseIntakeOperator: {},
    TradingGridCaseReplyOperator: {"case_ids": ["case-1"]},
    ExstreamImagePublishOperator: {"batch": [["spring-launch-2027", "asset-spring-08"]]},
    ExstreamReviewOutcomeOperator: {},
    ExstreamFeedbackOperator: {},
    ExstreamChangedImagesOperator: {},
    ExstreamReplaceForReviewOperator: {"asset_ids": ["asset-spring-08"]},
    ExstreamLocalizedVariantsOperator: {},
    LocalizedImagePublishOperator: {},
    CampaignApprovalStartOperator: {"batch": [["spring-launch-2027", "asset-spring-08"]]},
    CreativeRequestMatchOperator: {},
    DamOnboardingStartOperator: {},
    LocalizationReviewStartOperator: {"refs": ["vip:return-1"]},
    LocalizationReviewSyncOperator: {},
}
#: connection-id argument -> the system whose hook it names
SYSTEM_OF = {
    "smintio_conn_id": "smintio",
    "workflow_conn_id": "workflow",
    "vip_conn_id": "vip",
    "trading_grid_conn_id": "trading_grid",
    "exstream_conn_id": "exstream",
}
MODULES = (
    "contentops.operators.campaign",
    "contentops.operators.trading_grid",
    "contentops.operators.exstream",
    "contentops.operators.opentext_workflow",
)


def _context(params: dict[str, Any], *, interval: tuple[datetime, datetime] | None = None, **extra: Any) -> dict:
    """What Airflow hands ``execute``, as far as these operators read it."""
    end = datetime(2027, 3, 1, 12, tzinfo=UTC)
    dag_run = SimpleNamespace(dag_id="ops_b_test", run_id="manual__ops_b", run_type="manual", conf={}, run_after=end)
    context: dict[str, Any] = {"dag_run": dag_run, "params": params, "logical_date": end, **extra}
    if interval is not None:
        context["data_interval_start"], context["data_interval_end"] = interval
    return context


def _build(cls: type[PipelineStepOperator], **kwargs: Any) -> PipelineStepOperator:
    return cls(task_id=f"op_{cls.__name__.lower()}", **{**OPERATORS[cls], **kwargs})


# ----------------------------------------------------------------------------------- unit


@pytest.mark.unit
@pytest.mark.parametrize("cls", list(OPERATORS), ids=lambda c: c.__name__)
def test_each_operator_is_documented_with_an_example_and_templates_its_arguments(
    cls: type[PipelineStepOperator],
) -> None:
    assert cls.__doc__ and re.search(r"\n\s*Example[^\n]*::\n", cls.__doc__), cls.__name__
    assert cls.__module__ in MODULES
    fields = set(cls.template_fields)
    assert {"dry_run", "ledger_conn_id", "ledger_pipeline", *cls.conn_id_fields, *cls.param_fields} <= fields
    for name in OPERATORS[cls]:  # the step's own inputs take templates and XComs
        assert name in fields, (cls.__name__, name)
    assert cls.conn_id_fields, cls.__name__


@pytest.mark.unit
@pytest.mark.parametrize("cls", list(OPERATORS), ids=lambda c: c.__name__)
def test_templated_connection_ids_reach_the_hooks_over_the_dags_params(cls: type[PipelineStepOperator]) -> None:
    templated = {field: f"{{{{ params.team }}}}_{SYSTEM_OF[field]}" for field in cls.conn_id_fields}
    operator = _build(cls, **templated, dry_run="{{ params.rehearse }}")
    # the DAG's Params name other connections: the operator's own win
    params = {"team": "emea", "rehearse": True, **{field: "dag_default" for field in SYSTEM_OF}}
    context = _context(params)
    operator.render_template_fields(context)
    run = operator.pipeline_run(context)
    for field in cls.conn_id_fields:
        assert getattr(operator, field) == f"emea_{SYSTEM_OF[field]}"
        assert run.hook(SYSTEM_OF[field]).conn_id == f"emea_{SYSTEM_OF[field]}"  # type: ignore[call-overload]
    assert run.dry_run is True  # "True" rendered from the template
    for field in set(SYSTEM_OF) - set(cls.conn_id_fields):
        assert run.params[field] == "dag_default"  # a connection the operator does not take stays the DAG's


@pytest.mark.unit
def test_a_connection_left_unset_is_the_dags_param() -> None:
    operator = _build(TradingGridSignoffPostOperator)
    run = operator.pipeline_run(_context({"trading_grid_conn_id": "grid_from_the_form"}))
    assert run.hook("trading_grid").conn_id == "grid_from_the_form"
    assert run.hook("smintio").conn_id == "smintio_default"  # neither: the hook's default connection


@pytest.mark.unit
def test_step_settings_override_the_params_of_the_same_name_only_when_given() -> None:
    params = {"kit_tag": "brand", "kit_name": "brand-kit", "communities": [], "region": "dach"}
    given = _build(TradingGridSignoffPostOperator, kit_name="{{ params.region }}-kit", communities=["community-dach"])
    context = _context(params)
    given.render_template_fields(context)
    run = given.pipeline_run(context)
    assert run.params["kit_name"] == "dach-kit" and run.params["communities"] == ["community-dach"]
    assert run.params["kit_tag"] == "brand"  # not given: the Param decides
    plan = _build(CampaignPlanOperator, regions=["dach"], targets=["exstream"])
    run = plan.pipeline_run(_context({"campaign": "spring-launch-2027", "regions": [], "targets": ["vip"]}))
    assert (run.params["campaign"], run.params["regions"], run.params["targets"]) == (
        "spring-launch-2027",
        ["dach"],
        ["exstream"],
    )


@pytest.mark.unit
def test_a_manual_run_looks_back_the_operators_default_span() -> None:
    end = datetime(2027, 3, 1, 12, tzinfo=UTC)
    short = _build(TradingGridCaseIntakeOperator, default_span=timedelta(minutes=30)).pipeline_run(_context({}))
    assert (short.window.start, short.window.end) == (end - timedelta(minutes=30), end)
    default = _build(TradingGridCaseIntakeOperator).pipeline_run(_context({}))
    assert default.window.end - default.window.start == timedelta(days=1)  # PipelineRun's own default
    interval = (end - timedelta(hours=3), end)
    scheduled = _build(TradingGridCaseIntakeOperator, default_span=timedelta(minutes=30))
    run = scheduled.pipeline_run(_context({}, interval=interval))
    assert (run.window.start, run.window.end) == interval  # a data interval always wins


@pytest.mark.unit
def test_a_step_may_continue_another_pipelines_deliveries() -> None:
    """The ledger keys deliveries by pipeline: by default the DAG's own, or the one the operator names."""
    own = _build(ExstreamImagePublishOperator).pipeline_run(_context({}))
    assert own.dag_id == "ops_b_test"
    shared = _build(ExstreamImagePublishOperator, ledger_pipeline="{{ params.pipeline }}")
    context = _context({"pipeline": "campaign_release"})
    shared.render_template_fields(context)
    assert shared.pipeline_run(context).dag_id == "campaign_release"


@pytest.mark.unit
def test_the_image_publish_is_the_campaign_delivery_to_exstream_only() -> None:
    operator = _build(ExstreamImagePublishOperator, system="vip")  # a stray system argument is ignored
    assert isinstance(operator, CampaignDeliverOperator) and operator.system == "exstream"


@pytest.mark.unit
def test_mapped_operators_expand_over_their_inputs() -> None:
    from airflow.sdk import DAG

    with DAG("ops_b_mapping", schedule=None, start_date=datetime(2027, 1, 1)):
        work = [{"system": "vip", "batch": [["c", "a"]]}, {"system": "exstream", "batch": [["c", "b"]]}]
        deliver = CampaignDeliverOperator.partial(task_id="deliver").expand_kwargs(work)
        replies = TradingGridCaseReplyOperator.partial(task_id="reply").expand(case_ids=[["case-1"], ["case-2"]])
    assert deliver.operator_class is CampaignDeliverOperator
    assert replies.expand_input.value == {"case_ids": [["case-1"], ["case-2"]]}


@pytest.mark.unit
def test_the_provider_lists_the_operator_modules() -> None:
    import importlib

    from contentops.provider_info import get_provider_info

    info = get_provider_info()
    integrations = {entry["integration-name"] for entry in info["integrations"]}
    listed = {module for entry in info["operators"] for module in entry["python-modules"]}
    assert set(MODULES) <= listed
    for entry in info["operators"]:
        assert entry["integration-name"] in integrations
    for module in MODULES:
        importlib.import_module(module)


@pytest.mark.dags
def test_every_operator_is_used_by_a_project_dag_or_the_example() -> None:
    from airflow.dag_processing.dagbag import DagBag

    root = Path(__file__).resolve().parents[2]
    used: set[type] = set()
    for folder in (root / "dags", root / "docs" / "examples"):
        bag = DagBag(dag_folder=str(folder))
        assert bag.import_errors == {}
        for dag in bag.dags.values():
            used.update(getattr(task, "operator_class", type(task)) for task in dag.tasks)
    assert set(OPERATORS) - used == set()


# ----------------------------------------------------------------------- against sandboxes


@pytest.fixture
def systems(
    airflow_db: Path, sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """Smint.io, Workflow Service and Trading Grid sandboxes on their default connections, a ledger,
    and Airflow's database: the operators run in ``dag.test()``, as a task runs them (a rotated
    refresh token is kept in a Variable between tasks, as in production)."""
    from contentops.ledger import Ledger
    from contentops_sandbox import connections
    from contentops_sandbox.registry import SANDBOXES

    builders = {
        "smintio": connections.smintio_connection,
        "workflow": connections.opentext_workflow_connection,
        "trading_grid": connections.trading_grid_connection,
    }
    running: dict[str, Any] = {}
    for name, build in builders.items():
        options = {"options": {"seeded_transactions": 120}} if name == "smintio" else {}
        running[name] = sandbox(name, **options)
        conn = build(running[name].url, backoff_max=0.05)
        monkeypatch.setenv(f"AIRFLOW_CONN_{SANDBOXES[name].conn_id.upper()}", json.dumps(conn))
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": url}})
    )
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(url)
    ledger.migrate()
    yield {**running, "ledger": ledger}


#: the DAGs the contract tests run (their own file: dag.test() runs what a DAG file declares)
STEP_DAGS = Path(__file__).resolve().parents[1] / "e2e" / "dags" / "operator_steps.py"


def _dag_test(dag_id: str) -> dict[str, Any]:
    """Run one DAG of :data:`STEP_DAGS`; its task instances by task id."""
    from airflow.dag_processing.dagbag import DagBag

    run = DagBag(dag_folder=str(STEP_DAGS)).dags[dag_id].test()
    return {ti.task_id: ti for ti in run.get_task_instances()}


def _result(tis: dict[str, Any], task_id: str) -> Any:
    assert tis[task_id].state == "success", (task_id, tis[task_id].state)
    return tis[task_id].xcom_pull(task_ids=task_id)


@pytest.mark.contract
def test_the_plan_operator_plans_the_campaign_it_is_given(systems: dict[str, Any]) -> None:
    tis = _dag_test("operator_steps_plan")
    assert _result(tis, "plan") == {"campaigns": ["spring-launch-2027"], "count": 1}
    trail = systems["ledger"].audit_trail(pipeline="operator_steps_plan")
    (entry,) = [e for e in trail if e.action == "release_planned"]
    assert entry.details["plan"]["regions"] == ["dach"] and entry.details["plan"]["targets"] == ["exstream"]
    assert tis["plan_a_typo"].state == "failed"  # a campaign Smint.io does not know releases nothing


@pytest.mark.contract
def test_onboarding_starts_one_workflow_per_incoming_asset_once(systems: dict[str, Any]) -> None:
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

    until = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    rights = {"regions": ["worldwide"], "channels": ["online"], "valid_until": until, "editorial_only": False}
    OpenTextWorkflowHook().start_instance(
        "dam_ingest",
        name="Bynder batch",
        variables={
            "source_dam": "bynder",
            "assets": [
                {"source_id": "by-1", "name": "Shot 1", "content_type": "image/jpeg", "license": rights},
                {"name": "no source id", "content_type": "image/jpeg"},
            ],
        },
    )

    tis = _dag_test("operator_steps_onboarding")
    assert _result(tis, "dry") == []  # a dry run starts nothing
    started = _result(tis, "start")
    assert len(started) == 1  # the invalid asset is quarantined, not started
    # the batch was handed over (its task completed): a re-run finds nothing left to start
    assert _result(tis, "start_again") == []
    onboarding = [i for i in systems["workflow"].context.store.all("instance") if "dam_onboarding" in json.dumps(i)]
    assert [i["id"] for i in onboarding] == started
    assert {row.kind for row in systems["ledger"].quarantined()} == {"incoming_asset"}  # the one without an id


@pytest.mark.contract
def test_the_signoff_post_sends_each_kit_once_and_reports_counts(systems: dict[str, Any]) -> None:
    tis = _dag_test("operator_steps_signoff")
    assert not _result(tis, "dry").get("kits_sent")  # a dry run posts nothing
    first = _result(tis, "post")
    assert first["kits_sent"] == 1 and first["kit_assets"] >= 1
    assert json.loads(json.dumps(first)) == first  # a small, JSON-able XCom
    again = _result(tis, "post_again")
    assert not again.get("kits_sent") and again["kits_unchanged"] == 1
    requests = systems["trading_grid"].context.store.all("signoff")
    assert len(requests) == 1  # one sign-off request, whatever ran twice
    assert _result(tis, "answers").get("awaiting_signoff", 0) >= 1  # nobody answered yet
