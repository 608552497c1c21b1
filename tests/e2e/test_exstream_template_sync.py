"""exstream_template_sync end to end (EXS-8, EXS-3): dag.test() against the Smint.io, Exstream and
Workflow sandboxes.

Effects are asserted where they land: resource content, versions and states in the Exstream
sandbox (and what on-demand generation renders), the template review in the Workflow sandbox,
approval status, tags and metadata in the Smint.io sandbox, deliveries and quarantine in the ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.hooks.errors import ConflictError
from contentops.hooks.exstream import ExstreamHook
from contentops.ledger import Ledger
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.e2e

CHANGED = "asset-logo-01"  # a new logo file in Smint.io: replaced, reviewed
RETAGGED = "asset-logo-02"  # a new version with the same file: nothing to review
RETIRED = "asset-disclosure-01"  # production asks to retire it
WELCOME, STATEMENT, CLAIM = "comm-retail-welcome", "comm-retail-statement", "comm-insurance-claim"


def _file(asset_id: str, version: int) -> bytes:
    """What the Smint.io sandbox serves as the asset's main file at that version."""
    return images.png(f"{asset_id}-main:v{version}")


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": 24})
    exstream = connect("exstream")
    workflow = connect("workflow")
    workflow.admin(
        "PUT", "workflow/auto-complete", json={"template_review": {"outcome": "approved", "after_seconds": 0}}
    )
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    hook = ExstreamHook()
    resources = {}
    # what an earlier campaign release left: version 1 of each image approved in Exstream
    for asset_id, domain in ((CHANGED, "retail"), (RETAGGED, "insurance"), (RETIRED, "insurance")):
        source = tmp_path / f"{asset_id}.png"
        source.write_bytes(_file(asset_id, 1))
        resource = hook.upload_image(domain, source, name=f"{asset_id}.png", content_type="image/png")
        hook.set_state(domain, resource.id, "REVIEW", "campaign release")
        hook.set_state(domain, resource.id, "APPROVED", "campaign release")
        plan = ledger.plan("campaign_release", asset_id, 1, f"exstream:{domain}")
        ledger.begin(plan)
        ledger.complete(plan.key, resource.id)
        resources[asset_id] = resource.id
    exstream.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": WELCOME, "objectIds": [resources[CHANGED]]}
    )
    exstream.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": STATEMENT, "objectIds": [resources[CHANGED]]}
    )
    exstream.admin(
        "PUT", "exstream/links", json={"domain": "insurance", "subjectId": CLAIM, "objectIds": [resources[RETAGGED]]}
    )
    return {"smintio": smintio, "exstream": exstream, "workflow": workflow, "ledger": ledger, "resources": resources}


def _dag() -> Any:
    return load_dag("exstream_template_sync")


def _new_version(smintio: Any, asset_id: str, **changes: Any) -> None:
    asset = smintio.context.store.get("asset", asset_id)
    now = smintio.context.clock.now().isoformat()
    smintio.context.store.put(
        "asset", asset_id, {**asset, "version": asset["version"] + 1, "updated_at": now, **changes}
    )


def _new_file(smintio: Any, asset_id: str) -> None:
    """A new file for the asset: its main binary's version (and so the asset's) grows."""
    asset = smintio.context.store.get("asset", asset_id)
    binary = {**asset["binaries"][0], "version": asset["version"] + 1}
    _new_version(smintio, asset_id, binaries=[binary])


def _resource(env: dict[str, Any], asset_id: str) -> dict[str, Any]:
    return env["exstream"].context.store.get("resource", env["resources"][asset_id])


def _writes(env: dict[str, Any]) -> dict[str, int]:
    """How many writes each partner has seen (history rows), to prove a re-run adds none."""
    return {
        "exstream": len(env["exstream"].context.store.history(kind="resource")),
        "smintio": len(env["smintio"].context.store.history(kind="asset")),
        "workflow": len(env["workflow"].context.store.history(kind="instance")),
    }


def test_a_changed_image_is_replaced_and_its_templates_reviewed_before_production(airflow_db: Path, env: dict) -> None:
    smintio, exstream, ledger = env["smintio"], env["exstream"], env["ledger"]
    interval_end = datetime.now(UTC).replace(minute=20, second=0, microsecond=0) - timedelta(hours=1)
    _new_file(smintio, CHANGED)
    same_file = hashlib.sha256(_file(RETAGGED, 1)).hexdigest()
    _new_version(
        smintio, RETAGGED, binaries=[{"id": f"{RETAGGED}-main", "content_type": "image/png", "sha256": same_file}]
    )
    at = (interval_end - timedelta(minutes=30)).isoformat()  # within the first run's hour
    for resource, action, reason in (
        (RETAGGED, "replace", "logo too dark on grey paper"),
        (RETIRED, "retire", "product discontinued"),
    ):
        exstream.admin(
            "POST",
            "exstream/feedback",
            json={
                "domain": "insurance",
                "resourceId": env["resources"][resource],
                "action": action,
                "reason": reason,
                "at": at,
            },
        )
    stray = exstream.admin(  # feedback about a resource contentops never delivered
        "POST",
        "exstream/feedback",
        json={"domain": "insurance", "resourceId": CLAIM, "action": "replace", "reason": "x", "at": at},
    )
    exstream.context.store.put(  # and one production cannot even describe
        "feedback",
        "fb-bad",
        {
            "id": "fb-bad",
            "domain": "insurance",
            "resourceId": env["resources"][RETAGGED],
            "action": "shred",
            "reason": "",
            "createdDate": at,
        },
    )

    first = _dag().test(logical_date=interval_end)
    assert first.state == "success"
    # EXS-8: the new file is in Exstream, as a new version, and nothing that shows it is APPROVED
    changed = _resource(env, CHANGED)
    assert changed["content"]["sha256"] == hashlib.sha256(_file(CHANGED, 2)).hexdigest()
    assert changed["version"] == 2 and changed["state"] == "REVIEW"
    states = {r["id"]: r["state"] for r in exstream.context.store.all("resource")}
    assert states[WELCOME] == states[STATEMENT] == "REVIEW"
    assert states[CLAIM] == "APPROVED"  # its image's file did not change
    assert "content" not in [
        h["action"] for h in exstream.context.store.history(kind="resource", doc_id=env["resources"][RETAGGED])
    ]
    (review,) = env["workflow"].context.store.all("instance")
    assert review["processDefinitionKey"] == "template_review"
    assert review["businessKey"] == f"template_review:retail/{env['resources'][CHANGED]}:v2"
    held = {(d.asset_id, d.target): (d.version, d.status) for d in ledger.deliveries(pipeline="campaign_release")}
    assert held[(CHANGED, "exstream:retail")] == ("2", "delivered")
    # the same file under a newer version (the feedback below also changed its metadata): Exstream holds it as is
    retagged_version = str(smintio.context.store.get("asset", RETAGGED)["version"])
    assert held[(RETAGGED, "exstream:insurance")] == (retagged_version, "delivered")
    hook = ExstreamHook()
    with pytest.raises(ConflictError):  # the next production run cannot use the unreviewed template
        hook.generate("retail", WELCOME, "CustomerDriver", {"customerNumber": "C-7"})
    # EXS-3: production feedback reached Smint.io; the retired image left APPROVED in Exstream
    assets = {a["id"]: a for a in smintio.context.store.all("asset")}
    assert assets[RETAGGED]["approval_status"] == "in_review"
    assert "exstream:replacement-requested" in assets[RETAGGED]["tags"]
    assert assets[RETAGGED]["metadata"]["exstream_feedback"]["reason"] == "logo too dark on grey paper"
    assert assets[RETIRED]["approval_status"] == "retired" and "exstream:retire-requested" in assets[RETIRED]["tags"]
    assert _resource(env, RETIRED)["state"] == "DRAFT"
    assert held[(RETIRED, "exstream:insurance")][1] == "withdrawn"
    assert sorted(q.ref or "" for q in ledger.quarantined(run_id=first.run_id)) == sorted([stray["id"], "fb-bad"])

    # the next run finds the review approved: the templates may run again, with the new logo
    second = _dag().test(logical_date=interval_end + timedelta(hours=1))
    assert second.state == "success"
    states = {r["id"]: r["state"] for r in exstream.context.store.all("resource")}
    assert states[WELCOME] == states[STATEMENT] == states[env["resources"][CHANGED]] == "APPROVED"
    document = hook.generate("retail", WELCOME, "CustomerDriver", {"customerNumber": "C-7"}, accept="text/html")
    assert f'data-resource-id="{env["resources"][CHANGED]}" data-version="2"'.encode() in document.content
    assert ledger.process(review["businessKey"]).status == "applied"

    # re-running an hour changes nothing anywhere
    before = _writes(env)
    again = _dag().test(logical_date=interval_end + timedelta(hours=1))
    assert again.state == "success"
    assert _writes(env) == before
    summary = ledger.run_summary("exstream_template_sync", first.run_id)
    assert summary and Path(summary["report_path"]).is_file()


def test_a_rejected_review_leaves_the_templates_out_of_production_and_flags_the_asset(
    airflow_db: Path, env: dict
) -> None:
    env["workflow"].admin(
        "PUT", "workflow/auto-complete", json={"template_review": {"outcome": "rejected", "after_seconds": 0}}
    )
    interval_end = datetime.now(UTC).replace(minute=20, second=0, microsecond=0) - timedelta(hours=1)
    _new_file(env["smintio"], CHANGED)
    assert _dag().test(logical_date=interval_end, run_conf={"domains": ["retail"]}).state == "success"
    assert (
        _dag().test(logical_date=interval_end + timedelta(hours=1), run_conf={"domains": ["retail"]}).state == "success"
    )
    states = {r["id"]: r["state"] for r in env["exstream"].context.store.all("resource")}
    assert states[WELCOME] == states[STATEMENT] == _resource(env, CHANGED)["state"] == "REJECTED"
    asset = env["smintio"].context.store.get("asset", CHANGED)
    assert "exstream:template-review-rejected" in asset["tags"]
    assert asset["metadata"]["exstream_template_review"]["outcome"] == "rejected"


def test_dry_run_changes_nothing(airflow_db: Path, env: dict) -> None:
    _new_file(env["smintio"], CHANGED)
    before = _writes(env)
    interval_end = datetime.now(UTC).replace(minute=20, second=0, microsecond=0) - timedelta(hours=1)
    run = _dag().test(logical_date=interval_end, run_conf={"dry_run": True})
    assert run.state == "success"
    assert _writes(env) == before
    actions = {e.action for e in env["ledger"].audit_trail(run_id=run.run_id)}
    assert "newer_version" in actions


def test_a_retirement_tells_delivery_compliance_once(airflow_db: Path, env: dict) -> None:
    """A retirement asked for by production emits ``contentops://asset-removals`` (on which
    ``delivery_compliance`` takes the other partners' copies back), once: the next run, which
    retires nothing, emits nothing."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from contentops.assets import ASSET_REMOVALS

    interval_end = datetime.now(UTC).replace(minute=20, second=0, microsecond=0) - timedelta(hours=1)
    env["exstream"].admin(
        "POST",
        "exstream/feedback",
        json={
            "domain": "insurance",
            "resourceId": env["resources"][RETIRED],
            "action": "retire",
            "reason": "product discontinued",
            "at": (interval_end - timedelta(minutes=30)).isoformat(),
        },
    )

    def removals(run_id: str) -> list[Any]:
        with create_session() as session:
            return [
                extra
                for (extra,) in session.execute(
                    select(AssetEvent.extra)
                    .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                    .where(AssetEvent.source_run_id == run_id, AssetModel.uri == ASSET_REMOVALS.uri)
                )
            ]

    first = _dag().test(logical_date=interval_end)
    assert first.state == "success"
    assert env["smintio"].context.store.get("asset", RETIRED)["approval_status"] == "retired"
    assert removals(first.run_id) == [{"feedback_retire": 1}]
    # the feedback is read again by an overlapping window: applied already, nothing to announce
    again = _dag().test(logical_date=interval_end)
    assert again.state == "success" and removals(again.run_id) == []
    assert ASSET_REMOVALS in load_dag("delivery_compliance").timetable.asset_condition.objects
