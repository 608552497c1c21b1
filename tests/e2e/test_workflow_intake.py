"""workflow_intake end to end (OWS-3, OWS-6): dag.test() against the Workflow and Smint.io sandboxes.

Effects are asserted where they land: request variables, comments and tasks in the Workflow
sandbox, published assets in the Smint.io sandbox, quarantine, processes and audit rows in the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops.pipelines.workflows import start_workflow_once
from contentops_sandbox.connections import source_dam_connection
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.e2e

SEEDED = 36
LAUNCH = "campaign_type:product_launch"
#: asset -> (license index, status, categories, region); licenses as in contentops_sandbox.smintio.seed
CANDIDATES = {
    "asset-summer-01": (2, "approved", ["banner"], None),  # worldwide, any channel, 90 days: the match
    "asset-summer-02": (4, "approved", ["banner"], None),  # europe but not gb: refused for gb
    "asset-summer-03": (0, "approved", ["banner"], None),  # ends in 7 days, before the deadline: refused
    "asset-summer-04": (2, "approved", ["social"], None),  # another format
    "asset-summer-05": (2, "approved", ["banner"], "apac"),  # made for another region
    "asset-holiday-04": (2, "in_review", ["banner"], None),  # not approved
}


def _license(days: int) -> dict[str, Any]:
    until = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
    return {"regions": ["worldwide"], "channels": ["online", "print"], "valid_until": until, "editorial_only": False}


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

    smintio = connect("smintio", options={"seeded_transactions": SEEDED})
    workflow = connect("workflow")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for asset_id, (license_index, status, categories, region) in CANDIDATES.items():
        asset = smintio.context.store.get("asset", asset_id)
        smintio.context.store.put(
            "asset",
            asset_id,
            {
                **asset,
                "approval_status": status,
                "tags": [*asset["tags"], LAUNCH],
                "categories": categories,
                "region": region,
                "license_purchase_transaction_uuid": seed.stable_uuid("lpt", license_index),
            },
        )
    # reviewers: onboarding approves (and categorizes) unless the asset is bf-202
    workflow.admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "dam_onboarding": {
                "outcome": "approved",
                "after_seconds": 0,
                "variables": {"categories": ["product_shot"], "tags_added": ["onboarded"]},
                "by_variable": {"source_id": {"bf-202": "rejected"}},
            }
        },
    )
    hook = OpenTextWorkflowHook()
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    requests = {
        "launch": hook.start_instance(
            "creative_request_intake",
            name="Launch banners UK",
            variables={
                "campaign_type": "product_launch",
                "region": "gb",
                "format": "banner",
                "deadline": deadline,
                "channel": "online",
            },
        ),
        "holiday": hook.start_instance(
            "creative_request_intake",
            name="Holiday promo DACH",
            variables={"campaign_type": "holiday_promo", "region": "dach", "format": "banner", "deadline": deadline},
        ),
        "unreadable": hook.start_instance(
            "creative_request_intake",
            name="Something soon",
            variables={"campaign_type": "product_launch", "region": "gb", "format": "banner", "deadline": "soon"},
        ),
    }
    # a partner request another pipeline routed to triage: the triage team answers it, not us
    routed, _ = start_workflow_once(
        hook,
        ledger,
        "creative_request_intake",
        "creative_request_intake:case-9:v1",
        name="Partner request case-9",
        variables={"case_id": "case-9", "region": "gb", "subject": "Localized logo"},
    )
    requests["routed"] = routed
    batch = hook.start_instance(
        "dam_ingest",
        name="Brandfolder batch 1",
        variables={
            "source_dam": "brandfolder",
            "batch_id": "bf-batch-1",
            "assets": [
                {
                    "source_id": "bf-201",
                    "name": "Product shot 201",
                    "content_type": "image/jpeg",
                    "tags": ["product"],
                    "metadata": {"sku": "201"},
                    "license": {**_license(365), "holder": "Brandfolder customer"},
                },
                {
                    "source_id": "bf-202",
                    "name": "Product shot 202",
                    "content_type": "image/jpeg",
                    "license": _license(365),
                },
                {
                    "source_id": "bf-203",
                    "name": "Product shot 203",
                    "content_type": "image/jpeg",
                    "license": _license(-5),
                },
                {"name": "no source id", "content_type": "image/jpeg"},
            ],
        },
    )
    return {"smintio": smintio, "workflow": workflow, "ledger": ledger, "requests": requests, "batch": batch}


def _dag() -> Any:
    return load_dag("workflow_intake")


def _run(as_of: datetime, **conf: Any) -> Any:
    run = _dag().test(logical_date=as_of, run_conf={"as_of": as_of.isoformat(), **conf})
    assert run.state == "success"
    return run


def _apply_outcomes(as_of: datetime) -> Any:
    """The intake does not wait for its onboardings: workflow_outcomes applies each once it ended."""
    run = load_dag("workflow_outcomes").test(logical_date=as_of)
    assert run.state == "success"
    return run


def _instance(workflow: Any, instance_id: str) -> dict[str, Any]:
    return workflow.context.store.get("instance", instance_id)


def _open_tasks(workflow: Any, instance_id: str) -> list[dict[str, Any]]:
    return [
        t for t in workflow.context.store.all("task") if t["processInstanceId"] == instance_id and not t.get("ended")
    ]


def test_requests_get_rights_cleared_matches_and_onboarding_exposes_only_what_passed(
    airflow_db: Path, env: dict
) -> None:
    workflow, smintio, ledger = env["workflow"], env["smintio"], env["ledger"]
    requests = env["requests"]
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    first = _run(as_of)
    applied = _apply_outcomes(as_of)

    # OWS-3: the launch request gets the one approved banner whose rights cover gb through the deadline
    launch = _instance(workflow, requests["launch"].id)
    assert launch["variables"]["matched_assets"] == ["asset-summer-01"]
    assert launch["variables"]["match_outcome"] == "matched" and launch["outcome"] == "matched"
    assert launch["ended"] and _open_tasks(workflow, launch["id"]) == []
    (comment,) = launch["comments"]
    assert "asset-summer-01" in comment["message"]
    refused = {
        e.subject: e.details["reason"]
        for e in ledger.audit_trail(run_id=first.run_id)
        if e.action == "rights_refused" and e.details["target"] == f"workflow:{launch['id']}"
    }
    assert set(refused) == {"asset-summer-02", "asset-summer-03"}
    assert "gb" in refused["asset-summer-02"] and "expired" in refused["asset-summer-03"]
    holiday = _instance(workflow, requests["holiday"].id)
    assert holiday["outcome"] == "no_match" and holiday["variables"]["matched_assets"] == []
    # an unreadable request is quarantined, the requester told, the request left open to be corrected
    (bad_request,) = [q for q in ledger.quarantined(source="workflow") if q.kind == "creative_request"]
    assert bad_request.ref == requests["unreadable"].id and "deadline" in bad_request.reason
    unreadable = _instance(workflow, requests["unreadable"].id)
    assert not unreadable["ended"] and "cannot be matched" in unreadable["comments"][0]["message"]
    routed = _instance(workflow, requests["routed"].id)
    assert not routed["ended"] and routed["comments"] == [] and "matched_assets" not in routed["variables"]

    # OWS-6: one onboarding per incoming asset; only the approved, rights-cleared one is exposed
    onboarding = [i for i in workflow.context.store.all("instance") if i["processDefinitionKey"] == "dam_onboarding"]
    assert sorted(i["businessKey"] for i in onboarding) == [
        "dam_onboarding:brandfolder:bf-201:v1",
        "dam_onboarding:brandfolder:bf-202:v1",
        "dam_onboarding:brandfolder:bf-203:v1",
    ]
    published = [
        a for a in smintio.context.store.all("asset") if a.get("external_reference", "").startswith("brandfolder:")
    ]
    (asset,) = published
    assert asset["external_reference"] == "brandfolder:bf-201" and asset["approval_status"] == "approved"
    assert asset["categories"] == ["product_shot"]
    assert {"product", "onboarded", "source:brandfolder"} <= set(asset["tags"])
    assert asset["metadata"]["sku"] == "201" and asset["metadata"]["license_holder"] == "Brandfolder customer"
    decisions = {
        e.subject: e for e in ledger.audit_trail(run_id=applied.run_id) if e.details.get("target") == "smintio:assets"
    }
    assert decisions["brandfolder:bf-201"].action == "published"
    assert (
        decisions["brandfolder:bf-202"].action == "not_exposed"
        and "rejected" in decisions["brandfolder:bf-202"].details["reason"]
    )
    assert decisions["brandfolder:bf-203"].action == "rights_refused"
    assert "expired" in decisions["brandfolder:bf-203"].details["reason"]
    incoming = [q for q in ledger.quarantined(source="workflow") if q.kind == "incoming_asset"]
    assert len(incoming) == 1 and "source_id" in incoming[0].reason
    batch = _instance(workflow, env["batch"].id)
    assert batch["ended"] and batch["variables"]["onboarding_started"] == 3
    assert ledger.lookup("asset", "brandfolder", "bf-201", "smintio") == asset["id"]

    # a re-run of the same window starts, writes and comments nothing again
    instances = len(workflow.context.store.all("instance"))
    asset_writes = len(smintio.context.store.history(kind="asset"))
    comments = {i["id"]: len(i.get("comments", [])) for i in workflow.context.store.all("instance")}
    again = _run(as_of)
    assert ledger.effects(run_id=again.run_id) == []
    assert ledger.effects(run_id=_apply_outcomes(as_of).run_id) == []
    # the unreadable request, still open and unchanged, is not quarantined a second time
    assert len([q for q in ledger.quarantined(source="workflow") if q.kind == "creative_request"]) == 1
    assert len(workflow.context.store.all("instance")) == instances
    assert len(smintio.context.store.history(kind="asset")) == asset_writes
    assert {i["id"]: len(i.get("comments", [])) for i in workflow.context.store.all("instance")} == comments


def test_a_dry_run_starts_and_writes_nothing(airflow_db: Path, env: dict) -> None:
    run = _run(datetime.now(UTC) + timedelta(minutes=10), dry_run=True)
    workflow = env["workflow"]
    assert [i for i in workflow.context.store.all("instance") if i["processDefinitionKey"] == "dam_onboarding"] == []
    launch = _instance(workflow, env["requests"]["launch"].id)
    assert not launch["ended"] and "matched_assets" not in launch["variables"]
    audit = {e.subject: e.action for e in env["ledger"].audit_trail(run_id=run.run_id)}
    assert (
        audit["brandfolder:bf-203"] == "rights_check_refused" and audit["brandfolder:bf-201"] == "rights_check_allowed"
    )


def _collection_of(smintio: Any, instance_id: str) -> dict[str, Any] | None:
    found = [
        c
        for c in smintio.context.store.all("collection")
        if c["external_reference"] == f"creative-request:{instance_id}"
    ]
    assert len(found) <= 1
    return found[0] if found else None


def test_a_requests_matches_are_a_collection_in_smintio_that_loses_a_match_whose_rights_lapse(
    airflow_db: Path, env: dict
) -> None:
    """OWS-3: creatives see a request's rights-cleared matches as a Smint.io collection, filled
    once per request and match; a match whose license stops covering the request leaves it."""
    workflow, smintio, ledger = env["workflow"], env["smintio"], env["ledger"]
    launch_id = env["requests"]["launch"].id
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    first = _run(as_of)

    collection = _collection_of(smintio, launch_id)
    assert collection is not None and collection["asset_ids"] == ["asset-summer-01"]
    assert "product_launch" in collection["name"]
    target = f"smintio:collection:{launch_id}"
    (slot,) = ledger.deliveries(target_prefix=target)
    assert (slot.asset_id, slot.remote_id, slot.status) == ("asset-summer-01", collection["id"], "delivered")
    added = [e for e in ledger.audit_trail(run_id=first.run_id) if e.action == "added_to_collection"]
    assert [(e.subject, e.details["target"]) for e in added] == [("asset-summer-01", target)]
    # no match, no collection; the unreadable and the routed requests get none either
    for name in ("holiday", "unreadable", "routed"):
        assert _collection_of(smintio, env["requests"][name].id) is None

    # a re-run of the window adds nothing
    writes = len(smintio.context.store.history(kind="collection"))
    again = _run(as_of)
    assert len(smintio.context.store.history(kind="collection")) == writes
    assert ledger.effects(run_id=again.run_id) == []

    # the match's license now ends before the request's deadline: the next run's license sync
    # reads the change, and the match leaves the collection (the request itself stays answered)
    lapse = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    smintio.admin("POST", f"smintio/lpt/{seed.stable_uuid('lpt', 2)}", json={"valid_until": lapse})
    later = _run(as_of + timedelta(hours=1))
    assert _collection_of(smintio, launch_id)["asset_ids"] == []
    (slot,) = ledger.deliveries(target_prefix=target)
    assert slot.status == "withdrawn"
    (left,) = [e for e in ledger.audit_trail(run_id=later.run_id) if e.action == "left_collection"]
    assert left.subject == "asset-summer-01" and left.details["target"] == target
    assert "expired" in left.details["reason"]
    assert _instance(workflow, launch_id)["variables"]["matched_assets"] == ["asset-summer-01"]

    # and it leaves once: the run after that changes nothing
    writes = len(smintio.context.store.history(kind="collection"))
    _run(as_of + timedelta(hours=2))
    assert len(smintio.context.store.history(kind="collection")) == writes
    assert _collection_of(smintio, launch_id)["asset_ids"] == []


def _listed(source_id: str, *, days: int, regions: list[str], groups: list[str]) -> dict[str, Any]:
    """An asset as the source DAM lists it (its own names: ``id``, ``url``)."""
    return {
        "id": source_id,
        "version": 1,
        "name": f"Launch banner {source_id}",
        "content_type": "image/png",
        "url": f"https://brandfolder.example/assets/{source_id}",
        "tags": [LAUNCH],
        "metadata": {"campaign": "spring launch"},
        "license": {**_license(days), "regions": regions, "channels": ["online"], "holder": "Agency EMEA"},
        "access_groups": groups,
    }


def test_onboarding_reads_the_source_dam_listing_and_exposes_with_access_and_a_license_the_rights_gate_reads(
    airflow_db: Path, env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OWS-6: a batch naming only its id is read from the source DAM's paged listing; what
    onboarding approves is exposed with its access permissions and its usage rules as a license
    in the license index, which the rights gate of a later creative request reads."""
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

    workflow, smintio, ledger = env["workflow"], env["smintio"], env["ledger"]
    # the source DAM is served beside the Workflow sandbox; two assets a page, so it pages
    conn = source_dam_connection(workflow.url, page_size=2, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_SOURCE_DAM_DEFAULT", json.dumps(conn))
    listing = [
        _listed("bf-301", days=365, regions=["europe"], groups=["brand_team", "agency_emea"]),
        _listed("bf-302", days=365, regions=["worldwide"], groups=[]),
        _listed("bf-303", days=-3, regions=["worldwide"], groups=["brand_team"]),
    ]
    workflow.admin("PUT", "source-dam/batches/bf-batch-2", json={"assets": listing})
    hook = OpenTextWorkflowHook()
    batch = hook.start_instance(
        "dam_ingest", name="Brandfolder batch 2", variables={"source_dam": "brandfolder", "batch_id": "bf-batch-2"}
    )
    workflow.admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "dam_onboarding": {
                "outcome": "approved",
                "after_seconds": 0,
                "variables": {"categories": ["banner"]},
                "by_variable": {"source_id": {"bf-202": "rejected"}},
            }
        },
    )
    as_of = datetime.now(UTC) + timedelta(minutes=10)
    _run(as_of)
    applied = _apply_outcomes(as_of)  # the intake does not wait: workflow_outcomes publishes what ended

    # the listing was read page by page (three assets, two a page), one onboarding each
    listed = workflow.context.stats.snapshot()["by_route"]
    assert listed["GET /source-dam/v1/batches/bf-batch-2/assets"] == 2
    keys = sorted(
        i["businessKey"]
        for i in workflow.context.store.all("instance")
        if i["processDefinitionKey"] == "dam_onboarding" and i["businessKey"].split(":")[2].startswith("bf-30")
    )
    assert keys == [f"dam_onboarding:brandfolder:bf-30{n}:v1" for n in (1, 2, 3)]
    assert (
        _instance(workflow, batch.id)["ended"] and _instance(workflow, batch.id)["variables"]["onboarding_started"] == 3
    )

    by_ref = {a.get("external_reference"): a for a in smintio.context.store.all("asset")}
    restricted, internal = by_ref["brandfolder:bf-301"], by_ref["brandfolder:bf-302"]
    assert "brandfolder:bf-303" not in by_ref  # expired license: not exposed
    # access permissions on the exposed assets
    assert restricted["access"] == {"visibility": "restricted", "groups": ["agency_emea", "brand_team"]}
    assert internal["access"] == {"visibility": "internal", "groups": []}
    assert restricted["approval_status"] == "approved"
    assert restricted["metadata"]["source_url"] == "https://brandfolder.example/assets/bf-301"
    # the usage rules are the asset's license (in Smint.io and in the license index), not metadata
    ref = restricted["license_purchase_transaction_uuid"]
    assert ref and restricted["license"]["reference"] == ref and restricted["license"]["regions"] == ["europe"]
    assert "license_regions" not in restricted["metadata"] and "license_valid_until" not in restricted["metadata"]
    row = ledger.license(ref)
    assert row is not None and row.asset_id == restricted["id"] and row.provider == "brandfolder"
    assert row.expires_at is not None and row.expires_at > datetime.now(UTC) + timedelta(days=300)
    (slot,) = ledger.deliveries(asset_id="brandfolder:bf-301", target_prefix="smintio:assets")
    assert slot.license_ref == ref
    published = {e.subject: e for e in ledger.audit_trail(run_id=applied.run_id) if e.action == "published"}
    assert published["brandfolder:bf-301"].details["license"] == ref

    # the rights gate reads that license: a request in Germany gets the banner, one in the US not
    workflow.admin("POST", "clock", json={"advance_seconds": 3600})
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    request = {"campaign_type": "product_launch", "format": "banner", "deadline": deadline, "channel": "online"}
    germany = hook.start_instance("creative_request_intake", name="DE", variables={**request, "region": "de"})
    america = hook.start_instance("creative_request_intake", name="US", variables={**request, "region": "us"})
    later = _run(as_of + timedelta(hours=1))
    assert restricted["id"] in _instance(workflow, germany.id)["variables"]["matched_assets"]
    assert internal["id"] in _instance(workflow, germany.id)["variables"]["matched_assets"]
    us_matches = _instance(workflow, america.id)["variables"]["matched_assets"]
    assert restricted["id"] not in us_matches and internal["id"] in us_matches
    (refusal,) = [
        e
        for e in ledger.audit_trail(run_id=later.run_id)
        if e.action == "rights_refused" and e.subject == restricted["id"]
    ]
    assert refusal.details["target"] == f"workflow:{america.id}" and refusal.details["license"] == ref

    # a re-run of the first window reads the listing again and changes nothing
    writes = len(smintio.context.store.history(kind="asset"))
    again = _run(as_of)
    assert ledger.effects(run_id=again.run_id) == []
    assert len(smintio.context.store.history(kind="asset")) == writes
