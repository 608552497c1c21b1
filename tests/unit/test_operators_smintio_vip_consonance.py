"""The operators of Smint.io, the rights gate and sweep, VIP, Consonance and usage, one by one.

Each operator is executed outside a DAG against real sandboxes over HTTP and a real SQLite ledger:
its templated fields render, a connection id given to the operator (not the default) is the one
its hook uses, and ``execute`` returns the small summary its docstring promises. Writes are run
twice: the second run sends nothing (the ledger's exactly-once contract holds whatever calls it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from contentops.ledger import Ledger
from contentops_sandbox.connections import consonance_connection, smintio_connection, vip_connection

# marked contract, not unit: most of these talk real HTTP to the sandboxes (the "unit" marker
# promises no network)
pytestmark = pytest.mark.contract

#: connection ids no DAG uses: only an operator's override can lead a hook to them
SMINTIO_CONN = "smintio_operator_test"
VIP_CONN = "vip_operator_test"
CONSONANCE_CONN = "consonance_operator_test"
SEEDED = 36


def context(
    params: dict[str, Any] | None = None, *, run_id: str = "run-1", span: timedelta = timedelta(days=400)
) -> dict[str, Any]:
    """What Airflow hands ``execute``, as far as the operators read it: the run, its Params and window."""
    end = datetime.now(UTC) + timedelta(minutes=1)
    dag_run = SimpleNamespace(dag_id="operator_test", run_id=run_id, conf={}, run_type="manual", run_after=end)
    return {
        "dag_run": dag_run,
        "run_id": run_id,
        "params": dict(params or {}),
        "data_interval_start": end - span,
        "data_interval_end": end,
        "logical_date": end,
    }


def rendered(operator: Any, ctx: dict[str, Any]) -> Any:
    operator.render_template_fields(ctx)
    return operator


@pytest.fixture
def ledger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Ledger:
    """A fresh SQLite ledger as the default ledger connection (what the operators open)."""
    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": url}})
    )
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(url)
    ledger.migrate()
    return ledger


@pytest.fixture(autouse=True)
def rotated_tokens(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Rotated refresh tokens kept for the whole test, as the Airflow Variable keeps them between
    tasks: outside a task there is no Variable backend, and each operator builds hooks of its own
    (the sandboxes, like Smint.io and VIP, spend a refresh token on use)."""
    from contentops.hooks.base import RefreshTokenStore

    kept: dict[str, str] = {}
    monkeypatch.setattr(RefreshTokenStore, "load", lambda self: kept.get(self.key))
    monkeypatch.setattr(RefreshTokenStore, "reload", lambda self: kept.get(self.key))
    monkeypatch.setattr(RefreshTokenStore, "save", lambda self, token: kept.__setitem__(self.key, token))
    return kept


@pytest.fixture
def systems(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Factory: ``systems("smintio", "vip")`` starts those sandboxes, each behind a connection id of
    its own (not the default one, which points nowhere), and returns them by name."""
    builders = {
        "smintio": (SMINTIO_CONN, smintio_connection, {"options": {"seeded_transactions": SEEDED}}),
        "vip": (VIP_CONN, vip_connection, {}),
        "consonance": (CONSONANCE_CONN, consonance_connection, {}),
    }

    def start(*names: str) -> dict[str, Any]:
        running: dict[str, Any] = {}
        for name in names:
            conn_id, build, config = builders[name]
            running[name] = sandbox(name, **config)
            conn = build(running[name].url, backoff_max=0.05)
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
            nowhere = build("http://127.0.0.1:9", backoff_max=0.01, max_attempts=1)
            monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}_DEFAULT", json.dumps(nowhere))
        return running

    return start


def synced(ledger: Ledger) -> dict[str, Any]:
    """Fill the license index from the Smint.io sandbox, through the operator."""
    from contentops.operators.smintio import SmintioLicenseSyncOperator

    op = SmintioLicenseSyncOperator(task_id="sync_licenses", smintio_conn_id=SMINTIO_CONN)
    return op.execute(context(run_id="sync"))


# -- every operator -------------------------------------------------------------------------------


def _operator_classes() -> list[type]:
    from contentops.operators import consonance, rights, smintio, usage, vip
    from contentops.operators.base import ContentOpsOperator

    return [
        cls
        for module in (smintio, rights, vip, consonance, usage)
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, ContentOpsOperator)
        and cls.__module__ == module.__name__
        and not cls.__name__.startswith("_")
    ]


def test_every_operator_templates_its_connections_and_overrides_and_documents_an_example() -> None:
    classes = _operator_classes()
    assert len(classes) >= 15
    for cls in classes:
        fields = set(cls.template_fields)
        assert {"dry_run", "ledger_conn_id", *cls.conn_id_fields, *cls.param_fields} <= fields, cls
        assert cls.conn_id_fields, f"{cls.__name__} names no connection"
        assert "Example::" in (cls.__doc__ or ""), f"{cls.__name__} has no example"


def test_templated_fields_render_and_override_the_dag_params(ledger: Ledger, systems: Callable[..., Any]) -> None:
    from contentops.operators.consonance import ConsonanceTitleMetadataPushOperator
    from contentops.operators.usage import UsageReconcileOperator

    params = {"lead_days": 30, "match_rules": ["isbn", "title_ref"], "conn": CONSONANCE_CONN, "dry_run": False}
    op = ConsonanceTitleMetadataPushOperator(
        task_id="push",
        batch="{{ ['1001', '1002'] }}",
        lead_days="{{ params.lead_days + 5 }}",
        match_rules="{{ params.match_rules[:1] }}",
        consonance_conn_id="{{ params.conn }}",
        dry_run="{{ not params.dry_run }}",
    )
    ctx = context(params)
    rendered(op, ctx)
    assert (op.batch, op.lead_days, op.match_rules, op.consonance_conn_id) == (
        "['1001', '1002']",
        "35",
        "['isbn']",
        CONSONANCE_CONN,
    )
    assert op.work_ids() == ["1001", "1002"]
    run = op.pipeline_run(ctx)
    # the operator's values win over the DAG's Params; what it was not given stays the Param's
    assert run.params["lead_days"] == 35 and run.params["match_rules"] == ["isbn"]
    assert run.params["dry_run"] is True and run.dry_run
    assert run.hook("consonance").conn_id == CONSONANCE_CONN
    assert run.hook("smintio").conn_id == "smintio_default"

    reconcile = UsageReconcileOperator(task_id="reconcile", batch=["a"], check_regions="False")
    run = reconcile.pipeline_run(context({"check_regions": True, "volume_threshold": 10}))
    assert run.params["check_regions"] is False and run.params["volume_threshold"] == 10


# -- Smint.io -------------------------------------------------------------------------------------


def test_license_sync_indexes_through_its_own_connection_and_reads_only_changes_again(
    ledger: Ledger, systems: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    from contentops.operators.smintio import SmintioLicenseSyncOperator

    systems("smintio")
    op = SmintioLicenseSyncOperator(
        task_id="sync_licenses",
        page_size="{{ params.page_size }}",
        max_pages="{{ params.max_pages }}",
        page_worker_after="{{ params.page_worker_after }}",
        smintio_conn_id=SMINTIO_CONN,
    )
    caplog.set_level(logging.INFO, logger="contentops.pipelines.page_worker")
    first = rendered(op, ctx := context({"page_size": 5, "max_pages": None, "page_worker_after": 3})).execute(ctx)
    json.dumps(first)  # an XCom: JSON-able
    assert op.page_worker_after == "3"  # rendered, and a page worker was started after page 3
    assert [r for r in caplog.records if r.getMessage().startswith("License page worker starting")]
    assert first["indexed"] == ledger.count_licenses() == SEEDED - SEEDED // 12
    assert first["pages"] >= SEEDED // 5 and first["cursor_end"] and first["cursor_start"] is None
    again = rendered(
        SmintioLicenseSyncOperator(
            task_id="sync_licenses", page_size="{{ params.page_size }}", smintio_conn_id=SMINTIO_CONN
        ),
        ctx,
    ).execute(ctx)
    assert again.get("indexed", 0) == 0 and again["cursor_start"] == first["cursor_end"]


def test_compliance_outcome_without_open_reviews_changes_nothing(ledger: Ledger) -> None:
    from contentops.operators.smintio import SmintioComplianceOutcomeOperator

    op = SmintioComplianceOutcomeOperator(task_id="apply_review_outcomes", workflow_conn_id="no_such_connection")
    # no review is open in the ledger: the Workflow Service is not even asked
    assert op.execute(context()) == {}


# -- rights -----------------------------------------------------------------------------------------


def test_rights_gate_clears_per_region_and_records_every_refusal_with_its_reason(
    ledger: Ledger, systems: Callable[..., Any]
) -> None:
    from contentops.operators.rights import RightsGateOperator

    systems("smintio")
    wanted = ["asset-spring-01", "asset-spring-02", "asset-spring-04", "asset-spring-10", "asset-nowhere"]
    op = RightsGateOperator(
        task_id="gate",
        asset_ids="{{ params.assets }}",
        target="vip:ITM-1001",
        channel="online",
        regions=["de", "us"],
        smintio_conn_id=SMINTIO_CONN,
    )
    ctx = context({"assets": wanted}, run_id="gate-before-sync")
    before = rendered(op, ctx).execute(ctx)
    # no license known yet: refused, never "unrestricted"
    assert before == {"cleared": [], "counts": {"no_license": 3, "not_approved": 1, "missing": 1}}

    synced(ledger)
    ctx = context({"assets": wanted}, run_id="gate")
    result = rendered(op, ctx).execute(ctx)
    json.dumps(result)
    # license 0: worldwide online; license 1: europe only (us refused); license 3 ended 10 days ago
    assert result["cleared"] == ["asset-spring-01", "asset-spring-02"]
    assert result["counts"] == {"cleared": 2, "refused": 1, "not_approved": 1, "missing": 1}
    trail = [
        (e.subject, e.action, (e.details or {}).get("region"), (e.details or {}).get("reason", ""))
        for e in ledger.audit_trail(run_id="gate")
    ]
    assert ("asset-spring-02", "refused", "us") in {t[:3] for t in trail}
    assert ("asset-spring-04", "refused", "de") in {t[:3] for t in trail}
    assert all(reason for *_, reason in trail), trail
    cleared = {t[0]: t[3] for t in trail if t[1] == "cleared"}
    assert cleared == {"asset-spring-01": "cleared for de, us", "asset-spring-02": "cleared for de"}
    assert {e.details["target"] for e in ledger.audit_trail(run_id="gate")} == {"vip:ITM-1001"}


def test_sweep_assess_returns_batches_of_the_affected_assets(ledger: Ledger, systems: Callable[..., Any]) -> None:
    from contentops.operators.rights import RightsSweepAssessOperator

    systems("smintio")
    synced(ledger)
    op = RightsSweepAssessOperator(
        task_id="assess",
        horizon_days="{{ params.horizon_days }}",
        providers="{{ params.providers }}",
        smintio_conn_id=SMINTIO_CONN,
    )
    ctx = context({"horizon_days": 14, "providers": []}, run_id="sweep")
    batches = rendered(op, ctx).execute(ctx)
    affected = {asset for batch in batches for asset in batch}
    assert all(isinstance(batch, list) for batch in batches)
    # license 0 ends in 7 days (within 14), license 3 ended; license 1 ends in 30 days (not within 14)
    assert {"asset-spring-01", "asset-spring-04"} <= affected and "asset-spring-02" not in affected
    recorded = {e.subject for e in ledger.audit_trail(run_id="sweep")}
    assert affected <= recorded


# -- VIP ----------------------------------------------------------------------------------------------


def test_catalogue_registration_writes_each_entry_once(ledger: Ledger, systems: Callable[..., Any]) -> None:
    from contentops.operators.vip import VipCatalogRegisterOperator

    running = systems("smintio", "vip")
    store = running["smintio"].context.store
    before = len(store.all("asset"))
    op = VipCatalogRegisterOperator(
        task_id="register_catalogue",
        page_size="{{ params.page_size }}",
        smintio_conn_id=SMINTIO_CONN,
        vip_conn_id=VIP_CONN,
    )
    ctx = context({"page_size": 2}, run_id="catalogue-1")
    first = rendered(op, ctx).execute(ctx)
    json.dumps(first)
    added = len(store.all("asset")) - before
    assert first["entries"] > added > 0
    ctx = context({"page_size": 2}, run_id="catalogue-2")
    second = rendered(op, ctx).execute(ctx)
    assert second["entries"] == first["entries"]
    assert len(store.all("asset")) - before == added  # a re-run registers nothing twice


def test_campaign_delivery_to_vip_sends_what_the_gate_cleared_once(ledger: Ledger, systems: Callable[..., Any]) -> None:
    from contentops.operators.campaign import CampaignDeliverOperator
    from contentops.pipelines import campaign

    running = systems("smintio", "vip")
    synced(ledger)
    ctx = context({"smintio_conn_id": SMINTIO_CONN, "vip_conn_id": VIP_CONN}, run_id="release")
    from contentops.pipelines.runtime import PipelineRun

    run = PipelineRun.from_context(ctx)
    campaign.plan_release(
        run,
        campaign="spring-launch-2027",
        targets=["vip"],
        regions=["emea"],
        release_date=None,
        exstream_domains=[],
        scheduled=False,
    )
    work = campaign.gate(run, campaign.load_release_settings())
    assert work and all(item["system"] == "vip" for item in work)
    op = CampaignDeliverOperator(
        task_id="deliver_vip",
        system="vip",
        batch=work[0]["batch"],
        smintio_conn_id=SMINTIO_CONN,
        vip_conn_id=VIP_CONN,
    )
    first = op.execute(ctx)
    json.dumps(first)
    created = first.get("vip_create", 0)
    media = running["vip"].context.store.all("media")
    assert created > 0 and media, first
    second = op.execute(ctx)
    assert not any(k.startswith("vip_create") for k in second), second
    assert len(running["vip"].context.store.all("media")) == len(media)


def test_delivery_compliance_takes_back_an_unapproved_assets_vip_media_once(
    ledger: Ledger, systems: Callable[..., Any]
) -> None:
    from contentops.operators.campaign import CampaignDeliverOperator
    from contentops.operators.rights import DeliveryComplianceOperator
    from contentops.pipelines import campaign
    from contentops.pipelines.runtime import PipelineRun

    running = systems("smintio", "vip")
    synced(ledger)
    conns = {"smintio_conn_id": SMINTIO_CONN, "vip_conn_id": VIP_CONN}
    ctx = context(dict(conns), run_id="release")
    run = PipelineRun.from_context(ctx)
    campaign.plan_release(
        run,
        campaign="spring-launch-2027",
        targets=["vip"],
        regions=["emea"],
        release_date=None,
        exstream_domains=[],
        scheduled=False,
    )
    (work, *_) = campaign.gate(run, campaign.load_release_settings())
    CampaignDeliverOperator(task_id="deliver", system="vip", batch=work["batch"], **conns).execute(ctx)
    vip_store = running["vip"].context.store
    delivered = {media["asset_id"] for media in vip_store.all("media") if media["status"] == "active"}
    assert delivered
    asset_id = sorted(delivered)[0]
    smintio_store = running["smintio"].context.store
    smintio_store.put("asset", asset_id, {**smintio_store.get("asset", asset_id), "approval_status": "rejected"})

    op = DeliveryComplianceOperator(task_id="enforce", **conns)
    first = op.execute(context(run_id="compliance-1"))
    json.dumps(first)
    withdrawn = {m["asset_id"] for m in vip_store.all("media") if m["status"] == "withdrawn"}
    assert withdrawn == {asset_id}, first
    assert first["vip_withdrawn"] == 1 and first["decided_withdrawn"] == 1, first
    second = op.execute(context(run_id="compliance-2"))
    assert not second.get("vip_withdrawn"), second  # taken back once: a re-run adds nothing
    assert {m["asset_id"] for m in vip_store.all("media") if m["status"] == "withdrawn"} == {asset_id}


# -- Consonance -------------------------------------------------------------------------------------


def test_title_selection_and_metadata_push_write_once(ledger: Ledger, systems: Callable[..., Any]) -> None:
    from contentops.operators.consonance import ConsonanceSelectTitlesOperator, ConsonanceTitleMetadataPushOperator

    running = systems("smintio", "consonance")
    synced(ledger)
    conns = {"smintio_conn_id": SMINTIO_CONN, "consonance_conn_id": CONSONANCE_CONN}
    ctx = context({"lead_days": 30, "match_rules": ["isbn"]}, run_id="titles")
    batches = ConsonanceSelectTitlesOperator(task_id="select_titles", lead_days=365, **conns).execute(ctx)
    work_ids = [work for batch in batches for work in batch]
    assert work_ids and all(isinstance(work, str) for work in work_ids)
    push = ConsonanceTitleMetadataPushOperator(task_id="push_metadata", batch=batches[0], **conns)
    first = push.execute(ctx)
    json.dumps(first)
    assert first.get("metadata_pushed", 0) > 0, first
    tagged = [a for a in running["smintio"].context.store.all("asset") if (a.get("metadata") or {}).get("isbn")]
    assert tagged
    second = push.execute(context({"lead_days": 30, "match_rules": ["isbn"]}, run_id="titles-again"))
    assert second.get("metadata_pushed", 0) == 0 and second.get("metadata_unchanged", 0) == first["metadata_pushed"]


# -- usage --------------------------------------------------------------------------------------------


def test_usage_collection_without_deliveries_attributes_nothing(
    ledger: Ledger, sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from contentops.operators.usage import UsageCollectOperator
    from contentops_sandbox.connections import exstream_connection

    running = sandbox("exstream")
    conn = exstream_connection(running.url, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_EXSTREAM_OPERATOR_TEST", json.dumps(conn))
    op = UsageCollectOperator(task_id="collect_usage", exstream_conn_id="{{ params.conn }}", domains="{{ params.d }}")
    ctx = context({"d": [], "conn": "exstream_operator_test"}, run_id="usage")
    # nothing was delivered to Exstream from Smint.io: no asset to reconcile, whatever is used there
    assert rendered(op, ctx).execute(ctx) == []
    assert all(e.action != "usage" for e in ledger.audit_trail(run_id="usage"))


# -- the example DAG ------------------------------------------------------------------------------


def test_the_example_dag_parses_fast_and_composes_the_operators() -> None:
    """docs/examples/market_readiness_check.py (docs/operators.md): no import error, the license
    sync before the gate, the gate's fields templated from the form, the run report and verdict."""
    import time

    from airflow.dag_processing.dagbag import DagBag

    from contentops.operators.rights import RightsGateOperator
    from contentops.operators.smintio import SmintioLicenseSyncOperator
    from contentops.retries import PARTNER_RETRY_POLICY

    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "market_readiness_check.py"
    started = time.monotonic()
    bag = DagBag(dag_folder=str(path))
    assert bag.import_errors == {} and time.monotonic() - started < 30
    dag = bag.dags["market_readiness_check"]
    gate, sync = dag.get_task("gate"), dag.get_task("sync_licenses")
    assert isinstance(gate, RightsGateOperator) and isinstance(sync, SmintioLicenseSyncOperator)
    assert gate.upstream_task_ids == {"sync_licenses"} and "gate" in dag.get_task("report").upstream_task_ids
    assert gate.asset_ids == "{{ params.asset_ids }}" and gate.on_date == "{{ params.launch_date }}"
    assert [leaf.task_id for leaf in dag.leaves] == ["verdict"]
    assert all(task.retry_policy is PARTNER_RETRY_POLICY for task in dag.tasks)
