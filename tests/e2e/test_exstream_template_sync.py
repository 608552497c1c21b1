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


# -- EXS-6: the brand team's localized variants -------------------------------------------------------
MASTER = "asset-spring-03"  # license 2: worldwide, any channel; narrowed below to English and German
GERMAN, FRENCH, DRAFT, RETURNED = (f"{MASTER}-{suffix}" for suffix in ("de-ch", "fr-fr", "it-it", "var-9"))
LATER_MASTER = "asset-spring-10"  # license 9: perpetual, worldwide; reaches Exstream after its variant
AUSTRIAN = f"{LATER_MASTER}-de-at"


def _brand_variant(
    smintio: Any, variant_id: str, language: str, region: str, status: str = "approved", master_id: str = MASTER
) -> None:
    """A variant the brand team keeps in Smint.io (of MASTER unless told): language, region, business unit."""
    master = smintio.context.store.get("asset", master_id)
    now = smintio.context.clock.now().isoformat()
    smintio.context.store.put(
        "asset",
        variant_id,
        {
            **master,
            "id": variant_id,
            "version": 1,
            "name": f"Spring visual 3 ({language}-{region})",
            "approval_status": status,
            "master_asset_id": master_id,
            "language": language,
            "region": region,
            "metadata": {"business_unit": "private-banking"},
            "tags": [],
            "binaries": [{"id": f"{variant_id}-main", "name": f"{variant_id}.png", "content_type": "image/png"}],
            "created_at": now,
            "updated_at": now,
        },
    )


def _master_in_exstream(env: dict[str, Any], master_id: str, folder: Path) -> str:
    """What a campaign release leaves: the master's image APPROVED in retail with its source asset,
    its delivery in the ledger. Returns the resource id."""
    hook, ledger = ExstreamHook(), env["ledger"]
    scratch = folder / f"{master_id}.png"
    scratch.write_bytes(_file(master_id, 1))
    master = hook.upload_image("retail", scratch, name=f"{master_id}.png", content_type="image/png")
    hook.put_rights_metadata("retail", master.id, {"source_asset": master_id, "asset_version": 1})
    hook.set_state("retail", master.id, "REVIEW", "campaign release")
    hook.set_state("retail", master.id, "APPROVED", "campaign release")
    plan = ledger.plan("campaign_release", master_id, 1, "exstream:retail")
    ledger.begin(plan)
    ledger.complete(plan.key, master.id)
    return master.id


def _html(hook: ExstreamHook, locale: str | None) -> bytes:
    driver = {"customerNumber": "C-7", **({"locale": locale} if locale else {})}
    return hook.generate("retail", WELCOME, "CustomerDriver", driver, accept="text/html").content


def test_the_brand_teams_language_variants_reach_exstream_and_the_localized_version_selects_them(
    airflow_db: Path, env: dict, tmp_path: Path
) -> None:
    smintio, exstream, ledger = env["smintio"], env["exstream"], env["ledger"]
    smintio.admin(
        "POST",
        f"smintio/lpt/{smintio.context.store.get('asset', MASTER)['license_purchase_transaction_uuid']}",
        json={"allowed_languages": ["language_english", "language_german"]},
    )
    hook = ExstreamHook()
    # what the campaign release left: the master image, APPROVED, shown by the welcome letter
    master_image = _master_in_exstream(env, MASTER, tmp_path)
    exstream.admin(
        "PUT",
        "exstream/links",
        json={"domain": "retail", "subjectId": WELCOME, "objectIds": [env["resources"][CHANGED], master_image]},
    )
    _brand_variant(smintio, GERMAN, "de", "ch")
    _brand_variant(smintio, FRENCH, "fr", "fr")  # the license does not allow French
    _brand_variant(smintio, DRAFT, "it", "it", status="in_review")  # not approved yet
    _brand_variant(smintio, RETURNED, "nl", "nl")  # a regional team's return: the loop's to publish
    _brand_variant(smintio, AUSTRIAN, "de", "at", master_id=LATER_MASTER)  # its master is not in Exstream yet
    returned = ledger.plan("localization_return_loop", "vip:ret-9", "0123abcd", "smintio:variant")
    ledger.begin(returned)
    ledger.complete(returned.key, RETURNED)

    interval_end = datetime.now(UTC).replace(minute=20, second=0, microsecond=0) - timedelta(hours=1)
    first = _dag().test(logical_date=interval_end, run_conf={"domains": ["retail"]})
    assert first.state == "success"

    # Exstream: the German variant is an APPROVED image next to its master, with what selects it
    held = [r for r in exstream.context.store.all("resource") if r["type"] == "image"]
    by_source = {(r.get("metadata") or {}).get("source_asset"): r for r in held}
    german = by_source[GERMAN]
    assert german["state"] == "APPROVED" and german["domain"] == "retail"
    assert german["content"]["sha256"] == hashlib.sha256(images.png(f"{GERMAN}-main:v1")).hexdigest()
    assert {k: german["metadata"][k] for k in ("master_asset", "language", "region", "business_unit", "localized")} == {
        "master_asset": MASTER,
        "language": "de",
        "region": "ch",
        "business_unit": "private-banking",
        "localized": True,
    }
    assert german["metadata"]["rights_status"] == "cleared" and german["metadata"]["valid_until"]
    assert not {FRENCH, DRAFT, RETURNED, AUSTRIAN} & set(by_source)
    assert ("not_published", "exstream") in {
        (e.action, (e.details or {}).get("target"))
        for e in ledger.audit_trail(run_id=first.run_id)
        if e.subject == AUSTRIAN
    }
    # the ledger: delivered once, under the master's license; the French one refused with its reason
    (delivery,) = ledger.deliveries(asset_id=GERMAN)
    assert (delivery.pipeline, delivery.target, delivery.version, delivery.status, delivery.remote_id) == (
        "exstream_template_sync",
        "exstream:retail",
        "1",
        "delivered",
        german["id"],
    )
    assert delivery.license_ref == smintio.context.store.get("asset", MASTER)["license_purchase_transaction_uuid"]
    trail = ledger.audit_trail(run_id=first.run_id)
    (refusal,) = [e for e in trail if e.subject == FRENCH]
    assert refusal.action == "refused" and "language" in (refusal.details or {}).get("reason", "")
    assert ledger.deliveries(asset_id=FRENCH) == []

    # the welcome letter's localized versions: German shows the German variant, English the master
    german_letter, english_letter, as_designed = _html(hook, "de_DE"), _html(hook, "en_US"), _html(hook, None)
    assert f'data-resource-id="{german["id"]}"'.encode() in german_letter
    assert f'data-resource-id="{master_image}"'.encode() not in german_letter
    assert b'lang="de-DE"' in german_letter
    for letter in (english_letter, as_designed, _html(hook, "fr_FR")):
        assert f'data-resource-id="{master_image}"'.encode() in letter
        assert f'data-resource-id="{german["id"]}"'.encode() not in letter

    # re-running the hour, and the next hour, writes nothing anywhere
    before = _writes(env)
    assert _dag().test(logical_date=interval_end, run_conf={"domains": ["retail"]}).state == "success"
    assert _dag().test(logical_date=interval_end + timedelta(hours=1), run_conf={"domains": ["retail"]}).state == (
        "success"
    )
    assert _writes(env) == before
    assert len(ledger.deliveries(asset_id=GERMAN)) == 1

    # the later master reaches Exstream (its campaign released): its waiting variant follows it
    _master_in_exstream(env, LATER_MASTER, tmp_path)
    # a new version of the German variant: no second image — the one Exstream holds is replaced and
    # reviewed (EXS-8), and the localized version shows the new file once the review approved it
    later = interval_end + timedelta(hours=2)
    german_asset = smintio.context.store.get("asset", GERMAN)
    _new_version(  # a new file, changed within that run's hour
        smintio,
        GERMAN,
        binaries=[{**german_asset["binaries"][0], "version": german_asset["version"] + 1}],
        updated_at=(later - timedelta(minutes=30)).isoformat(),
    )
    assert _dag().test(logical_date=later, run_conf={"domains": ["retail"]}).state == "success"
    (austrian,) = [
        r for r in exstream.context.store.all("resource") if (r.get("metadata") or {}).get("source_asset") == AUSTRIAN
    ]
    assert austrian["state"] == "APPROVED"
    assert (austrian["metadata"]["master_asset"], austrian["metadata"]["region"]) == (LATER_MASTER, "at")
    replaced = exstream.context.store.get("resource", german["id"])
    assert (replaced["version"], replaced["state"]) == (2, "REVIEW")
    assert replaced["content"]["sha256"] == hashlib.sha256(images.png(f"{GERMAN}-main:v2")).hexdigest()
    assert f'data-resource-id="{master_image}"'.encode() in _html(hook, "de_DE")  # unreviewed: not shown
    assert _dag().test(logical_date=later + timedelta(hours=1), run_conf={"domains": ["retail"]}).state == "success"
    assert exstream.context.store.get("resource", german["id"])["state"] == "APPROVED"
    assert f'data-resource-id="{german["id"]}" data-version="2"'.encode() in _html(hook, "de_DE")
    sources = [(r.get("metadata") or {}).get("source_asset") for r in exstream.context.store.all("resource")]
    assert sources.count(GERMAN) == 1
    slots = [(d.target, d.version, d.status) for d in ledger.deliveries(asset_id=GERMAN, target_prefix="exstream:")]
    assert slots == [("exstream:retail", "2", "delivered")]  # the one slot, now at version 2
