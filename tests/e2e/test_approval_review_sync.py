"""Campaign approval reviews kept in step with Smint.io both ways (OWS-5), end to end.

Campaign release starts its approval workflows (``spring-launch-2027``'s drafts in the default
model, ``holiday-2026``'s assets in review in the agency client ``northwind``'s model); then the
approval handler's ``while_open`` is called on each poll as the workflow-outcomes pipeline calls
it. Asserted where it lands: comments on the Smint.io assets, comments and variables on the
Workflow sandbox's instances, and the ledger's effects (a poll with nothing new writes nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e

SEEDED = 24
SPRING = "asset-spring-09"  # a draft: default approval model
HOLIDAY = "asset-holiday-05"  # in review: northwind's approval model


@pytest.fixture
def env(connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    smintio = connect("smintio", options={"seeded_transactions": SEEDED})
    workflow = connect("workflow")
    connect("vip")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {"smintio": smintio, "workflow": workflow, "ledger": ledger}


def _run(env: dict[str, Any], run_id: str, token_store: Callable[[str], Any], subject: str = "contentops") -> Any:
    """A pipeline run outside a DAG, with its own Smint.io session (as ``subject``)."""
    from contentops.hooks.smintio import SmintioHook
    from contentops.pipelines.runtime import PipelineRun
    from contentops.pipelines.window import RunWindow

    now = datetime.now(UTC)
    run = PipelineRun("workflow_outcomes", run_id, RunWindow(now - timedelta(days=1), now), {}, ledger=env["ledger"])
    env["smintio"].context.tokens.register_refresh_token(f"{run_id}-token", subject, "smintio.full")
    session = token_store("smintio")
    session.save(f"{run_id}-token")
    run._hooks["smintio"] = SmintioHook(refresh_token_store=session)
    return run


def _start_campaign_approvals(run: Any) -> None:
    """What campaign release does before its gate: plan, collect, start the approvals."""
    from contentops.pipelines import campaign
    from contentops.pipelines.licenses import sync_license_index

    settings = campaign.load_release_settings()
    sync_license_index(run)
    for name in ("spring-launch-2027", "holiday-2026"):
        campaign.plan_release(
            run,
            campaign=name,
            targets=["vip"],
            regions=[],
            release_date=None,
            exstream_domains=[],
            scheduled=False,
        )
        for batch in campaign.collect(run, settings=settings)["approval_batches"]:
            campaign.start_approvals(run, batch, settings)


def _poll(run: Any) -> None:
    """The workflow-outcomes pipeline's poll of our open approvals: ``while_open`` on each."""
    from contentops.pipelines.asset_approvals import APPROVAL_HANDLER, approval_definitions

    assert APPROVAL_HANDLER.while_open is not None
    workflow = run.hook("workflow")
    for definition in sorted(approval_definitions()):
        for record in run.ledger.open_processes(definition):
            instance = workflow.get_instance(record.instance_id)
            assert not instance.ended
            APPROVAL_HANDLER.while_open(run, record, instance)


def _comments(workflow: Any, instance_id: str) -> list[str]:
    return [c["message"] for c in workflow.context.store.get("instance", instance_id).get("comments", [])]


def _asset_comments(smintio: Any, asset_id: str) -> list[tuple[str, str | None]]:
    return [
        (c["text"], c.get("external_ref")) for c in smintio.context.store.all("comment") if c["asset_id"] == asset_id
    ]


def test_campaign_approvals_sync_comments_and_status_both_ways_once(
    airflow_db: Path, env: dict[str, Any], token_store: Callable[[str], Any]
) -> None:
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
    from contentops.models.smintio import ApprovalStatus
    from contentops.pipelines.asset_approvals import APPROVAL_HANDLER

    smintio, workflow, ledger = env["smintio"], env["workflow"], env["ledger"]
    _start_campaign_approvals(_run(env, "release", token_store))
    instances = {
        i["variables"]["asset_id"]: i
        for i in workflow.context.store.all("instance")
        if i["processDefinitionKey"] in ("asset_approval", "client_approval_northwind")
    }
    spring, holiday = instances[SPRING], instances[HOLIDAY]
    assert spring["processDefinitionKey"] == "asset_approval"
    assert holiday["processDefinitionKey"] == "client_approval_northwind"
    # the handler owns the approval models (default and agency), not other pipelines' reviews
    assert APPROVAL_HANDLER.owns("asset_approval") and APPROVAL_HANDLER.owns("client_approval_northwind")
    assert not APPROVAL_HANDLER.owns("regional_localization_review")

    # a reviewer comments in the workflow; a brand manager comments on the asset in Smint.io
    reviewer = OpenTextWorkflowHook()
    said = reviewer.add_comment(spring["id"], "Brand: the logo is too small on the left edge.")
    brand_manager = _run(env, "brand-manager", token_store, subject="brand.manager").hook("smintio")
    brand_manager.add_comment(HOLIDAY, "Please use the new holiday tagline.")

    _poll(_run(env, "poll-1", token_store))
    # reviewer comment -> the Smint.io asset, once, with the instance and comment it came from
    assert _asset_comments(smintio, SPRING) == [
        ("Brand: the logo is too small on the left edge.", f"ows:{spring['id']}:{said['id']}")
    ]
    # Smint.io comment -> the agency client's workflow, marked as mirrored
    assert _comments(workflow, holiday["id"]) == ["[Smint.io] brand.manager: Please use the new holiday tagline."]
    # the asset's status -> each workflow
    for asset_id, instance in ((SPRING, spring), (HOLIDAY, holiday)):
        variables = workflow.context.store.get("instance", instance["id"])["variables"]
        asset = smintio.context.store.get("asset", asset_id)
        assert variables["smintio_status"] == asset["approval_status"]
        assert variables["smintio_version"] == asset["version"]
    assert _comments(workflow, spring["id"]) == ["Brand: the logo is too small on the left edge."]  # no echo

    # a poll with nothing new writes nothing, on either side
    comments = len(smintio.context.store.all("comment"))
    flow = {i["id"]: len(i.get("comments", [])) for i in workflow.context.store.all("instance")}
    _poll(_run(env, "poll-2", token_store))
    assert ledger.effects(run_id="poll-2") == []
    assert len(smintio.context.store.all("comment")) == comments
    assert {i["id"]: len(i.get("comments", [])) for i in workflow.context.store.all("instance")} == flow

    # the brand manager sends the spring asset into review in Smint.io and answers the reviewer;
    # the reviewer answers on the holiday approval: each reaches the other side once
    brand_manager.set_approval(SPRING, ApprovalStatus.IN_REVIEW, "brand check")
    brand_manager.add_comment(SPRING, "Logo enlarged in the new upload.")
    reviewer.add_comment(holiday["id"], "Client: tagline approved.")
    _poll(_run(env, "poll-3", token_store))
    variables = workflow.context.store.get("instance", spring["id"])["variables"]
    assert variables["smintio_status"] == "in_review"
    assert variables["smintio_version"] == smintio.context.store.get("asset", SPRING)["version"]
    assert _comments(workflow, spring["id"]) == [
        "Brand: the logo is too small on the left edge.",
        "[Smint.io] brand.manager: Logo enlarged in the new upload.",
    ]
    assert [text for text, _ in _asset_comments(smintio, HOLIDAY)] == [
        "Please use the new holiday tagline.",
        "Client: tagline approved.",
    ]
    synced = {e.subject for e in ledger.audit_trail(run_id="poll-3") if e.action == "approval_review_synced"}
    assert synced == {SPRING, HOLIDAY}
    _poll(_run(env, "poll-4", token_store))
    assert ledger.effects(run_id="poll-4") == []
